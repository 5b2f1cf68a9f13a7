package specs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

// TestLoadSharedExamplesWarnEachUse: a response and a request body shared
// by reference are checked once, and each operation using them still gets
// its warning, as when each was checked on its own.
func TestLoadSharedExamplesWarnEachUse(t *testing.T) {
	doc := `{"openapi":"3.0.3","info":{"title":"t","version":"1"},
	  "paths":{
	    "/a":{"get":{"operationId":"a","responses":{"200":{"description":"d"},"400":{"$ref":"#/components/responses/Bad"}}},
	          "post":{"operationId":"b","requestBody":{"$ref":"#/components/requestBodies/New"},"responses":{"400":{"$ref":"#/components/responses/Bad"}}}},
	    "/c":{"put":{"operationId":"c","requestBody":{"$ref":"#/components/requestBodies/New"},"responses":{"400":{"$ref":"#/components/responses/Bad"}}}}},
	  "components":{
	    "responses":{"Bad":{"description":"d","content":{"application/json":{
	      "schema":{"type":"object","properties":{"code":{"type":"string","pattern":"^\\w{0,4}$"}}},"example":{"code":"toolong"}}}}},
	    "requestBodies":{"New":{"content":{"application/json":{
	      "schema":{"type":"object","required":["n"],"properties":{"n":{"type":"integer"}}},"example":{"n":"one"}}}}}}}`
	d, err := specs.Load([]byte(doc), "application/json", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, w := range d.Warnings {
		if w.Code == "example_mismatch" {
			count[w.Pointer]++
		}
	}
	want := map[string]int{
		"/components/responses/Bad/content/application~1json/example":     3,
		"/components/requestBodies/New/content/application~1json/example": 2,
	}
	if len(count) != len(want) {
		t.Fatalf("example warnings %v, want %v", count, want)
	}
	for p, n := range want {
		if count[p] != n {
			t.Errorf("%s warned %d times, want %d (once per operation)", p, count[p], n)
		}
	}
	for _, op := range d.Operations {
		if op.Body != nil && (op.Body.Media[0].Schema == nil || op.Body.Media[0].Schema.Validate(map[string]any{"n": 1}) != nil) {
			t.Errorf("%s: the shared body schema does not validate", op.ID)
		}
	}
}

// TestLoadStructuralRefusalFirst: kin-openapi's structural refusal is the
// answer even when later steps would refuse the document too.
func TestLoadStructuralRefusalFirst(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"ambiguous server too", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"/a/{v}"}],
		  "paths":{"/x":{"get":{"parameters":"oops","responses":{"200":{"description":"d"}}}}}}`},
		{"uncompilable schema too", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},
		  "paths":{"/x":{"post":{"parameters":"oops",
		    "requestBody":{"content":{"application/json":{"schema":{"type":"object","minProperties":-1}}}},"responses":{"200":{"description":"d"}}}}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specs.Load([]byte(tc.doc), "application/json", specs.Options{})
			var e *engine.Error
			if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "not a valid OpenAPI document") {
				t.Fatalf("got %v, want kin-openapi's refusal", err)
			}
		})
	}
}
