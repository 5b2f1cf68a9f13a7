package server_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// BenchmarkConsentCheck measures the consent check on the UK v4.0
// account-information document: the balances of an account, mock
// answered, read under an authorised consent (the document bound to its
// profile), against the same GET of the same document submitted with
// ?consent_profile=none, guarded by its role. Both callers bear an OAuth2
// access token of the engine.
func BenchmarkConsentCheck(b *testing.B) {
	inst := enginetest.New(b)
	source := enginetest.ReadFile(b, testpaths.Shared("specs", "ob-uk-v4.0", "account-info-openapi.yaml"))
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints", source)
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/plain&consent_profile=none", source)
	bearer, underConsent := consentTokens(b, inst, "acc-1", "acc-2")
	handler := inst.Server.App().Handler()
	// A TPP sends its interaction id, which the profiled route plays back
	// (without one, the route makes one: a UUID).
	const interaction = "93bac548-d2de-4546-b106-880a5018460d"
	for _, tc := range []benchCase{
		{"GET balances role", enginetest.Request{Method: "GET", Path: "/plain/accounts/acc-1/balances",
			Header: map[string]string{"Authorization": bearer, "x-fapi-interaction-id": interaction}}, 200},
		{"GET balances consent", enginetest.Request{Method: "GET", Path: "/open-banking/v4.0/aisp/accounts/acc-1/balances",
			Header: map[string]string{"Authorization": underConsent, "x-fapi-interaction-id": interaction}}, 200},
		{"GET balances consent refused", enginetest.Request{Method: "GET", Path: "/open-banking/v4.0/aisp/accounts/acc-9/balances",
			Header: map[string]string{"Authorization": underConsent, "x-fapi-interaction-id": interaction}}, 403},
	} {
		runBench(b, handler, tc)
	}
}

// consentTokens are two access tokens of the bootstrap consumer: its
// client credentials token, and the token of a consent it created on the
// served UK v4.0 account-information document (ReadAccountsBasic,
// ReadBalances), authorised by a customer for accounts.
func consentTokens(b *testing.B, inst *enginetest.Engine, accounts ...string) (bearer, underConsent string) {
	basic := base64.StdEncoding.EncodeToString([]byte(enginetest.ConsumerKey + ":" + enginetest.ConsumerSecret))
	bearer = "Bearer " + inst.Anonymous().Send(b, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}}).JSON(b)["access_token"].(string)
	created := inst.WithAuthorization(bearer).PostJSON(b, "/open-banking/v4.0/aisp/account-access-consents", map[string]any{
		"Data": map[string]any{"Permissions": []string{"ReadAccountsBasic", "ReadBalances"},
			"ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).Format(time.RFC3339)}, "Risk": map[string]any{}})
	if created.Status != 201 {
		b.Fatalf("consent: %d %s", created.Status, created.Body)
	}
	id := created.JSON(b)["Data"].(map[string]any)["ConsentId"].(string)
	psu := inst.CreateUser(b, "psu", "Psu-passw0rd-long")
	inst.AuthoriseConsent(b, id, psu.ID, accounts...)
	return bearer, "Bearer " + inst.ConsentToken(b, enginetest.ConsumerKey, psu.ID, id, 0)
}
