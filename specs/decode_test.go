package specs_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

// bomb is a "billion laughs": each level aliases the one before it eight
// times, so 300-odd bytes stand for eight to the seventh values.
const bomb = `openapi: 3.0.3
info: {title: lol, version: "1"}
paths: {}
x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol]
x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a]
x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b]
x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c]
x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d]
x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e]
x-g: &g [*f, *f, *f, *f, *f, *f, *f, *f]
`

// refusal asserts err is a 400 invalid_document whose violation has code
// at pointer ("*" for any pointer).
func refusal(t *testing.T, err error, pointer, code string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != engine.CodeInvalidDocument {
		t.Fatalf("got %v, want a 400 invalid_document", err)
	}
	for _, v := range e.Violations {
		if (pointer == "*" || v.Pointer == pointer) && v.Code == code {
			return e
		}
	}
	t.Fatalf("no %s violation at %q in %+v", code, pointer, e.Violations)
	return nil
}

func TestDecodeRefusesAmbiguity(t *testing.T) {
	cases := []struct {
		name, ct, doc, pointer, code string
	}{
		{"duplicate JSON key", "application/json", `{"a": {"b": 1, "b": 2}}`, "/a/b", "duplicate_key"},
		{"duplicate JSON key escaped differently", "", `{"a": 1, "\u0061": 2}`, "/a", "duplicate_key"},
		{"invalid UTF-8 in a JSON string", "", "{\"a\": [\"x\xff\"]}", "/a/0", "invalid_utf8"},
		{"invalid UTF-8 in a JSON key", "", "{\"\xc3\": 1}", "*", "invalid_utf8"},
		{"lone surrogate in JSON", "", `{"a": "\ud800"}`, "/a", "lone_surrogate"},
		{"data after JSON", "", `{"a": 1} {"b": 2}`, "", "invalid_json"},
		{"duplicate YAML key", "application/yaml", "a:\n  b: 1\n  b: 2\n", "/a/b", "duplicate_key"},
		{"duplicate YAML key through an alias", "application/yaml", "k: &k b\na:\n  b: 1\n  *k : 2\n", "/a/b", "duplicate_key"},
		{"invalid UTF-8 in YAML", "application/yaml", "a: x\xffy\n", "", "invalid_utf8"},
		{"lone surrogate in YAML", "application/yaml", "a: \"\\ud800\"\n", "", "invalid_yaml"},
		{"YAML list as a key", "application/yaml", "? [a, b]\n: 1\n", "", "invalid_key"},
		{"YAML infinity", "application/yaml", "a: [1, .inf]\n", "/a/1", "invalid_yaml"},
		{"self-referencing alias", "application/yaml", "a: &a [*a]\n", "*", "too_deep"},
		{"billion laughs", "application/yaml", bomb, "*", "yaml_expansion"},
		{"JSON nested too deep", "", `{"a":` + strings.Repeat("[", 101) + strings.Repeat("]", 101) + `}`, "/a" + strings.Repeat("/0", 100), "too_deep"},
		{"YAML nested too deep", "application/yaml", "a: " + strings.Repeat("[", 101) + strings.Repeat("]", 101) + "\n", "*", "too_deep"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specs.DecodeDocument([]byte(tc.doc), tc.ct, specs.Options{})
			refusal(t, err, tc.pointer, tc.code)
		})
	}
}

func TestDecodeKeepsWhatIsClear(t *testing.T) {
	cases := []struct{ name, ct, doc, want string }{
		{"same key at two levels", "", `{"a": {"a": 1}}`, `{"a":{"a":1}}`},
		{"surrogate pair", "", `{"a": "\ud83d\ude00"}`, `{"a":"😀"}`},
		{"alias key resolves to its value", "application/yaml", "k: &k b\n*k : 1\n", `{"b":1,"k":"b"}`},
		{"own keys win over merged ones", "application/yaml", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n", `{"base":{"x":1,"y":2},"m":{"x":3,"y":2}}`},
		{"earlier merges win", "application/yaml", "p: &p {x: 1}\nq: &q {x: 2, y: 2}\nm: {<<: [*p, *q]}\n", `{"m":{"x":1,"y":2},"p":{"x":1},"q":{"x":2,"y":2}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := specs.DecodeDocument([]byte(tc.doc), tc.ct, specs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(tree); string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestYAMLExpansionIsProportional checks the alias budget grows with the
// document: the same anchor aliased a few times is fine, aliased past the
// expansion factor it is refused, whatever the document's size.
func TestYAMLExpansionIsProportional(t *testing.T) {
	anchor := "[" + strings.Repeat("value-of-some-length, ", 5000) + "end]" // ~110 kB, past the fixed slack
	doc := func(aliases int) []byte {
		var b strings.Builder
		b.WriteString("anchor: &a " + anchor + "\n")
		for i := range aliases {
			fmt.Fprintf(&b, "copy%d: *a\n", i)
		}
		return []byte(b.String())
	}
	if _, err := specs.DecodeDocument(doc(5), "application/yaml", specs.Options{}); err != nil {
		t.Fatalf("5 aliases within the default factor of %d: %v", specs.DefaultYAMLExpansion, err)
	}
	_, err := specs.DecodeDocument(doc(12), "application/yaml", specs.Options{})
	refusal(t, err, "*", "yaml_expansion")
	if _, err := specs.DecodeDocument(doc(12), "application/yaml", specs.Options{YAMLExpansion: 20}); err != nil {
		t.Fatalf("12 aliases with a factor of 20: %v", err)
	}
}

// FuzzDecodeDocument feeds arbitrary bytes to the decoder: it must refuse
// with an *engine.Error or return a tree no larger than the expansion
// budget allows, never panic.
func FuzzDecodeDocument(f *testing.F) {
	for _, seed := range []string{bomb, "a: &a [*a]\n", `{"a":1,"a":2}`, "a: &x {b: 1}\nc: {<<: *x, d: 2}\n", "{\"a\":\"\xff\"}"} {
		f.Add([]byte(seed), "")
		f.Add([]byte(seed), "application/yaml")
	}
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		tree, err := specs.DecodeDocument(data, contentType, specs.Options{YAMLExpansion: 2})
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("not a 400 engine error: %v", err)
			}
			return
		}
		// The decoder charges a value 1 plus its text; numbers may be
		// written longer than in the source ("1e3" becomes "1000").
		if size, budget := treeSize(tree), 2*(2*len(data)+64<<10); size > budget {
			t.Fatalf("a %d-byte document decoded into %d units, over %d", len(data), size, budget)
		}
	})
}

// treeSize counts a decoded tree as the decoder charges it.
func treeSize(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 1
		for k, e := range x {
			n += 1 + len(k) + treeSize(e)
		}
		return n
	case []any:
		n := 1
		for _, e := range x {
			n += treeSize(e)
		}
		return n
	case string:
		return 1 + len(x)
	case json.Number:
		return 1 + len(x)
	}
	return 1
}
