package consent_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// The UK Open Banking account information documents, as published.
var (
	ukV4  = testpaths.Shared("specs", "ob-uk-v4.0", "account-info-openapi.yaml")
	ukV31 = testpaths.Shared("specs", "ob-uk-v3.1.7-swagger2", "account-info-swagger.json")
)

const (
	v4Consents  = "/open-banking/v4.0/aisp/account-access-consents"
	v31Consents = "/open-banking/v3.1/aisp/account-access-consents"
)

// tpp registers a consumer app of the admin and returns a caller with its
// client credentials token: a TPP.
func tpp(t *testing.T, inst *enginetest.Engine, name string) enginetest.Caller {
	t.Helper()
	return newTPP(t, inst, name).Caller
}

// tppAuthorization is the Authorization header of a new TPP (see tpp).
func tppAuthorization(t *testing.T, inst *enginetest.Engine, name string) string {
	t.Helper()
	return newTPP(t, inst, name).authorization
}

// app is a TPP: a consumer app of the admin, its key, and a caller with
// its client credentials token.
type app struct {
	enginetest.Caller
	key, authorization string
}

func newTPP(t *testing.T, inst *enginetest.Engine, name string) app {
	t.Helper()
	r := inst.Admin().PostJSON(t, "/my/consumers", map[string]string{"name": name})
	if r.Status != 201 {
		t.Fatalf("consumer %s: %d %s", name, r.Status, r.Body)
	}
	created := r.JSON(t)
	key := created["consumer_key"].(string)
	auth := clientToken(t, inst, key, created["consumer_secret"].(string))
	return app{Caller: inst.WithAuthorization(auth), key: key, authorization: auth}
}

// clientToken is the Authorization header bearing a client credentials
// token of the consumer with key and secret.
func clientToken(t *testing.T, inst *enginetest.Engine, key, secret string) string {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	tok := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
	if tok.Status != 200 {
		t.Fatalf("token of %s: %d %s", key, tok.Status, tok.Body)
	}
	return "Bearer " + tok.JSON(t)["access_token"].(string)
}

// underConsent creates a consent for perms as the TPP a, has the customer
// userID authorise it for accounts and returns its id and a caller bearing
// the access token bound to it.
func underConsent(t *testing.T, inst *enginetest.Engine, a app, userID string, perms []string, accounts ...string) (string, enginetest.Caller) {
	t.Helper()
	r := a.PostJSON(t, v4Consents, consentRequest(inst, perms...))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	inst.AuthoriseConsent(t, id, userID, accounts...)
	return id, inst.ConsentCaller(t, a.key, userID, id, 0)
}

// document is a served document's operation, to check answers against its
// response schemas.
type document struct{ doc *specs.Document }

