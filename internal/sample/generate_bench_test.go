package sample

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate generates every components/schemas entry of real bank
// documents, as mock answers do (examples used) and as requests that must
// validate (examples ignored); one op is one document's schemas. The
// "checks" variants share one Checks among a document's schemas, as a
// caller generating for a whole document would.
func BenchmarkGenerate(b *testing.B) {
	for _, file := range []string{
		"ob-uk-v4.0/account-info-openapi.yaml",
		"ob-uk-v4.0/payment-initiation-openapi.yaml",
		"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml",
	} {
		data, err := os.ReadFile(filepath.Join(specsDir, file))
		if err != nil {
			b.Fatal(err)
		}
		doc := parseYAML(b, data)
		components, _ := doc.(map[string]any)["components"].(map[string]any)
		schemas, _ := components["schemas"].(map[string]any)
		names := sortedKeys(schemas)
		for _, mode := range []struct {
			name   string
			opts   Options
			shared bool
		}{
			{"response", Options{Resolve: resolverFor(doc)}, false},
			{"request", Options{Resolve: resolverFor(doc), IgnoreExamples: true, Request: true}, false},
			{"response-checks", Options{Resolve: resolverFor(doc)}, true},
			{"request-checks", Options{Resolve: resolverFor(doc), IgnoreExamples: true, Request: true}, true},
		} {
			b.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file)+"/"+mode.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					opts := mode.opts
					if mode.shared {
						opts.Checks = &Checks{}
					}
					for _, name := range names {
						Generate(schemas[name], opts)
					}
				}
			})
		}
	}
}
