package specs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// DefaultYAMLExpansion is how many times its own size a YAML document may
// grow to once its aliases are expanded, unless Options say otherwise.
const DefaultYAMLExpansion = 10

// yamlExpansionSlack is added to every YAML budget, so a small document may
// still use a few aliases.
const yamlExpansionSlack = 64 << 10

// maxDocumentDepth bounds how deep a document's values nest. Real bank
// documents nest 13 deep; kin-openapi and jsonschema/v6 take time growing
// faster than the square of the nesting (3,000 levels of "items" in 75 kB
// took 50 s), and YAML aliases referring to themselves nest without end.
const maxDocumentDepth = 100

// decode parses a document as JSON or YAML: by content type when it names
// one, else by sniffing the first significant byte. Map keys are always
// strings (YAML's `200:` becomes "200") and numbers stay json.Number so no
// precision is lost. What is ambiguous is refused rather than guessed:
// duplicate keys, invalid UTF-8, lone surrogates, non-scalar YAML keys.
// YAML aliases are expanded within a budget proportional to the input
// (expansion times its size, plus a little), checked while expanding, so a
// "billion laughs" costs no more than its budget. Every error is an
// *engine.Error whose violation points where the problem is.
func decode(data []byte, contentType string, expansion int) (any, error) {
	if isJSON(data, contentType) {
		return decodeJSON(data)
	}
	return decodeYAML(data, expansion)
}

// parseFault is the error for a document that cannot be decoded.
func parseFault(pointer, code, msg string) *engine.Error {
	return invalid("the document cannot be parsed: "+msg,
		engine.Violation{Location: "document", Pointer: pointer, Code: code, Message: msg})
}

// isJSON tells whether data should be parsed as JSON.
func isJSON(data []byte, contentType string) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return true
		case strings.Contains(mt, "yaml"):
			return false
		}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// decodeJSON decodes data with strictjson, which refuses duplicate keys,
// invalid UTF-8, lone surrogates, numbers out of range and values nested
// more than maxDocumentDepth levels below the top one, and says where.
func decodeJSON(data []byte) (any, error) {
	v, err := strictjson.Limits{MaxDepth: maxDocumentDepth + 1}.Decode(data)
	var se *strictjson.Error
	if !errors.As(err, &se) {
		return v, err
	}
	at := textPosition(data, int64(se.Offset))
	code := se.Code
	switch code {
	case strictjson.CodeMalformed:
		code = "invalid_json"
	case strictjson.CodeTooDeep:
		return nil, parseFault(se.Pointer, code, "values nest deeper than "+strconv.Itoa(maxDocumentDepth)+" levels ("+at+")")
	}
	return nil, parseFault(se.Pointer, code, "not acceptable JSON: "+se.Message+" ("+at+")")
}

