package specs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

// TestLoadSchemaGivenByReference: a schema that is only a reference
// compiles as the schema it points to, shared by the operations naming it,
// with the outcome it had when each operation compiled its own: the same
// validation, refusals named where the operation names the schema, a
// circle of references loading as before, and the backtracking-pattern
// warning for request schemas only.
func TestLoadSchemaGivenByReference(t *testing.T) {
	const head = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{`
	cases := []struct {
		name, doc string
		// refused is the pointer of the one invalid_schema refusal, "" for
		// a document that loads.
		refused string
		// risky is whether a pattern_unbounded_* warning is expected.
		risky bool
	}{
		{name: "chain shared by two operations", doc: head + `
		  "/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}},"responses":{"200":{"description":"d"}}}},
		  "/b":{"put":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/B"}}}},"responses":{"200":{"description":"d"}}}}},
		  "components":{"schemas":{"A":{"$ref":"#/components/schemas/B"},"B":{"type":"object","required":["n"],"properties":{"n":{"type":"integer"}}}}}}`},
		{name: "circle of references", doc: head + `
		  "/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}},"responses":{"200":{"description":"d"}}}}},
		  "components":{"schemas":{"A":{"$ref":"#/components/schemas/B"},"B":{"$ref":"#/components/schemas/A"}}}}`},
		{name: "refused where the operation names it", doc: head + `
		  "/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Bad"}}}},"responses":{"200":{"description":"d"}}}}},
		  "components":{"schemas":{"Bad":{"type":"string","pattern":"("}}}}`,
			refused: "/paths/~1a/post/requestBody/content/application~1json/schema"},
		{name: "response-only schema is not searched for risky patterns", doc: head + `
		  "/a":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Risky"},"example":["aa"]}}}}}}},
		  "components":{"schemas":{"Risky":{"type":"array","items":{"type":"string","pattern":"^(?!x)(a+)+$"}}}}}`},
		{name: "request naming a schema a response compiled first is searched", doc: head + `
		  "/a":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Risky"},"example":["aa"]}}}}},
		        "post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Risky"}}}},"responses":{"200":{"description":"d"}}}}},
		  "components":{"schemas":{"Risky":{"type":"array","items":{"type":"string","pattern":"^(?!x)(a+)+$"}}}}}`,
			risky: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := specs.Load([]byte(tc.doc), "application/json", specs.Options{})
			if tc.refused != "" {
				var e *engine.Error
				if !errors.As(err, &e) || len(e.Violations) != 1 || e.Violations[0].Pointer != tc.refused || e.Violations[0].Code != "invalid_schema" {
					t.Fatalf("got %v, want one invalid_schema refusal at %s", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			risky := false
			for _, w := range doc.Warnings {
				risky = risky || strings.HasPrefix(w.Code, "pattern_unbounded")
			}
			if risky != tc.risky {
				t.Errorf("pattern warning %v, want %v: %+v", risky, tc.risky, doc.Warnings)
			}
			for _, op := range doc.Operations {
				if op.Body == nil || tc.name == "circle of references" {
					continue
				}
				s := op.Body.Media[0].Schema
				if s == nil {
					t.Fatalf("%s: no body schema", op.ID)
				}
				good, bad := any(map[string]any{"n": 1}), any(map[string]any{"n": "x"})
				if tc.risky {
					good, bad = []any{"aa"}, []any{"b"}
				}
				if s.Validate(good) != nil || s.Validate(bad) == nil {
					t.Errorf("%s: the referenced schema does not validate as written", op.ID)
				}
			}
		})
	}
}
