package sample

import (
	"os"
	"path/filepath"
	"testing"
	"encoding/json"
)

func TestPeek(t *testing.T) {
	for _, c := range [][2]string{
		{"ob-uk-v4.0/payment-initiation-openapi.yaml", "OBWriteDomesticStandingOrderConsent5"},
		{"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml", "paymentInitiation_json"},
		{"redocly-museum-oas31/openapi.yaml", "MuseumDailyHours"},
		{"swagger-petstore3/openapi.yaml", "Pet"},
	} {
		data, _ := os.ReadFile(filepath.Join(specsDir, c[0]))
		doc := parseYAML(t, data)
		s, _ := pointer(doc, "#/components/schemas/"+c[1])
		for _, ign := range []bool{true, false} {
			v := Generate(s, Options{Resolve: resolverFor(doc), IgnoreExamples: ign})
			b, _ := json.MarshalIndent(v, "", " ")
			t.Logf("%s ignore=%v:\n%s", c[1], ign, b)
		}
	}
}
