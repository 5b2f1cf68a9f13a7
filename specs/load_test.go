package specs_test

import (
	"errors"
	"github.com/dynapi/dynapi/internal/testpaths"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

var sharedSpecs = testpaths.Shared("specs")

func TestLoadRealDocuments(t *testing.T) {
	cases := []struct {
		file, version, mount, serverHost, host string
		operations                             int
	}{
		{"ob-uk-v4.0/account-info-openapi.yaml", "3.0.0", "/open-banking/v4.0/aisp", "", "", 29},
		{"ob-uk-v3.1.7-swagger2/account-info-swagger.json", "2.0", "/open-banking/v3.1/aisp", "", "", 29},
		{"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml", "3.0.1", "/psd2", "api.testbank.com", "", 38},
		{"obp-dynamic-endpoint/dynamicEndpointSwagger.json", "2.0", specs.DefaultMount, "", "obp_mock", 2},
		{"petstore-swagger2/petstore.json", "2.0", "/v1", "petstore.swagger.io", "", 3},
		{"oai-tictactoe-oas31/tictactoe.yaml", "3.1.0", specs.DefaultMount, "", "", 3},
		{"redocly-museum-oas31/openapi.yaml", "3.1.0", "/_mock/docs/openapi/museum-api", "redocly.com", "", 8},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(sharedSpecs, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := specs.Load(data, "", specs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if doc.SpecVersion != tc.version || doc.Mount != tc.mount || doc.ServerHost != tc.serverHost || doc.Host != tc.host || len(doc.Operations) != tc.operations {
				t.Fatalf("got version %q mount %q server %q host %q ops %d", doc.SpecVersion, doc.Mount, doc.ServerHost, doc.Host, len(doc.Operations))
			}
			for _, op := range doc.Operations {
				if op.ID == "" || !strings.HasPrefix(op.Path, "/") {
					t.Errorf("operation %+v", op)
				}
			}
		})
	}
}

func TestLoadRefusals(t *testing.T) {
	cases := []struct{ name, doc, code string }{
		{"empty", "", engine.CodeInvalidDocument},
		{"array", "[1]", engine.CodeInvalidDocument},
		{"yaml scalar", "hello", engine.CodeInvalidDocument},
		{"swagger 1.2", `{"swagger":"1.2"}`, engine.CodeInvalidDocument},
		{"missing target", `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{"$ref":"#/nope"}}}`, engine.CodeUnresolvedRef},
		{"url ref", `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{"$ref":"https://example.com/a.json"}}}`, engine.CodeUnresolvedRef},
		{"path without slash", `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"a":{"get":{"responses":{"200":{"description":"d"}}}}}}`, engine.CodeInvalidDocument},
		{"bad parameter location", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"parameters":[{"name":"x","in":"body2","schema":{"type":"string"}}],"responses":{"200":{"description":"d"}}}}}}`, engine.CodeInvalidDocument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := specs.Load([]byte(tc.doc), "", specs.Options{})
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Status != 400 {
				t.Fatalf("got %v, want a 400 %s", err, tc.code)
			}
		})
	}
}

func TestLoadWarnings(t *testing.T) {
	doc := `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /items/{id}:
    get:
      responses:
        '200':
          description: d
          content:
            application/json:
              schema: {type: object, required: [n], properties: {n: {type: integer, enum: [1, 1, 2]}}}
              example: {n: "one"}
  /other:
    get:
      operationId: same
      responses: {'200': {description: d}}
    post:
      operationId: same
      responses: {'200': {description: d}}
`
	d, err := specs.Load([]byte(doc), "application/yaml", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, w := range d.Warnings {
		got[w.Code] = true
	}
	for _, code := range []string{"operation_id_generated", "path_parameter_undeclared", "example_mismatch", "enum_duplicate", "operation_id_duplicate"} {
		if !got[code] {
			t.Errorf("no %s warning in %+v", code, d.Warnings)
		}
	}
	if d.Operations[0].ID != "get_items_id" {
		t.Errorf("generated id %q", d.Operations[0].ID)
	}
}

// FuzzLoad feeds arbitrary bytes to the loader: it must refuse or accept,
// never panic, and every refusal is an *engine.Error.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"petstore-oas3/petstore.yaml", "petstore-swagger2/petstore.json", "oai-tictactoe-oas31/tictactoe.yaml"} {
		data, err := os.ReadFile(filepath.Join(sharedSpecs, name))
		if err != nil {
			f.Fatal(err) // the shared specs are missing: fail, never fuzz without them
		}
		f.Add(data)
	}
	f.Add([]byte(`{"openapi":"3.0.0","paths":{"/a/{b}":{"get":{"parameters":[{"$ref":"#/x"}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := specs.Load(data, "", specs.Options{})
		var e *engine.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("not an engine error: %v", err)
		}
	})
}

func TestLoadRefusesYAMLBombs(t *testing.T) {
	cases := map[string]string{
		"self alias":     "a: &a [*a]\n",
		"billion laughs": "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := specs.Load([]byte(doc), "application/yaml", specs.Options{})
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.CodeInvalidDocument {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestLoadPathItemRef checks that operations of a path item given by
// reference compile their schemas where the item really is.
func TestLoadPathItemRef(t *testing.T) {
	doc := `{"openapi":"3.1.0","info":{"title":"t","version":"1"},
	  "paths":{"/a/{n}":{"$ref":"#/components/pathItems/A"}},
	  "components":{"pathItems":{"A":{"parameters":[{"name":"n","in":"path","required":true,"schema":{"type":"integer"}}],
	    "get":{"responses":{"200":{"description":"d"}}}}}}}`
	d, err := specs.Load([]byte(doc), "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := d.Operations[0].Params[0]
	if p.Kind != specs.KindInteger || p.Schema == nil || p.Schema.Validate("x") == nil {
		t.Fatalf("parameter %+v not compiled from the referenced item", p)
	}
}
