package consent_test

import (
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine/consent"
)

// TestRenderedStatusesInEnum: every status word a built-in UK v4.0 profile
// renders a consent with is one of the Status enum of the consent
// response of the document it binds, so no answer can carry a status the
// TPP's schema refuses.
func TestRenderedStatusesInEnum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile, file, schema string
	}{
		{"uk-ob-v4.0-ais", ukV4, "OBReadConsentResponse1"},
		{"uk-ob-v4.0-pis", ukPIS, "OBWriteDomesticConsentResponse5"},
		{"uk-ob-v4.0-cbpii", ukCBPII, "OBFundsConfirmationConsentResponse1"},
		{"uk-ob-v4.0-vrp", ukVRP, "OBDomesticVRPConsentResponse"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			p, ok := consent.Builtin().Get(tc.profile)
			if !ok {
				t.Fatalf("no built-in profile %s", tc.profile)
			}
			node, ok := load(t, tc.file).doc.Resolve("#/components/schemas/" + tc.schema + "/properties/Data/properties/Status/enum")
			enum, _ := node.([]any)
			if !ok || len(enum) == 0 {
				t.Fatalf("%s has no Status enum in %s", tc.file, tc.schema)
			}
			for status, word := range p.Statuses {
				if !slices.Contains(enum, any(word)) {
					t.Errorf("%s renders %s as %q, which is not in %v", tc.profile, status, word, enum)
				}
			}
		})
	}
}
