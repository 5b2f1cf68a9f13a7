package specs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/specs"
)

// TestOneOfWithAnythingBranchReadAsAnyOf: the Berlin Group file declares
// its update-authorisation bodies as a oneOf one of whose branches is {},
// which matches anything; read strictly, every embedded-SCA body matches
// two branches and is refused. It is read as anyOf, with a warning naming
// the place, and each body validates.
func TestOneOfWithAnythingBranchReadAsAnyOf(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sharedSpecs, "berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := specs.Load(data, "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var op *specs.Operation
	for _, o := range doc.Operations {
		if o.ID == "updateConsentsPsuData" {
			op = o
		}
	}
	if op == nil || op.Body == nil {
		t.Fatal("updateConsentsPsuData has no body")
	}
	warned := false
	for _, w := range doc.Warnings {
		if w.Code == "one_of_read_as_any_of" && strings.HasPrefix(w.Pointer, "/paths/~1v1~1consents~1{consentId}~1authorisations~1{authorisationId}/put/") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no one_of_read_as_any_of warning at updateConsentsPsuData's body: %+v", doc.Warnings)
	}
	schema := op.Body.Media[0].Schema
	cases := []struct {
		name string
		body map[string]any
		ok   bool
	}{
		{"one-time code", map[string]any{"scaAuthenticationData": "123456"}, true},
		{"method selection", map[string]any{"authenticationMethodId": "SMS_OTP"}, true},
		{"psu data", map[string]any{"psuData": map[string]any{"password": "secret"}}, true},
		{"empty", map[string]any{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := schema.Validate(tc.body); (err == nil) != tc.ok {
				t.Fatalf("validate %v: %v, want ok=%v", tc.body, err, tc.ok)
			}
		})
	}
}