// textPosition names a byte offset of data as a line and column, both from 1.
func textPosition(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// decodeYAML parses YAML into nodes, which keep aliases unexpanded, and
// converts them within the expansion budget.
func decodeYAML(data []byte, expansion int) (any, error) {
	if !utf8.Valid(data) {
		return nil, parseFault("", "invalid_utf8", "the document is not valid UTF-8 ("+textPosition(data, int64(invalidUTF8At(data)))+")")
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, parseFault("", "invalid_yaml", "not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if node.Kind == 0 {
		return nil, parseFault("", "invalid_yaml", "the document is empty")
	}
	if expansion <= 0 {
		expansion = DefaultYAMLExpansion
	}
	y := &yamlDecoder{budget: expansion*len(data) + yamlExpansionSlack, expansion: expansion}
	return y.value(&node, 0)
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// yamlDecoder converts YAML nodes into the same generic values
// encoding/json produces, with string keys and json.Number numbers,
// charging every value it makes against its budget.
type yamlDecoder struct {
	budget    int      // what may still be made: a value costs 1 plus its text
	expansion int      // the factor the budget was made with, for messages
	path      []string // keys and indexes down to the value being made
}

// fault is an error at the value being made.
func (y *yamlDecoder) fault(code, msg string) *engine.Error {
	return parseFault(ptr("", y.path...), code, msg)
}

// spend charges n against the budget.
func (y *yamlDecoder) spend(n int) error {
	y.budget -= n
	if y.budget < 0 {
		return y.fault("yaml_expansion", fmt.Sprintf(
			"the YAML grows past %d times its size when its aliases are expanded (aliases nested too deep or referring to themselves); expand them or send JSON",
			y.expansion))
	}
	return nil
}

func (y *yamlDecoder) value(n *yaml.Node, depth int) (any, error) {
	if depth > maxDocumentDepth {
		return nil, y.fault("too_deep", "values nest deeper than "+strconv.Itoa(maxDocumentDepth)+" levels (an alias inside what it names nests without end)")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return y.value(n.Content[0], depth)
	case yaml.AliasNode:
		return y.value(n.Alias, depth)
	case yaml.MappingNode:
		return y.mapping(n, depth)
	case yaml.SequenceNode:
		if err := y.spend(1); err != nil {
			return nil, err
		}
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			y.path = append(y.path, strconv.Itoa(i))
			v, err := y.value(c, depth+1)
			y.path = y.path[:len(y.path)-1]
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		if err := y.spend(1 + len(n.Value)); err != nil {
			return nil, err
		}
		v, err := yamlScalar(n)
		if err != nil {
			return nil, y.fault("invalid_yaml", fmt.Sprintf("line %d: %v", n.Line, err))
		}
		return v, nil
	}
	return nil, y.fault("invalid_yaml", fmt.Sprintf("line %d: unsupported YAML node", n.Line))
}

// mapping converts a mapping. Its own keys win over merged ones ("<<"),
// earlier merges over later ones, and a key given twice is refused.
func (y *yamlDecoder) mapping(n *yaml.Node, depth int) (any, error) {
	if err := y.spend(1); err != nil {
		return nil, err
	}
	m := make(map[string]any, len(n.Content)/2)
	var merges []any
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return nil, y.fault("invalid_key", fmt.Sprintf("line %d: a mapping key must be a plain value, not a list or mapping", k.Line))
		}
		if err := y.spend(1 + len(k.Value)); err != nil {
			return nil, err
		}
		if k.Tag == "!!merge" {
			merged, err := y.value(v, depth+1)
			if err != nil {
				return nil, err
			}
			merges = append(merges, merged)
			continue
		}
		y.path = append(y.path, k.Value)
		if _, dup := m[k.Value]; dup {
			return nil, y.fault("duplicate_key", fmt.Sprintf("line %d: the key %s appears more than once in its mapping", k.Line, strconv.Quote(k.Value)))
		}
		val, err := y.value(v, depth+1)
		y.path = y.path[:len(y.path)-1]
		if err != nil {
			return nil, err
		}
		m[k.Value] = val
	}
	for _, merged := range merges {
		sources, isList := merged.([]any)
		if !isList {
			sources = []any{merged}
		}
		for _, src := range sources {
			sm, _ := src.(map[string]any)
			for mk, mv := range sm {
				if _, exists := m[mk]; !exists {
					m[mk] = mv
				}
			}
		}
	}
	return m, nil
}

// yamlScalar converts a scalar node.
func yamlScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return n.Value, nil // too big for int64: keep the text
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s is not a number JSON can hold", n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case "!!timestamp":
		// Dates stay the text the author wrote: OpenAPI has no date type.
		return n.Value, nil
	default:
		return n.Value, nil
	}
}

// DecodeDocument parses a JSON or YAML document into generic values, as
// Load does with the same options.
func DecodeDocument(data []byte, contentType string, opts Options) (any, error) {
	return decode(data, contentType, opts.YAMLExpansion)
}
