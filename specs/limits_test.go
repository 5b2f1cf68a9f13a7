package specs_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

// generated is an OpenAPI document with n GET operations.
func generated(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"openapi":"3.0.3","info":{"title":"generated","version":"1"},"paths":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"/r%d/{id}":{"get":{"operationId":"op%d","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string","maxLength":10}}],"responses":{"200":{"description":"ok"}}}}`, i, i)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

func TestLoadRefusesAmbiguousDocuments(t *testing.T) {
	const info = `"info":{"title":"t","version":"1"}`
	const op = `{"get":{"responses":{"200":{"description":"d"}}}}`
	cases := []struct{ name, doc, pointer, code string }{
		{"no info", `{"openapi":"3.0.3","paths":{}}`, "/info", "required"},
		{"info without a title", `{"openapi":"3.0.3","info":{"version":"1"},"paths":{}}`, "/info/title", "required"},
		{"info without a version", `{"openapi":"3.0.3","info":{"title":"t"},"paths":{}}`, "/info/version", "required"},
		{"no paths", `{"openapi":"3.0.3",` + info + `}`, "/paths", "required"},
		{"webhooks only", `{"openapi":"3.1.0",` + info + `,"webhooks":{"w":{"post":{"responses":{"200":{"description":"d"}}}}}}`, "/paths", "required"},
		{"swagger without paths", `{"swagger":"2.0",` + info + `}`, "/paths", "required"},
		{"paths not an object", `{"openapi":"3.0.3",` + info + `,"paths":[]}`, "/paths", "type"},
		{"dot-dot path", `{"openapi":"3.0.3",` + info + `,"paths":{"/a/../admin":` + op + `}}`, "/paths/~1a~1..~1admin", "ambiguous_path"},
		{"dot path", `{"openapi":"3.0.3",` + info + `,"paths":{"/a/./b":` + op + `}}`, "/paths/~1a~1.~1b", "ambiguous_path"},
		{"encoded dot-dot path", `{"openapi":"3.0.3",` + info + `,"paths":{"/a/%2E%2e/b":` + op + `}}`, "/paths/~1a~1%2E%2e~1b", "ambiguous_path"},
		{"encoded slash path", `{"openapi":"3.0.3",` + info + `,"paths":{"/a%2fb":` + op + `}}`, "/paths/~1a%2fb", "ambiguous_path"},
		{"backslash path", `{"openapi":"3.0.3",` + info + `,"paths":{"/a\\..\\b":` + op + `}}`, "/paths/~1a\\..\\b", "ambiguous_path"},
		{"dot-dot server", `{"openapi":"3.0.3",` + info + `,"servers":[{"url":"https://bank.example/v1/../admin"}],"paths":{}}`, "/servers/0/url", "ambiguous_path"},
		{"encoded server", `{"openapi":"3.0.3",` + info + `,"servers":[{"url":"/v1/%2e%2e/admin"}],"paths":{}}`, "/servers/0/url", "ambiguous_path"},
		{"double-encoded server", `{"openapi":"3.0.3",` + info + `,"servers":[{"url":"/v1/%252e%252e/admin"}],"paths":{}}`, "/servers/0/url", "ambiguous_path"},
		{"server variable", `{"openapi":"3.0.3",` + info + `,"servers":[{"url":"/{base}/admin","variables":{"base":{"default":".."}}}],"paths":{}}`, "/servers/0/url", "ambiguous_path"},
		{"dot-dot basePath", `{"swagger":"2.0",` + info + `,"basePath":"/v1/..","paths":{}}`, "/basePath", "ambiguous_path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specs.Load([]byte(tc.doc), "", specs.Options{})
			refusal(t, err, tc.pointer, tc.code)
		})
	}
}

func TestLoadOperationCap(t *testing.T) {
	if _, err := specs.Load(generated(20), "", specs.Options{MaxOperations: 20}); err != nil {
		t.Fatalf("20 operations under a cap of 20: %v", err)
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		max  int
	}{
		{"past the cap", generated(21), 20},
		{"past the default cap", generated(specs.DefaultMaxOperations + 1), 0},
		{"counted through path item references", []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},
		  "paths":{"/a":{"$ref":"#/components/pathItems/B"},"/b":{"$ref":"#/components/pathItems/B"}},
		  "components":{"pathItems":{"B":{"$ref":"#/components/pathItems/C"},
		    "C":{"get":{"responses":{"200":{"description":"d"}}},"put":{"responses":{"200":{"description":"d"}}}}}}}`), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specs.Load(tc.doc, "", specs.Options{MaxOperations: tc.max})
			var e *engine.Error
			if !errors.As(err, &e) || e.Status != 413 || e.Code != engine.CodePayloadTooLarge ||
				len(e.Violations) != 1 || e.Violations[0].Pointer != "/paths" || e.Violations[0].Code != "max_operations" {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestLoadIsLinear checks that loading grows in proportion to the
// operations: kin-openapi's YAML parser and jsonschema/v6's per-root
// bookkeeping each made it quadratic, 8 times the operations costing 15
// times the bytes.
func TestLoadIsLinear(t *testing.T) {
	allocated := func(n int) uint64 {
		doc := generated(n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := specs.Load(doc, "", specs.Options{MaxOperations: n}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(10) // warm up what is allocated once per process
	small, large := allocated(250), allocated(2000)
	t.Logf("250 operations: %d bytes, 2000: %d", small, large)
	if ratio := float64(large) / float64(small); ratio > 12 {
		t.Fatalf("8 times the operations allocate %.1f times the bytes: loading is not linear", ratio)
	}
}

// TestInlineIsBounded: references that nest into eight to the twelfth
// values are inlined only as far as the document's size allows.
func TestInlineIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"d",
	  "content":{"application/json":{"schema":{"$ref":"#/components/schemas/S0"}}}}}}}},"components":{"schemas":{`)
	for i := range 12 {
		fmt.Fprintf(&b, `"S%d":{"type":"object","properties":{`, i)
		for j := range 8 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"p%d":{"$ref":"#/components/schemas/S%d"}`, j, i+1)
		}
		b.WriteString(`}},`)
	}
	b.WriteString(`"S12":{"type":"string"}}}}`)
	d, err := specs.Load([]byte(b.String()), "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inlined := d.Inline(d.Operations[0].Responses[0].Node())
	if n := countAll(inlined); n > 100_000 {
		t.Fatalf("a %d-byte document inlined into %d values", b.Len(), n)
	}
}

// countAll counts the values of a decoded tree.
func countAll(v any) int {
	n := 1
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += countAll(e)
		}
	case []any:
		for _, e := range x {
			n += countAll(e)
		}
	}
	return n
}

func TestPathFault(t *testing.T) {
	for p, ambiguous := range map[string]bool{
		"/open-banking/v4.0/aisp": false, "/a/{id}.json": false, "/a/..b": false, "/a/b..": false, "": false,
		"/a/..": true, "/./a": true, "/a/%2e%2E": true, "/a%2Fb": true, "/a%5cb": true, "/a%252e": true, `/a\b`: true,
	} {
		if got := specs.PathFault(p) != ""; got != ambiguous {
			t.Errorf("PathFault(%q) = %q", p, specs.PathFault(p))
		}
	}
}
