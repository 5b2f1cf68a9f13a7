package specs

import (
	"slices"
	"testing"
)

// TestKeyOrder reads the order a document writes its content and examples
// keys in, as YAML and as JSON, falling back to sorted keys where the
// order is unknown.
func TestKeyOrder(t *testing.T) {
	const yamlDoc = `
paths:
  /a:
    get:
      responses:
        '200':
          content:
            text/plain: {}
            application/json:
              examples:
                zebra: {value: 1}
                mid: {value: 2}
                alpha: {value: 3}
components:
  examples: &shared
    b: {value: 1}
    a: {value: 2}
  other:
    examples: *shared
`
	const jsonDoc = `{"paths": {"/a": {"get": {"responses": {"200": {"content": {
		"text/plain": {}, "application/json": {"examples": {"zebra": {"value": 1}, "mid": {"value": 2}, "alpha": {"value": 3}}}}}}}}}}`
	examples := map[string]any{"alpha": 3, "mid": 2, "zebra": 1}
	content := map[string]any{"application/json": nil, "text/plain": nil}
	cases := []struct {
		name, pointer string
		m             map[string]any
		want          []string
	}{
		{"named examples as written", "/paths/~1a/get/responses/200/content/application~1json/examples", examples, []string{"zebra", "mid", "alpha"}},
		{"media types as written", "/paths/~1a/get/responses/200/content", content, []string{"text/plain", "application/json"}},
		{"keys the source lacks go last, sorted", "/paths/~1a/get/responses/200/content",
			map[string]any{"application/json": nil, "text/plain": nil, "b/b": nil, "a/a": nil}, []string{"text/plain", "application/json", "a/a", "b/b"}},
		{"an unknown object is sorted", "/nowhere/examples", examples, []string{"alpha", "mid", "zebra"}},
	}
	for _, doc := range []struct{ name, data string }{{"yaml", yamlDoc}, {"json", jsonDoc}} {
		for _, tc := range cases {
			t.Run(doc.name+"/"+tc.name, func(t *testing.T) {
				got := newKeyOrder([]byte(doc.data), "").keys(tc.pointer, tc.m)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("keys %v, want %v", got, tc.want)
				}
			})
		}
	}
	t.Run("yaml/an alias is ordered where its target is written", func(t *testing.T) {
		k := newKeyOrder([]byte(yamlDoc), "")
		ab := map[string]any{"a": 2, "b": 1}
		if got := k.keys("/components/examples", ab); !slices.Equal(got, []string{"b", "a"}) {
			t.Fatalf("target: %v", got)
		}
		if got := k.keys("/components/other/examples", ab); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("alias: %v, want sorted", got)
		}
	})
	t.Run("one key reads nothing", func(t *testing.T) {
		k := newKeyOrder([]byte(yamlDoc), "")
		if got := k.keys("/paths/~1a/get/responses/200/content", map[string]any{"x": nil}); !slices.Equal(got, []string{"x"}) || k.read {
			t.Fatalf("keys %v, source read: %v", got, k.read)
		}
	})
	t.Run("swagger 2.0 media types follow produces", func(t *testing.T) {
		k := swagger2KeyOrder(map[string]any{"produces": []any{"application/json; charset=utf-8", "application/json"}})
		got := k.keys("/components/responses/R/content", map[string]any{"application/json": nil, "application/json; charset=utf-8": nil})
		if !slices.Equal(got, []string{"application/json; charset=utf-8", "application/json"}) {
			t.Fatalf("keys %v", got)
		}
	})
}
