package obpconsent_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/obpconsent"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestConsentJWTVerifies: the Consent-JWT is an ES256 JWT of the engine's
// keys carrying OBP's claims.
func TestConsentJWTVerifies(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	body := accountAccess(tpp, "current-1")
	body["entitlements"] = []map[string]string{{"bank_id": "demo-bank", "role_name": "CanGetAccountsHeldAtOneBank"}}
	inst.GrantAdmin(t, "demo-bank", "CanGetAccountsHeldAtOneBank")
	c := accepted(t, inst.Admin(), "demo-bank", body)
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(inst.Anonymous().Get(t, "/.well-known/jwks.json").Body))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(c.JWT, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithTimeFunc(inst.Clock.Now), jwt.WithAudience(tpp.id))
	if err != nil {
		t.Fatalf("the Consent-JWT does not verify against the engine's keys: %v", err)
	}
	if typ := tok.Header["typ"]; typ != "consent+jwt" {
		t.Errorf("typ %v", typ)
	}
	admin := inst.AdminID(t)
	for claim, want := range map[string]any{"jti": c.ConsentID, "sub": admin, "createdByUserId": admin, "iss": "dynapi"} {
		if claims[claim] != want {
			t.Errorf("%s = %v, want %v", claim, claims[claim], want)
		}
	}
	for _, claim := range []string{"iat", "nbf", "exp", "views", "entitlements"} {
		if _, ok := claims[claim]; !ok {
			t.Errorf("no %s claim", claim)
		}
	}
	if r := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/banks/demo-bank/accounts",
		Header: map[string]string{"Authorization": "Bearer " + c.JWT}}); r.Status != http.StatusUnauthorized {
		t.Errorf("a Consent-JWT taken for an access token: %d %s", r.Status, r.Body)
	}
}

// TestCreateRefuses: a consent delegates only what the customer has and
// may delegate; each fault is named, and nothing is stored.
func TestCreateRefuses(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	_, _, _, _ = inst.BankWithAccounts(t, "b1")
	alice := inst.Token(inst.Login(t, "alice", "Alice-passw0rd-long"))
	with := func(change func(map[string]any)) map[string]any {
		b := accountAccess(tpp, "alice-1")
		change(b)
		return b
	}
	for _, tc := range []struct {
		name, method string
		caller       enginetest.Caller
		body         any
		status       int
		code         string
		pointers     []string
	}{
		{"roles that grant access", "SMS", alice, with(func(b map[string]any) {
			b["entitlements"] = []map[string]string{{"bank_id": "", "role_name": "CanCreateEntitlementAtAnyBank"},
				{"bank_id": "b1", "role_name": "CanCreateEntitlementAtOneBank"}, {"bank_id": "", "role_name": "CanCreateUser"}}
		}), http.StatusBadRequest, "entitlement_not_delegable",
			[]string{"/entitlements/0/role_name", "/entitlements/1/role_name", "/entitlements/2/role_name"}},
		{"a role the customer lacks", "SMS", alice, with(func(b map[string]any) {
			b["entitlements"] = []map[string]string{{"bank_id": "b1", "role_name": "CanGetAccountsHeldAtOneBank"}}
		}), http.StatusBadRequest, "consent_not_held", []string{"/entitlements/0/role_name"}},
		{"another customer's account", "SMS", alice, accountAccess(tpp, "alice-1", "bob-1"),
			http.StatusBadRequest, "consent_not_held", []string{"/account_access/1/account_id"}},
		{"an unknown SCA method", "FAX", alice, accountAccess(tpp, "alice-1"), http.StatusBadRequest, "validation_failed", []string{"/sca_method"}},
		{"SMS without a phone number", "SMS", alice, with(func(b map[string]any) { delete(b, "phone_number") }),
			http.StatusBadRequest, "validation_failed", []string{"/phone_number"}},
		{"a time to live past the maximum", "SMS", alice, with(func(b map[string]any) { b["time_to_live"] = 400 * 24 * 3600 }),
			http.StatusBadRequest, "validation_failed", []string{"/time_to_live"}},
		{"nothing named", "IMPLICIT", alice, map[string]any{"consumer_id": tpp.id}, http.StatusBadRequest, "validation_failed", []string{"/account_access"}},
		{"an unknown consumer", "SMS", alice, with(func(b map[string]any) { b["consumer_id"] = "no-such-consumer" }),
			http.StatusBadRequest, "validation_failed", []string{"/consumer_id"}},
		{"a client's token", "SMS", tpp.bearer, accountAccess(tpp, "alice-1"), http.StatusForbidden, "forbidden", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.PostJSON(t, "/banks/b1/my/consents/"+tc.method, tc.body)
			refusedWith(t, r, tc.status, tc.code)
			p := r.Problem(t)
			for _, ptr := range tc.pointers {
				if !hasPointer(p.Violations, ptr) {
					t.Errorf("no violation at %s: %s", ptr, r.Body)
				}
			}
		})
	}
	if list := alice.Get(t, "/my/consents").JSON(t)["consents"].([]any); len(list) != 0 {
		t.Errorf("refused requests stored consents: %v", list)
	}
}

// hasPointer tells whether a violation is at pointer.
func hasPointer(vs []engine.Violation, pointer string) bool {
	return slices.ContainsFunc(vs, func(v engine.Violation) bool { return v.Pointer == pointer })
}

// TestCreateIsThrottled: each consent sends a code, so a customer creates
// at most MaxCodesPerLifetime per ChallengeLifetime.
func TestCreateIsThrottled(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	for i := range obpconsent.MaxCodesPerLifetime {
		if r := inst.Admin().PostJSON(t, "/banks/demo-bank/my/consents/IMPLICIT", accountAccess(tpp, "current-1")); r.Status != http.StatusCreated {
			t.Fatalf("consent %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	refusedWith(t, inst.Admin().PostJSON(t, "/banks/demo-bank/my/consents/IMPLICIT", accountAccess(tpp, "current-1")),
		http.StatusTooManyRequests, "sca_too_many_challenges")
	inst.Clock.Advance(obpconsent.ChallengeLifetime)
	if r := inst.Admin().PostJSON(t, "/banks/demo-bank/my/consents/IMPLICIT", accountAccess(tpp, "current-1")); r.Status != http.StatusCreated {
		t.Fatalf("after the codes' lifetime: %d %s", r.Status, r.Body)
	}
}
