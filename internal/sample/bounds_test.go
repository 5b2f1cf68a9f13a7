package sample

import (
	"strconv"
	"strings"
	"testing"
)

// TestGenerateStopsOnNestedReferences: schemas whose every required
// property refers to the next level stand for eight to the twelfth values;
// generation stops near nodeLimit instead of building them.
func TestGenerateStopsOnNestedReferences(t *testing.T) {
	schemas := map[string]any{}
	for i := range 12 {
		props, required := map[string]any{}, []any{}
		for j := range 8 {
			name := "p" + strconv.Itoa(j)
			props[name] = map[string]any{"$ref": "#/S" + strconv.Itoa(i+1)}
			required = append(required, name)
		}
		schemas["S"+strconv.Itoa(i)] = map[string]any{"type": "object", "required": required, "properties": props}
	}
	schemas["S12"] = map[string]any{"type": "string"}
	resolve := func(ref string) (any, bool) {
		s, ok := schemas[strings.TrimPrefix(ref, "#/")]
		return s, ok
	}
	v := Generate(map[string]any{"$ref": "#/S0"}, Options{Resolve: resolve})
	if n := values(v); n > 2*nodeLimit {
		t.Fatalf("generated %d values, past %d", n, 2*nodeLimit)
	}
}

func values(v any) int {
	n := 1
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += values(e)
		}
	case []any:
		for _, e := range x {
			n += values(e)
		}
	}
	return n
}
