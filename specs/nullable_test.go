package specs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/specs"
)

// TestNullableEnumListingNull: an OpenAPI 3.0 nullable enum that already
// lists null, as real fintech documents write it, is accepted with no
// warning, and its values, null included, validate as written.
func TestNullableEnumListingNull(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "nullable-enum-listing-null.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := specs.Load(data, "application/yaml", specs.Options{})
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	for _, w := range doc.Warnings {
		t.Errorf("warning %+v", w)
	}
	body := doc.Operations[0].Body.Media[0].Schema
	cases := []struct {
		name  string
		value any
		ok    bool
	}{
		{"listed value", map[string]any{"access_token": "t", "subtype": "checking"}, true},
		{"null", map[string]any{"access_token": "t", "subtype": nil}, true},
		{"unlisted value", map[string]any{"access_token": "t", "subtype": "current"}, false},
		{"wrong type", map[string]any{"access_token": "t", "subtype": 401}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := body.Validate(tc.value); (err == nil) != tc.ok {
				t.Fatalf("validate %v: %v, want ok=%v", tc.value, err, tc.ok)
			}
		})
	}
}
