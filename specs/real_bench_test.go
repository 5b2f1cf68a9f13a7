package specs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/specs"
)

// largestSharedSpecs are the three largest real documents of
// ../shared/specs: a Swagger 2.0 JSON one and two OpenAPI 3.0 YAML ones.
var largestSharedSpecs = []string{
	"ob-uk-v3.1.7-swagger2/account-info-swagger.json",
	"ob-uk-v4.0/account-info-openapi.yaml",
	"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml",
}

// BenchmarkLoadReal loads each of the three largest real documents;
// cpu-ms/op is the process's CPU time per load, as in BenchmarkLoadLarge.
func BenchmarkLoadReal(b *testing.B) {
	for _, name := range largestSharedSpecs {
		data, err := os.ReadFile(filepath.Join(sharedSpecs, name))
		if err != nil {
			b.Fatal(err)
		}
		contentType := "application/json"
		if strings.HasSuffix(name, ".yaml") {
			contentType = "application/yaml"
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if _, err := specs.Load(data, contentType, specs.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
