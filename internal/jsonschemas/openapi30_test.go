package jsonschemas_test

import (
	"encoding/json"
	"testing"

	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// TestRewriteNullable: nullable and x-nullable make a single type allow
// null, and an enum list it once; an enum shared with another schema is
// not changed.
func TestRewriteNullable(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"nullable", `{"type":"string","nullable":true}`, `{"nullable":true,"type":["string","null"]}`},
		{"x-nullable", `{"type":"integer","x-nullable":true}`, `{"type":["integer","null"],"x-nullable":true}`},
		{"enum gains null", `{"type":"string","nullable":true,"enum":["a"]}`, `{"enum":["a",null],"nullable":true,"type":["string","null"]}`},
		{"enum lists null already", `{"type":"string","nullable":true,"enum":["a",null]}`, `{"enum":["a",null],"nullable":true,"type":["string","null"]}`},
		{"not nullable", `{"type":"string","nullable":false}`, `{"nullable":false,"type":"string"}`},
		{"no single type", `{"nullable":true}`, `{"nullable":true}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(c.in), &m); err != nil {
				t.Fatal(err)
			}
			enum, _ := m["enum"].([]any)
			// The enum has room to grow in place, filled with a sentinel.
			shared := append(make([]any, 0, len(enum)+1), enum...)
			shared[:cap(shared)][len(enum)] = "sentinel"
			if enum != nil {
				m["enum"] = shared
			}
			jsonschemas.RewriteNullable(m)
			if got, _ := json.Marshal(m); string(got) != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			if shared[:cap(shared)][len(enum)] != "sentinel" {
				t.Error("the shared enum's array was written")
			}
		})
	}
}
