package consentauth

import "testing"

// TestVerifies checks PKCE S256 against RFC 7636 appendix B and refuses
// verifiers outside the RFC's alphabet and lengths.
func TestVerifies(t *testing.T) {
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	for _, tc := range []struct {
		name, verifier string
		want           bool
	}{
		{"RFC 7636 appendix B", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", true},
		{"another verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", false},
		{"too short", "dBjftJeZ4CVP", false},
		{"outside the alphabet", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", false},
		{"the challenge itself", challenge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verifies(tc.verifier, challenge); got != tc.want {
				t.Errorf("verifies(%q) = %v; want %v", tc.verifier, got, tc.want)
			}
		})
	}
}

// TestIntentOf reads the consent of the claims parameter, id_token or
// userinfo, and refuses what names none or two.
func TestIntentOf(t *testing.T) {
	for _, tc := range []struct {
		name, claims, want string
		fault              bool
	}{
		{"id_token", `{"id_token":{"openbanking_intent_id":{"value":"c1","essential":true}}}`, "c1", false},
		{"userinfo", `{"userinfo":{"openbanking_intent_id":{"value":"c2"}}}`, "c2", false},
		{"both agree", `{"id_token":{"openbanking_intent_id":{"value":"c3"}},"userinfo":{"openbanking_intent_id":{"value":"c3"}}}`, "c3", false},
		{"both differ", `{"id_token":{"openbanking_intent_id":{"value":"c3"}},"userinfo":{"openbanking_intent_id":{"value":"c4"}}}`, "", true},
		{"none named", `{"id_token":{"acr":{"essential":true}}}`, "", true},
		{"not JSON", `{"id_token":`, "", true},
		{"absent", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, faults := intentOf(tc.claims)
			if got != tc.want || (faults != nil) != tc.fault {
				t.Errorf("intentOf = %q, %v; want %q, fault %v", got, faults, tc.want, tc.fault)
			}
		})
	}
}
