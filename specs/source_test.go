package specs_test

import (
	"testing"

	"github.com/dynapi/dynapi/specs"
)

// TestLoadJSONWithFixedReference: kin-openapi reads a JSON document's own
// text only while it says what the decoded tree says; a local reference
// that lacks its '#', fixed in the tree, must not reach kin-openapi as the
// external reference the text still holds.
func TestLoadJSONWithFixedReference(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"OpenAPI 3", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},
		  "paths":{"/a":{"get":{"operationId":"a","responses":{"400":{"$ref":"/components/responses/Bad"}}}}},
		  "components":{"responses":{"Bad":{"description":"d"}}}}`},
		{"Swagger 2.0", `{"swagger":"2.0","info":{"title":"t","version":"1"},
		  "paths":{"/a":{"get":{"operationId":"a","responses":{"400":{"$ref":"/responses/Bad"}}}}},
		  "responses":{"Bad":{"description":"d"}}}`},
	}
	for _, tc := range cases {
		for _, contentType := range []string{"application/json", ""} {
			t.Run(tc.name+" "+contentType, func(t *testing.T) {
				doc, err := specs.Load([]byte(tc.doc), contentType, specs.Options{})
				if err != nil {
					t.Fatal(err)
				}
				fixed := false
				for _, w := range doc.Warnings {
					fixed = fixed || w.Code == "ref_missing_hash"
				}
				if !fixed || len(doc.Operations) != 1 || len(doc.Operations[0].Responses) != 1 {
					t.Fatalf("warnings %+v, operations %+v", doc.Warnings, doc.Operations)
				}
			})
		}
	}
}