func load(t *testing.T, path string) document {
	t.Helper()
	src := enginetest.ReadFile(t, path)
	doc, err := specs.Load(src, "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return document{doc}
}

// fits fails the test unless body is valid against the response status of
// operation id.
func (d document) fits(t *testing.T, id, status string, body []byte) {
	t.Helper()
	enginetest.Fits(t, d.doc, id, status, body)
}

// consentRequest is an account-access consent request for perms, expiring
// a day after the engine's clock says it is now.
func consentRequest(inst *enginetest.Engine, perms ...string) map[string]any {
	return map[string]any{"Data": map[string]any{"Permissions": perms,
		"ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}, "Risk": map[string]any{}}
}

// serveBound serves the document at path and checks it is bound to
// profile, which binds bound of its operations; it returns the document.
func serveBound(t *testing.T, inst *enginetest.Engine, path, profile string, bound int) document {
	t.Helper()
	doc := load(t, path)
	if got := submit(t, inst, path, "")["consent_profile"].(map[string]any); got["id"] != profile || len(got["bound"].([]any)) != bound {
		t.Fatalf("consent_profile %v; want %s binding %d operations", got, profile, bound)
	}
	return doc
}

func submit(t *testing.T, inst *enginetest.Engine, path, query string) map[string]any {
	t.Helper()
	r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints"+query, enginetest.ReadFile(t, path))
	if r.Status != 201 {
		t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
	return r.JSON(t)
}

// TestUKAccountAccessConsents runs the UK account-access-consents
// resources the engine answers once the published documents are served:
// the profile each one gets, creation under the profile's rules, reading
// and deleting by the TPP that created the consent alone, the standard's
// error shape and codes, and one consent rendered by v3.1.7 and v4.0 alike.
func TestUKAccountAccessConsents(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	v4, v31 := load(t, ukV4), load(t, ukV31)

	for _, tc := range []struct {
		path, profile string
		ops           int
	}{{ukV4, "uk-ob-v4.0-ais", 29}, {ukV31, "uk-ob-v3.1-ais", 29}} {
		got := submit(t, inst, tc.path, "")["consent_profile"].(map[string]any)
		if got["id"] != tc.profile || got["source"] != "auto" || len(got["bound"].([]any)) != tc.ops ||
			len(got["unbound"].([]any)) != 0 || len(got["missing"].([]any)) != 0 {
			t.Errorf("%s: consent_profile %v; want %s, auto, %d bound", tc.path, got, tc.profile, tc.ops)
		}
	}
	alice, bob := tpp(t, inst, "alice's app"), tpp(t, inst, "bob's app")

	created := alice.PostJSON(t, v4Consents, consentRequest(inst, "ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits"))
	if created.Status != 201 {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	v4.fits(t, "CreateAccountAccessConsents", "201", created.Body)
	data := created.JSON(t)["Data"].(map[string]any)
	id := data["ConsentId"].(string)
	if data["Status"] != "AWAU" || !strings.HasSuffix(created.JSON(t)["Links"].(map[string]any)["Self"].(string), v4Consents+"/"+id) {
		t.Errorf("created: %s", created.Body)
	}

	t.Run("read through either version", func(t *testing.T) {
		for _, tc := range []struct {
			doc    document
			path   string
			status string
		}{{v4, v4Consents, "AWAU"}, {v31, v31Consents, "AwaitingAuthorisation"}} {
			r := alice.Get(t, tc.path+"/"+id)
			if r.Status != 200 || r.JSON(t)["Data"].(map[string]any)["Status"] != tc.status {
				t.Errorf("GET %s: %d %s; want 200 %s", tc.path, r.Status, r.Body, tc.status)
				continue
			}
			tc.doc.fits(t, "GetAccountAccessConsentsConsentId", "200", r.Body)
		}
	})

	t.Run("created through v3.1.7", func(t *testing.T) {
		r := alice.PostJSON(t, v31Consents, consentRequest(inst, "ReadAccountsBasic"))
		if r.Status != 201 || r.JSON(t)["Data"].(map[string]any)["Status"] != "AwaitingAuthorisation" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		v31.fits(t, "CreateAccountAccessConsents", "201", r.Body)
		other := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
		if g := alice.Get(t, v4Consents+"/"+other); g.Status != 200 || g.JSON(t)["Data"].(map[string]any)["Status"] != "AWAU" {
			t.Errorf("GET on v4.0: %d %s", g.Status, g.Body)
		}
	})

	t.Run("refusals in the standard's shape", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			caller enginetest.Caller
			req    enginetest.Request
			status int
			code   string // dynapi's, in Code
			errors []string
		}{
			{"another TPP's consent", bob, enginetest.Request{Method: "GET", Path: v4Consents + "/" + id}, 403, "consent_not_yours", []string{"U000"}},
			{"another TPP deletes", bob, enginetest.Request{Method: "DELETE", Path: v4Consents + "/" + id}, 403, "consent_not_yours", []string{"U000"}},
			{"unknown id", alice, enginetest.Request{Method: "GET", Path: v4Consents + "/no-such-consent"}, 400, "consent_unknown", []string{"U011"}},
			{"unknown id, v3.1.7", alice, enginetest.Request{Method: "GET", Path: v31Consents + "/no-such-consent"}, 400, "consent_unknown", []string{"UK.OBIE.Resource.NotFound"}},
			{"transactions without a direction", alice, enginetest.JSONRequest(t, "POST", v4Consents, consentRequest(inst, "ReadAccountsBasic", "ReadTransactionsBasic")),
				400, "consent_rule", []string{"U001"}},
			{"a direction without transactions, no accounts", alice, enginetest.JSONRequest(t, "POST", v4Consents, consentRequest(inst, "ReadBalances", "ReadTransactionsDebits")),
				400, "consent_rule", []string{"U001", "U001"}},
			{"v3.1.7 rule", alice, enginetest.JSONRequest(t, "POST", v31Consents, consentRequest(inst, "ReadBalances")),
				400, "consent_rule", []string{"UK.OBIE.Field.Expected"}},
			{"expiry in the past", alice, enginetest.JSONRequest(t, "POST", v4Consents, map[string]any{"Data": map[string]any{
				"Permissions": []string{"ReadAccountsBasic"}, "ExpirationDateTime": "2020-01-01T00:00:00+00:00"}, "Risk": map[string]any{}}),
				400, "consent_rule", []string{"U003"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.caller.Send(t, tc.req)
				if r.Status != tc.status {
					t.Fatalf("%d %s; want %d", r.Status, r.Body, tc.status)
				}
				var body struct {
					Code, ID string
					Errors   []struct{ ErrorCode, Message, Path string }
				}
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatal(err)
				}
				var codes []string
				for _, e := range body.Errors {
					codes = append(codes, e.ErrorCode)
				}
				if body.Code != tc.code || strings.Join(codes, ",") != strings.Join(tc.errors, ",") {
					t.Errorf("Code %s, ErrorCodes %v; want %s, %v: %s", body.Code, codes, tc.code, tc.errors, r.Body)
				}
				for _, e := range body.Errors {
					if (e.ErrorCode == "U001" || e.ErrorCode == "UK.OBIE.Field.Expected") && (e.Path != "Data.Permissions" || !strings.HasPrefix(e.Message, "rule ")) {
						t.Errorf("a broken rule is not named at Data.Permissions: %+v", e)
					}
				}
				if body.ID == "" || body.ID != r.Header.Get("X-Correlation-Id") {
					t.Errorf("Id %q is not the correlation id %q", body.ID, r.Header.Get("X-Correlation-Id"))
				}
				if tc.status == 400 && tc.code == "consent_rule" {
					doc := v4
					if strings.HasPrefix(tc.req.Path, v31Consents) {
						doc = v31
					}
					doc.fits(t, "CreateAccountAccessConsents", "400", r.Body)
				}
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		if r := alice.Delete(t, v4Consents+"/"+id); r.Status != 204 {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{v4Consents, v31Consents} {
			if r := alice.Get(t, path+"/"+id); r.Status != 400 {
				t.Errorf("GET %s after DELETE: %d %s; want 400", path, r.Status, r.Body)
			}
		}
		if r := alice.Delete(t, v4Consents+"/"+id); r.Status != 400 {
			t.Errorf("DELETE again: %d %s; want 400", r.Status, r.Body)
		}
	})
}

// TestConsentProfileChoice checks how a document's profile is chosen at
// submission: none, a profile by name, an unknown one, one the document
// lacks operations for.
func TestConsentProfileChoice(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)

	t.Run("none", func(t *testing.T) {
		got := submit(t, inst, ukV4, "?mount=/none&consent_profile=none")
		if _, bound := got["consent_profile"]; bound {
			t.Fatalf("consent_profile=none bound %v", got["consent_profile"])
		}
		// The mock answers the consent operations, as before profiles.
		r := tpp(t, inst, "app").PostJSON(t, "/none/account-access-consents", consentRequest(inst, "ReadAccountsBasic"))
		if r.Status != 201 || strings.Contains(string(r.Body), `"Status":"AWAU","StatusUpdateDateTime"`) {
			t.Errorf("mock answer: %d %s", r.Status, r.Body)
		}
	})
	t.Run("by name", func(t *testing.T) {
		got := submit(t, inst, ukV4, "?mount=/named&consent_profile=uk-ob-v3.1-ais")["consent_profile"].(map[string]any)
		if got["id"] != "uk-ob-v3.1-ais" || got["source"] != "query" {
			t.Errorf("consent_profile %v", got)
		}
	})
	for _, tc := range []struct{ name, path, query, pointer string }{
		{"unknown profile", ukV4, "?mount=/unknown&consent_profile=no-such-profile", "/consent_profile"},
		{"a document without the operations", testpaths.Shared("specs", "petstore-oas3", "petstore.yaml"), "?consent_profile=uk-ob-v4.0-ais", "/paths"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints"+tc.query, enginetest.ReadFile(t, tc.path))
			p := r.Problem(t)
			if r.Status != 400 || p.Code != "invalid_consent_profile" || len(p.Violations) == 0 || p.Violations[0].Pointer != tc.pointer {
				t.Errorf("%d %s; want 400 invalid_consent_profile at %s", r.Status, r.Body, tc.pointer)
			}
		})
	}
}

// TestConsentsSurviveRestart: the consent, the document's profile chosen at
// submission and the audit entry of the creation are all in the store, so
// a restarted engine serves the consent as before.
func TestConsentsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	submit(t, inst, ukV4, "?consent_profile=uk-ob-v3.1-ais")
	auth := tppAuthorization(t, inst, "app")
	r := inst.WithAuthorization(auth).PostJSON(t, v4Consents, consentRequest(inst, "ReadAccountsBasic"))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	inst.Close(t)

	again := enginetest.New(t, enginetest.InDir(dir))
	defer again.Close(t)
	g := again.WithAuthorization(auth).Get(t, v4Consents+"/"+id)
	if g.Status != 200 || g.JSON(t)["Data"].(map[string]any)["Status"] != "AwaitingAuthorisation" {
		t.Fatalf("GET after restart: %d %s; want 200, rendered by uk-ob-v3.1-ais as chosen", g.Status, g.Body)
	}
	if n := again.Audited(t, "consent.create", id); n != 1 {
		t.Errorf("%d audit entries consent.create for %s; want 1", n, id)
	}
}

// TestUKRouteErrorsAndInteractionID: every route of a document with a UK
// profile, mock-answered ones too, refuses in OBErrorResponse1 (Id the
// correlation id) and plays x-fapi-interaction-id back, or makes one.
func TestUKRouteErrorsAndInteractionID(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	v4 := load(t, ukV4)
	submit(t, inst, ukV4, "")
	tppApp := newTPP(t, inst, "alice's app")
	alice := tppApp.Caller
	psu := inst.CreateUser(t, "psu", "Psu-passw0rd-long")
	_, aisp := underConsent(t, inst, tppApp, psu.ID, []string{"ReadAccountsBasic", "ReadTransactionsDetail", "ReadTransactionsCredits"}, "acc-1")
	const accounts = "/open-banking/v4.0/aisp/accounts"
	for _, tc := range []struct {
		name        string
		caller      enginetest.Caller
		req         enginetest.Request
		status      int
		code        string
		errorCode   string
		path        string
		interaction string // sent; "" for none
	}{
		{"no credentials", inst.Anonymous(), enginetest.Request{Method: "GET", Path: accounts}, 401, "unauthorized", "U000", "", ""},
		{"no credentials, an interaction id", inst.Anonymous(), enginetest.Request{Method: "GET", Path: accounts,
			Header: map[string]string{"x-fapi-interaction-id": "93bac548-d2de-4546-b106-880a5018460d"}}, 401, "unauthorized", "U000", "", "93bac548-d2de-4546-b106-880a5018460d"},
		{"a query parameter invalid", aisp, enginetest.Request{Method: "GET", Path: accounts + "/acc-1/transactions?fromBookingDateTime=yesterday"},
			400, "validation_failed", "U002", "fromBookingDateTime", ""},
		{"a body field missing", alice, enginetest.JSONRequest(t, "POST", v4Consents, map[string]any{"Data": map[string]any{}, "Risk": map[string]any{}}),
			400, "validation_failed", "U004", "Data.Permissions", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.interaction != "" {
				tc.req.Header["x-fapi-interaction-id"] = tc.interaction
			}
			r := tc.caller.Send(t, tc.req)
			var body struct {
				Code, ID string
				Errors   []struct{ ErrorCode, Message, Path string }
			}
			if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != tc.status || body.Code != tc.code || len(body.Errors) == 0 {
				t.Fatalf("%d %s; want %d %s in OBErrorResponse1", r.Status, r.Body, tc.status, tc.code)
			}
			if e := body.Errors[0]; e.ErrorCode != tc.errorCode || e.Path != tc.path {
				t.Errorf("first error %+v; want ErrorCode %s at %q", e, tc.errorCode, tc.path)
			}
			if body.ID != r.Header.Get("X-Correlation-Id") {
				t.Errorf("Id %q, correlation id %q", body.ID, r.Header.Get("X-Correlation-Id"))
			}
			got := r.Header.Get("x-fapi-interaction-id")
			if tc.interaction != "" && got != tc.interaction || tc.interaction == "" && len(got) != 36 {
				t.Errorf("x-fapi-interaction-id %q; sent %q", got, tc.interaction)
			}
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
			if tc.status == 400 {
				v4.fits(t, map[string]string{"GET": "GetAccountsAccountIdTransactions", "POST": "CreateAccountAccessConsents"}[tc.req.Method], "400", r.Body)
			}
		})
	}
	t.Run("date-time filters in the forms the UK profile allows", func(t *testing.T) {
		// The connector method answering the operation shows what reached
		// it: the filter, normalised, in Links.Self.
		inst.CreateScript(t, "GetAccountsAccountIdTransactions",
			`return {Data: {Transaction: []}, Links: {Self: "https://bank.example/" + args[0].query.fromBookingDateTime}};`, 0)
		for _, tc := range []struct{ sent, seen string }{
			{"2017-04-05T10:43:07", "2017-04-05T10:43:07Z"},
			{"2017-04-05", "2017-04-05T00:00:00Z"},
			{"20170405T104307.25", "2017-04-05T10:43:07.25Z"},
			{"2017-04-05T10:43:07%2B01", "2017-04-05T10:43:07Z"},
			{"2017-04-05T10:43:07Z", "2017-04-05T10:43:07Z"},
		} {
			r := aisp.Get(t, accounts+"/acc-1/transactions?fromBookingDateTime="+tc.sent)
			if r.Status != 200 {
				t.Errorf("%s: %d %s", tc.sent, r.Status, r.Body)
				continue
			}
			if self := r.JSON(t)["Links"].(map[string]any)["Self"]; self != "https://bank.example/"+tc.seen {
				t.Errorf("%s reached the connector as %v; want %s", tc.sent, self, tc.seen)
			}
		}
	})
	t.Run("a mock answer plays the interaction id back", func(t *testing.T) {
		r := aisp.Send(t, enginetest.Request{Method: "GET", Path: accounts, Header: map[string]string{"x-fapi-interaction-id": "i-1"}})
		if r.Status != 200 || r.Header.Get("x-fapi-interaction-id") != "i-1" {
			t.Errorf("%d, x-fapi-interaction-id %q: %s", r.Status, r.Header.Get("x-fapi-interaction-id"), r.Body)
		}
	})
}

// TestAdminConsents: the bank lists consents, reads one with its history
// and revokes it with a reason; the TPP then sees it revoked, in each
// version's words, and the revocation is audited.
func TestAdminConsents(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	v4, v31 := load(t, ukV4), load(t, ukV31)
	submit(t, inst, ukV4, "")
	submit(t, inst, ukV31, "")
	alice, bob := tpp(t, inst, "alice's app"), tpp(t, inst, "bob's app")
	ids := map[string]string{}
	for name, caller := range map[string]enginetest.Caller{"alice": alice, "bob": bob} {
		r := caller.PostJSON(t, v4Consents, consentRequest(inst, "ReadAccountsBasic"))
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		ids[name] = r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	}
	aliceConsent := inst.Admin().Get(t, "/admin/v1/consents/"+ids["alice"]).JSON(t)
	consumer := aliceConsent["consumer_id"].(string)
	if aliceConsent["status"] != "awaiting_authorisation" || len(aliceConsent["history"].([]any)) != 1 {
		t.Fatalf("GET /admin/v1/consents/{id}: %v", aliceConsent)
	}

	list := inst.Admin().Get(t, "/admin/v1/consents?consumer_id="+consumer).JSON(t)["consents"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["consent_id"] != ids["alice"] {
		t.Errorf("consents of alice's app: %v", list)
	}
	if all := inst.Admin().Get(t, "/admin/v1/consents?limit=1").JSON(t); len(all["consents"].([]any)) != 1 || all["next_after"] == nil {
		t.Errorf("a page of one: %v", all)
	}

	for _, tc := range []struct {
		name   string
		body   string
		id     string
		status int
	}{
		{"no reason", `{}`, ids["alice"], 400},
		{"unknown consent", `{"reason": "fraud suspected"}`, "no-such-consent", 404},
		{"revoked", `{"reason": "fraud suspected"}`, ids["alice"], 200},
		{"revoked twice", `{"reason": "again"}`, ids["alice"], 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().PostJSON(t, "/admin/v1/consents/"+tc.id+"/revoke", tc.body)
			if r.Status != tc.status {
				t.Errorf("%d %s; want %d", r.Status, r.Body, tc.status)
			}
		})
	}

	r := alice.Get(t, v4Consents+"/"+ids["alice"])
	data := r.JSON(t)["Data"].(map[string]any)
	reasons, _ := data["StatusReason"].([]any)
	if r.Status != 200 || data["Status"] != "CANC" || len(reasons) != 1 || reasons[0].(map[string]any)["StatusReasonDescription"] != "fraud suspected" {
		t.Errorf("the TPP's view after revocation: %d %s", r.Status, r.Body)
	}
	v4.fits(t, "GetAccountAccessConsentsConsentId", "200", r.Body)
	r = alice.Get(t, v31Consents+"/"+ids["alice"])
	if r.JSON(t)["Data"].(map[string]any)["Status"] != "Revoked" || strings.Contains(string(r.Body), "StatusReason") {
		t.Errorf("v3.1.7 view after revocation: %s", r.Body)
	}
	v31.fits(t, "GetAccountAccessConsentsConsentId", "200", r.Body)
	if g := bob.Get(t, v4Consents+"/"+ids["bob"]); g.JSON(t)["Data"].(map[string]any)["Status"] != "AWAU" {
		t.Errorf("bob's consent changed: %s", g.Body)
	}

	revoked := inst.Admin().Get(t, "/admin/v1/consents?status=revoked").JSON(t)["consents"].([]any)
	if len(revoked) != 1 {
		t.Errorf("revoked consents: %v", revoked)
	}
	if n := inst.Audited(t, "consent.revoke", ids["alice"]); n != 1 {
		t.Errorf("%d audit entries consent.revoke; want 1", n)
	}

	t.Run("roles", func(t *testing.T) {
		inst.CreateUser(t, "carol", "Carol-passw0rd")
		carol := inst.Token(inst.Login(t, "carol", "Carol-passw0rd"))
		for _, req := range []enginetest.Request{{Method: "GET", Path: "/admin/v1/consents"},
			enginetest.JSONRequest(t, "POST", "/admin/v1/consents/"+ids["bob"]+"/revoke", `{"reason": "x"}`)} {
			r := carol.Send(t, req)
			if r.Status != 403 {
				t.Errorf("%s %s without the role: %d %s", req.Method, req.Path, r.Status, r.Body)
			}
		}
	})
}

// TestConsentExpiry: a consent is expired to the second it is due, in
// every read, before any sweep stores it so; the sweep then stores it, once,
// audited; an expired consent cannot be revoked.
func TestConsentExpiry(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t.TempDir())
	cfg.OAuth2.TTL = 24 * time.Hour // the TPP's token outlives the consent
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)
	v4, v31 := load(t, ukV4), load(t, ukV31)
	submit(t, inst, ukV4, "")
	submit(t, inst, ukV31, "")
	alice := tpp(t, inst, "alice's app")
	req := consentRequest(inst, "ReadAccountsBasic")
	req["Data"].(map[string]any)["ExpirationDateTime"] = inst.Clock.Now().Add(time.Hour).Format(time.RFC3339)
	r := alice.PostJSON(t, v4Consents, req)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	status := func(path string) string {
		t.Helper()
		return alice.Get(t, path+"/"+id).JSON(t)["Data"].(map[string]any)["Status"].(string)
	}
	if got := inst.Admin().PostJSON(t, "/admin/v1/consents/expire", `{}`).JSON(t)["expired"]; got != 0.0 {
		t.Errorf("expired before its time: %v", got)
	}

	inst.Clock.Advance(time.Hour - time.Second)
	if got := status(v4Consents); got != "AWAU" {
		t.Errorf("a second before expiry: %s", got)
	}
	inst.Clock.Advance(time.Second)
	if got := status(v4Consents); got != "EXPD" {
		t.Errorf("at expiry, v4.0: %s; want EXPD", got)
	}
	// v3.1.7 has no word for expired: the last status before it.
	if got := status(v31Consents); got != "AwaitingAuthorisation" {
		t.Errorf("at expiry, v3.1.7: %s", got)
	}
	v4.fits(t, "GetAccountAccessConsentsConsentId", "200", alice.Get(t, v4Consents+"/"+id).Body)
	v31.fits(t, "GetAccountAccessConsentsConsentId", "200", alice.Get(t, v31Consents+"/"+id).Body)
	if list := inst.Admin().Get(t, "/admin/v1/consents?status=expired").JSON(t)["consents"].([]any); len(list) != 1 {
		t.Errorf("expired consents listed before the sweep: %v", list)
	}
	if r := inst.Admin().PostJSON(t, "/admin/v1/consents/"+id+"/revoke", `{"reason": "late"}`); r.Status != 409 {
		t.Errorf("revoking an expired consent: %d %s", r.Status, r.Body)
	}

	for i, want := range []float64{1, 0} {
		if got := inst.Admin().PostJSON(t, "/admin/v1/consents/expire", `{}`).JSON(t)["expired"]; got != want {
			t.Errorf("sweep %d expired %v; want %v", i+1, got, want)
		}
	}
	stored := inst.Admin().Get(t, "/admin/v1/consents/"+id).JSON(t)
	history := stored["history"].([]any)
	last := history[len(history)-1].(map[string]any)
	if stored["status"] != "expired" || last["actor"] != "system" || !strings.HasPrefix(last["at"].(string), inst.Clock.Now().Format("2006-01-02T15:04")) {
		t.Errorf("stored: %v", stored)
	}
	if n := inst.Audited(t, "consent.expire", id); n != 1 {
		t.Errorf("%d audit entries consent.expire; want 1", n)
	}
}
