package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// ---- regexp engine for jsonschema: RE2 when it can, regexp2 otherwise ----

type regexp2Re struct{ re *regexp2.Regexp }

func (r regexp2Re) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r regexp2Re) String() string { return r.re.String() }

func compileTestRegexp(s string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(s); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		re, err = regexp2.Compile(s, regexp2.None)
		if err != nil {
			return nil, err
		}
	}
	re.MatchTimeout = time.Second
	return regexp2Re{re}, nil
}

// ---- documents ----

// normalize turns YAML-decoded values into JSON-decoded ones (string keys,
// timestamps as strings).
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	}
	return v
}

func parseYAML(t testing.TB, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return normalize(v)
}

// deepCopy copies a decoded JSON document.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// pointer resolves a local JSON pointer reference ("#/a/b") in doc.
func pointer(doc any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#") {
		return nil, false
	}
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return nil, false
	}
	if frag == "" {
		return doc, true
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func resolverFor(doc any) Resolver {
	return func(ref string) (any, bool) { return pointer(doc, ref) }
}

// escapePointerToken escapes a JSON pointer token and URL-encodes it for a
// fragment.
func escapePointerToken(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	return url.PathEscape(s)
}

// rewrite30 adapts an OpenAPI 3.0 document so draft-4 validation means the
// same thing: nullable becomes a type array. With dropFlag set to "readOnly"
// (requests) or "writeOnly" (responses), properties carrying that flag are
// removed from required, as OpenAPI 3.0 specifies.
func rewrite30(v any, doc any, dropFlag string) {
	switch x := v.(type) {
	case map[string]any:
		if b, _ := x["nullable"].(bool); b {
			switch t := x["type"].(type) {
			case string:
				x["type"] = []any{t, "null"}
			}
		}
		// A repeated enum value (OBFrequency6Code lists WEEK twice) breaks
		// draft 4's "enum items must be unique"; it changes no meaning.
		if e, ok := x["enum"].([]any); ok {
			var uniq []any
			for _, v := range e {
				if !slices.ContainsFunc(uniq, func(u any) bool { return jsonEqual(u, v) }) {
					uniq = append(uniq, v)
				}
			}
			x["enum"] = uniq
		}
		if dropFlag != "" {
			props, _ := x["properties"].(map[string]any)
			if req, ok := x["required"].([]any); ok && props != nil {
				var keep []any
				for _, r := range req {
					name, _ := r.(string)
					if !hasFlag(props[name], dropFlag, doc, 0) {
						keep = append(keep, r)
					}
				}
				if len(keep) == 0 {
					delete(x, "required")
				} else {
					x["required"] = keep
				}
			}
		}
		for _, e := range x {
			rewrite30(e, doc, dropFlag)
		}
	case []any:
		for _, e := range x {
			rewrite30(e, doc, dropFlag)
		}
	}
}

func hasFlag(s any, flag string, doc any, depth int) bool {
	m, _ := s.(map[string]any)
	if m == nil || depth > 8 {
		return false
	}
	if b, _ := m[flag].(bool); b {
		return true
	}
	if ref, ok := m["$ref"].(string); ok {
		t, _ := pointer(doc, ref)
		return hasFlag(t, flag, doc, depth+1)
	}
	return false
}

// newCompiler returns a compiler for an OpenAPI 3.0 (draft 4) or 3.1
// (draft 2020-12) document.
func newCompiler(oas31 bool) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	if oas31 {
		c.DefaultDraft(jsonschema.Draft2020)
	} else {
		c.DefaultDraft(jsonschema.Draft4)
	}
	c.AssertFormat()
	c.UseRegexpEngine(compileTestRegexp)
	return c
}

// validateValue validates v, and v after a JSON round trip, against sch.
func validateValue(sch *jsonschema.Schema, v any) error {
	if err := sch.Validate(v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	back, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if err := sch.Validate(back); err != nil {
		return fmt.Errorf("after JSON round trip: %v", err)
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}
