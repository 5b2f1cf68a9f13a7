package specs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decode parses a document as JSON or YAML: by content type when it names
// one, else by sniffing the first significant byte. Map keys are always
// strings (YAML's `200:` becomes "200") and JSON numbers stay json.Number so
// no precision is lost.
func decode(data []byte, contentType string) (any, error) {
	if isJSON(data, contentType) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		if dec.More() {
			return nil, fmt.Errorf("not valid JSON: data after the top-level value")
		}
		return v, nil
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if node.Kind == 0 {
		return nil, fmt.Errorf("the document is empty")
	}
	budget := maxYAMLValues
	return yamlValue(&node, &budget, 0)
}

// Limits on YAML expansion: aliases can make a small document expand
// exponentially ("billion laughs") or refer to themselves.
const (
	maxYAMLValues = 4 << 20
	maxYAMLDepth  = 2000
)

var errYAMLTooLarge = errors.New("the YAML expands into too many values (aliases nested too deep or referring to themselves)")

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

// yamlValue converts a YAML node into the same generic values encoding/json
// produces, with string keys and json.Number numbers.
func yamlValue(n *yaml.Node, budget *int, depth int) (any, error) {
	*budget--
	if *budget < 0 || depth > maxYAMLDepth {
		return nil, errYAMLTooLarge
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], budget, depth+1)
	case yaml.AliasNode:
		return yamlValue(n.Alias, budget, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merged, err := yamlValue(v, budget, depth+1)
				if err != nil {
					return nil, err
				}
				if mm, ok := merged.(map[string]any); ok {
					for mk, mv := range mm {
						if _, exists := m[mk]; !exists {
							m[mk] = mv
						}
					}
				}
				continue
			}
			val, err := yamlValue(v, budget, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := yamlValue(c, budget, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func yamlScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
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
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
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
// Load does.
func DecodeDocument(data []byte, contentType string) (any, error) { return decode(data, contentType) }
