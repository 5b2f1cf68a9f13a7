package metrics_test

import (
	"encoding/base64"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// TestMetricsAfterScenario runs a scenario over HTTP (failed logins up to a
// lockout, a mock GET, a 404 on a random path, a validated POST refused, a
// JavaScript connector method, a consent-checked call refused and one
// allowed, an entity record created and read), then scrapes /metrics as the super admin: the
// expected series hold the expected values, and no label value holds an
// id, path segment or user name the scenario used.
func TestMetricsAfterScenario(t *testing.T) {
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Throttle.MaxFailures = 2 }))
	admin := inst.Admin()
	username := "user" + random(t, 8)
	inst.CreateUser(t, username, "Right-passw0rd-long")
	for range 3 { // two failures lock the user out; the third is refused as locked out
		r := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
			"DirectLogin": `username="` + username + `", password="Wrong-passw0rd-long", consumer_key="` + enginetest.ConsumerKey + `"`}})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", r.Status, r.Body)
		}
	}
	admin.MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/bench", enginetest.ReadFile(t, testpaths.Shared("bench", "accounts.yaml")))
	accountID := uuid.NewString()
	if r := admin.Get(t, "/bench/accounts/"+accountID); r.Status != http.StatusOK {
		t.Fatalf("mock GET: %d %s", r.Status, r.Body)
	}
	randomSegment := "nowhere-" + random(t, 8)
	if r := admin.Get(t, "/"+randomSegment+"/"+uuid.NewString()); r.Status != http.StatusNotFound {
		t.Fatalf("random path: %d %s", r.Status, r.Body)
	}
	if r := admin.PostJSON(t, "/bench/accounts", map[string]any{"currency": 12}); r.Status != http.StatusBadRequest {
		t.Fatalf("invalid POST: %d %s", r.Status, r.Body)
	}
	admin.MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument("/scripted", "scriptedHello"))
	inst.CreateScript(t, "scriptedHello", `return {op: "js"};`, 0)
	if r := admin.Get(t, "/scripted/scriptedHello"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"js"`) {
		t.Fatalf("scripted GET: %d %s", r.Status, r.Body)
	}
	admin.MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "ob-uk-v4.0", "account-info-openapi.yaml")))
	if r := admin.Get(t, "/open-banking/v4.0/aisp/accounts"); r.Status != http.StatusForbidden {
		t.Fatalf("consent-checked call without a consent: %d %s", r.Status, r.Body)
	}
	consented, consentID, customerID := underConsent(t, inst, accountID)
	if r := consented.Get(t, "/open-banking/v4.0/aisp/accounts/"+accountID+"/balances"); r.Status != http.StatusOK {
		t.Fatalf("consent-checked call under the consent: %d %s", r.Status, r.Body)
	}
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"Gadget": {"description": "gadgets", "required": ["name"],
		"properties": {"name": {"type": "string", "example": "lamp"}}}}`)
	r := admin.PostJSON(t, "/entities/Gadget", map[string]string{"name": "lamp"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create record: %d %s", r.Status, r.Body)
	}
	recordID, _ := r.JSON(t)["gadget"].(map[string]any)["gadget_id"].(string)
	if r := admin.Get(t, "/entities/Gadget/"+recordID); r.Status != http.StatusOK {
		t.Fatalf("read record: %d %s", r.Status, r.Body)
	}

	got := scrape(t, admin)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64 // -1: any value
	}{
		{"dynapi_http_requests_total", map[string]string{"route": "getAccount", "method": "GET", "status": "200"}, 1},
		{"dynapi_http_request_duration_seconds", map[string]string{"route": "getAccount", "method": "GET", "status": "200"}, 1},
		{"dynapi_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"dynapi_http_requests_total", map[string]string{"route": "createAccount", "method": "POST", "status": "400"}, 1},
		{"dynapi_http_requests_total", map[string]string{"route": "scriptedHello", "method": "GET", "status": "200"}, 1},
		{"dynapi_http_requests_total", map[string]string{"route": "POST /my/logins/direct", "method": "POST", "status": "401"}, 3},
		{"dynapi_http_requests_total", map[string]string{"route": "POST /entities/{name}", "method": "POST", "status": "201"}, 1},
		{"dynapi_http_requests_total", map[string]string{"route": "GET /entities/{name}/{id}", "method": "GET", "status": "200"}, 1},
		// getAccount is also a built-in method: the operation's method is dynamic:getAccount.
		{"dynapi_connector_calls_total", map[string]string{"connector": "obp_mock", "method": "dynamic:getAccount"}, 1},
		{"dynapi_connector_call_errors_total", map[string]string{"connector": "obp_mock", "method": "dynamic:getAccount"}, 0},
		// The mock answers from memory: its calls are counted, not timed.
		{"dynapi_connector_call_duration_seconds", map[string]string{"connector": "obp_mock", "method": "dynamic:getAccount"}, 0},
		{"dynapi_connector_call_duration_seconds", map[string]string{"connector": "internal", "method": "scriptedHello"}, 1},
		{"dynapi_script_runs_total", map[string]string{"outcome": "ok"}, 1},
		{"dynapi_script_run_duration_seconds", nil, 1},
		{"dynapi_script_pool_waits_total", nil, 0},
		{"dynapi_consent_decisions_total", map[string]string{"outcome": "refused", "code": "consent_missing"}, 1},
		{"dynapi_consent_decisions_total", map[string]string{"outcome": "allowed", "code": ""}, 1},
		{"dynapi_login_failures_total", map[string]string{"method": "direct_login", "reason": "wrong_password"}, 2},
		{"dynapi_login_failures_total", map[string]string{"method": "direct_login", "reason": "locked_out"}, 1},
		{"dynapi_login_lockouts_total", map[string]string{"method": "direct_login"}, 1},
		{"dynapi_store_transaction_duration_seconds", map[string]string{"kind": "update"}, -1},
		{"dynapi_store_transaction_duration_seconds", map[string]string{"kind": "view"}, -1},
		{"dynapi_snapshot_swaps_total", nil, -1},
		{"dynapi_snapshot_swap_duration_seconds", nil, -1},
		{"dynapi_events_fanned_out_total", nil, -1},
		{"dynapi_events_outbox_depth", nil, -1},
		{"dynapi_event_delivery_attempt_duration_seconds", nil, -1},
		{"go_goroutines", nil, -1},
		{"process_resident_memory_bytes", nil, -1},
	} {
		t.Run(c.name+labelText(c.labels), func(t *testing.T) {
			v, ok := got.value(c.name, c.labels)
			if !ok {
				t.Fatalf("no series")
			}
			if c.want >= 0 && v != c.want {
				t.Fatalf("value %v, want %v", v, c.want)
			}
		})
	}
	// Boot, then three documents: at least four swaps.
	if v, _ := got.value("dynapi_snapshot_swaps_total", nil); v < 4 {
		t.Errorf("snapshot swaps %v, want at least 4", v)
	}
	if v, _ := got.value("dynapi_store_transaction_duration_seconds", map[string]string{"kind": "update"}); v < 5 {
		t.Errorf("store updates %v, want the scenario's writes", v)
	}
	for _, secret := range []string{username, accountID, randomSegment, recordID, consentID, customerID, "/bench/accounts/"} {
		for _, v := range got.labelValues() {
			if strings.Contains(v, secret) {
				t.Errorf("label value %q holds %q, which the scenario used", v, secret)
			}
		}
	}
}

