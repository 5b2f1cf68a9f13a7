package sample

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/testpaths"
)

// specsDir is ../shared/specs relative to the module root.
var specsDir = testpaths.Shared("specs")

var realSpecGlobs = []string{
	"ob-uk-v4.0/*.yaml",
	"berlin-group-nextgenpsd2/*.yaml",
	"redocly-museum-oas31/openapi.yaml",
	"swagger-petstore3/openapi.yaml",
	"petstore-oas3/*.yaml",
	"oai-tictactoe-oas31/*.yaml",
}

// unsatisfiable lists real schemas no value can satisfy ("file#name" ->
// reason); none so far.
var unsatisfiable = map[string]string{}

// TestRealSpecs generates every components/schemas entry of the real
// specifications, as a request (IgnoreExamples, Request) and as a response
// (IgnoreExamples), and validates it against the schema compiled from the
// same document: draft 4 after the nullable rewrite for OpenAPI 3.0 (with
// readOnly, respectively writeOnly, properties dropped from required), draft
// 2020-12 for 3.1.
func TestRealSpecs(t *testing.T) {
	var files []string
	for _, g := range realSpecGlobs {
		m, _ := filepath.Glob(filepath.Join(specsDir, g))
		if len(m) == 0 {
			// A missing folder fails rather than skips: the shared specs
			// sit beside the repository wherever the tests run, and a
			// skip would pass with none of them checked.
			t.Fatalf("no specification matches %s under %s", g, specsDir)
		}
		files = append(files, m...)
	}
	start := time.Now()
	total := 0
	for _, file := range files {
		rel, _ := filepath.Rel(specsDir, file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := parseYAML(t, data)
		root, _ := doc.(map[string]any)
		version, _ := root["openapi"].(string)
		oas31 := strings.HasPrefix(version, "3.1")
		components, _ := root["components"].(map[string]any)
		schemas, _ := components["schemas"].(map[string]any)
		total += len(schemas)

		for _, mode := range []struct {
			name    string
			request bool
			drop    string
		}{{"request", true, "readOnly"}, {"response", false, "writeOnly"}} {
			t.Run(rel+"/"+mode.name, func(t *testing.T) {
				validationDoc := deepCopy(doc)
				if !oas31 {
					rewrite30(validationDoc, validationDoc, mode.drop)
				}
				const base = "https://dynapi.invalid/spec.json"
				c := newCompiler(oas31)
				if err := c.AddResource(base, validationDoc); err != nil {
					t.Fatal(err)
				}
				opts := Options{Resolve: resolverFor(doc), IgnoreExamples: true, Request: mode.request}
				for _, name := range sortedKeys(schemas) {
					t.Run(name, func(t *testing.T) {
						if why, ok := unsatisfiable[rel+"#"+name]; ok {
							t.Skip(why)
						}
						sch, err := c.Compile(base + "#/components/schemas/" + escapePointerToken(name))
						if err != nil {
							t.Fatalf("compile: %v", err)
						}
						v := Generate(schemas[name], opts)
						if err := validateValue(sch, v); err != nil {
							t.Errorf("generated %s\n%v", mustJSON(v), err)
						}
					})
				}
			})
		}
	}
	t.Logf("%d schemas from %d documents, each as request and response, in %v", total, len(files), time.Since(start))
}