// underConsent has a new TPP create a UK account-access consent, a new
// customer authorise it for account, and returns a caller bearing
// the TPP's access token bound to it, the consent's id and the customer's.
func underConsent(t *testing.T, inst *enginetest.Engine, account string) (enginetest.Caller, string, string) {
	t.Helper()
	created := inst.Admin().PostJSON(t, "/my/consumers", map[string]string{"name": "metrics tpp"})
	if created.Status != http.StatusCreated {
		t.Fatalf("consumer: %d %s", created.Status, created.Body)
	}
	key, secret := created.JSON(t)["consumer_key"].(string), created.JSON(t)["consumer_secret"].(string)
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	tok := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
	if tok.Status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.Status, tok.Body)
	}
	tpp := inst.WithAuthorization("Bearer " + tok.JSON(t)["access_token"].(string))
	r := tpp.PostJSON(t, "/open-banking/v4.0/aisp/account-access-consents", map[string]any{"Data": map[string]any{
		"Permissions": []string{"ReadAccountsBasic", "ReadBalances"}, "ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)},
		"Risk": map[string]any{}})
	if r.Status != http.StatusCreated {
		t.Fatalf("consent: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	customer := inst.CreateUser(t, "customer"+random(t, 8), "Customer-passw0rd-long")
	inst.AuthoriseConsent(t, id, customer.ID, account)
	return inst.ConsentCaller(t, key, customer.ID, id, 0), id, customer.ID
}

// labelText shows labels in a subtest's name.
func labelText(labels map[string]string) string {
	var parts []string
	for k, v := range labels {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// TestMetricsNeedTheRole: /metrics on the main listener answers only
// callers holding CanGetMetrics (the super admin holds every system role).
func TestMetricsNeedTheRole(t *testing.T) {
	inst := enginetest.New(t)
	user := inst.CreateUser(t, "operator", "Operator-passw0rd-long")
	for _, c := range []struct {
		name   string
		caller enginetest.Caller
		status int
	}{
		{"anonymous", inst.Anonymous(), http.StatusUnauthorized},
		{"without the role", inst.Token(user.Token), http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := c.caller.Get(t, "/metrics"); r.Status != c.status || strings.Contains(string(r.Body), "dynapi_http") {
				t.Fatalf("GET /metrics: %d %s, want %d", r.Status, r.Body, c.status)
			}
		})
	}
	inst.Grant(t, user.ID, "", authz.RoleCanGetMetrics)
	scrape(t, inst.Token(user.Token))
}
