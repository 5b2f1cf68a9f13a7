package obpconsent_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// demo starts an engine with the demo bank (the admin holds current-1
// and savings-1) and one-time codes in the answers.
func demo(t *testing.T) *enginetest.Engine {
	t.Helper()
	return enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.PreloadExample, c.ScaDevCodes = true, true }))
}

// consumer is a TPP: a consumer app of the admin's.
type consumer struct {
	id, key string
	// token is its client-credentials token.
	token string
	// bearer calls with its client credentials token.
	bearer enginetest.Caller
}

func newConsumer(t *testing.T, inst *enginetest.Engine, name string) consumer {
	t.Helper()
	app := inst.Admin().PostJSON(t, "/my/consumers", map[string]string{"name": name}).JSON(t)
	key, secret := app["consumer_key"].(string), app["consumer_secret"].(string)
	tok := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodPost, Path: "/oauth2/token",
		Body:   []byte("grant_type=client_credentials&client_id=" + key + "&client_secret=" + secret),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if tok.Status != http.StatusOK {
		t.Fatalf("token of %s: %d %s", name, tok.Status, tok.Body)
	}
	token := tok.JSON(t)["access_token"].(string)
	return consumer{id: app["consumer_id"].(string), key: key, token: token, bearer: inst.WithAuthorization("Bearer " + token)}
}

// created is a consent as OBP answers it.
type created struct {
	ConsentID string `json:"consent_id"`
	JWT       string `json:"jwt"`
	Status    string `json:"status"`
	Code      string `json:"code"`
}

func decode(t *testing.T, r enginetest.Response, status int) created {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var c created
	if err := json.Unmarshal(r.Body, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// accountAccess is a body naming accounts at the path's bank for tpp,
// by SMS.
func accountAccess(tpp consumer, accounts ...string) map[string]any {
	var access []map[string]string
	for _, a := range accounts {
		access = append(access, map[string]string{"account_id": a, "view_id": "owner"})
	}
	return map[string]any{"everything": false, "account_access": access, "consumer_id": tpp.id,
		"phone_number": "+44 7700 900123", "time_to_live": 3600}
}

// accepted creates the consent of body as customer at bankID and answers
// its challenge.
func accepted(t *testing.T, customer enginetest.Caller, bankID string, body any) created {
	t.Helper()
	c := decode(t, customer.PostJSON(t, "/banks/"+bankID+"/my/consents/SMS", body), http.StatusCreated)
	if c.Status != "INITIATED" || c.JWT == "" || len(c.Code) != 6 {
		t.Fatalf("created %+v, want INITIATED with a jwt and a code", c)
	}
	a := decode(t, customer.PostJSON(t, "/banks/"+bankID+"/consents/"+c.ConsentID+"/challenge", map[string]string{"answer": c.Code}), http.StatusCreated)
	if a.Status != "ACCEPTED" || a.ConsentID != c.ConsentID || a.JWT == "" {
		t.Fatalf("challenge answered %+v, want ACCEPTED", a)
	}
	a.JWT, a.Code = c.JWT, c.Code
	return a
}

// under is a call with a Consent-JWT and a Consumer-Key.
func under(t *testing.T, inst *enginetest.Engine, method, path, jwt, key string) enginetest.Response {
	t.Helper()
	return inst.Anonymous().Send(t, enginetest.Request{Method: method, Path: path,
		Header: map[string]string{"Consent-JWT": jwt, "Consumer-Key": key}})
}

// refusedWith fails the test unless r is a problem of status and code.
func refusedWith(t *testing.T, r enginetest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if p := r.Problem(t); p.Code != code {
		t.Fatalf("code %q, want %q: %s", p.Code, code, r.Body)
	}
}

// accountIDs are the account ids of a list of accounts.
func accountIDs(t *testing.T, r enginetest.Response) []string {
	t.Helper()
	var page struct {
		Accounts []struct {
			AccountID string `json:"account_id"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range page.Accounts {
		ids = append(ids, a.AccountID)
	}
	return ids
}

// TestConsentJWTReadsOnlyTheConsentsAccounts is scenario 15: a consent
// for demo-bank/current-1, accepted by its code, lets its consumer read
// current-1 and nothing else, on the banking core's reading routes only.
func TestConsentJWTReadsOnlyTheConsentsAccounts(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	customer := inst.Admin()
	c := decode(t, customer.PostJSON(t, "/banks/demo-bank/my/consents/SMS", accountAccess(tpp, "current-1")), http.StatusCreated)
	refusedWith(t, under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, tpp.key), http.StatusUnauthorized, "consent_not_authorised")
	a := decode(t, customer.PostJSON(t, "/banks/demo-bank/consents/"+c.ConsentID+"/challenge", map[string]string{"answer": c.Code}), http.StatusCreated)
	if a.Status != "ACCEPTED" {
		t.Fatalf("status %s after the challenge", a.Status)
	}

	for name, jwt := range map[string]string{"the creation's jwt": c.JWT, "the challenge's jwt": a.JWT} {
		t.Run(name, func(t *testing.T) {
			r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", jwt, tpp.key)
			if r.Status != http.StatusOK {
				t.Fatalf("accounts: %d %s", r.Status, r.Body)
			}
			if ids := accountIDs(t, r); len(ids) != 1 || ids[0] != "current-1" {
				t.Fatalf("accounts %v, want only current-1", ids)
			}
			enginetest.Fits(t, banking.Document(), "getAccounts", "200", r.Body)
		})
	}
	if ids := accountIDs(t, customer.Get(t, "/banks/demo-bank/accounts")); len(ids) < 2 {
		t.Fatalf("the customer's own login sees %v: the consent must narrow only calls under it", ids)
	}

	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"the consent's account", http.MethodGet, "/banks/demo-bank/accounts/current-1", http.StatusOK, ""},
		{"its transactions", http.MethodGet, "/banks/demo-bank/accounts/current-1/transactions", http.StatusOK, ""},
		{"another account of the customer", http.MethodGet, "/banks/demo-bank/accounts/savings-1", http.StatusForbidden, banking.CodeAccountOutsideConsent},
		{"its transactions", http.MethodGet, "/banks/demo-bank/accounts/savings-1/transactions", http.StatusForbidden, banking.CodeAccountOutsideConsent},
		{"a payment", http.MethodPost, "/banks/demo-bank/accounts/current-1/transaction-requests", http.StatusForbidden, "consent_not_accepted_here"},
		{"the customer's dashboard", http.MethodGet, "/my/consents", http.StatusForbidden, "consent_not_accepted_here"},
		{"the management API", http.MethodGet, "/admin/v1/users", http.StatusForbidden, "consent_not_accepted_here"},
	} {
		t.Run(tc.name+" "+tc.path, func(t *testing.T) {
			r := under(t, inst, tc.method, tc.path, c.JWT, tpp.key)
			if tc.code == "" {
				if r.Status != tc.status {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				enginetest.Fits(t, banking.Document(), map[bool]string{true: "getAccount", false: "getTransactions"}[!strings.HasSuffix(tc.path, "transactions")], "200", r.Body)
				return
			}
			refusedWith(t, r, tc.status, tc.code)
		})
	}
}

// TestConsentJWTIsRefused: a Consent-JWT works only exactly as issued,
// with its consumer's key, while its consent is accepted and unexpired.
func TestConsentJWTIsRefused(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	other := newConsumer(t, inst, "other app")
	c := accepted(t, inst.Admin(), "demo-bank", accountAccess(tpp, "current-1"))
	parts := strings.Split(c.JWT, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "current-1", "savings-1", 1))) + "." + parts[2]
	flipped := c.JWT[:len(c.JWT)-2] + map[bool]string{true: "A", false: "B"}[c.JWT[len(c.JWT)-2] != 'A'] + c.JWT[len(c.JWT)-1:]
	for _, tc := range []struct {
		name, jwt, key string
		header         map[string]string
		code           string
	}{
		{"another consumer's key", c.JWT, other.key, nil, "consumer_key_invalid"},
		{"no consumer key", c.JWT, "", nil, "consumer_key_invalid"},
		{"a forged payload", forged, tpp.key, nil, "consent_jwt_invalid"},
		{"a changed signature", flipped, tpp.key, nil, "consent_jwt_invalid"},
		{"not a JWT", "not-a-jwt", tpp.key, nil, "consent_jwt_invalid"},
		{"a Consent-Id without the consumer's token", "", tpp.key, map[string]string{"Consent-Id": c.ConsentID}, "consumer_key_invalid"},
		{"a Consent-Id with another consumer's token", "", tpp.key, map[string]string{"Consent-Id": c.ConsentID,
			"Authorization": "Bearer " + other.token}, "consumer_key_invalid"},
		{"a Consent-Id of no OBP consent", "", tpp.key, map[string]string{"Consent-Id": "no-such-consent",
			"Authorization": "Bearer " + tpp.token}, "consent_jwt_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Consumer-Key": tc.key}
			if tc.jwt != "" {
				h["Consent-JWT"] = tc.jwt
			}
			for k, v := range tc.header {
				h[k] = v
			}
			r := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/banks/demo-bank/accounts", Header: h})
			refusedWith(t, r, http.StatusUnauthorized, tc.code)
		})
	}
	if r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, tpp.key); r.Status != http.StatusOK {
		t.Fatalf("the consent itself: %d %s", r.Status, r.Body)
	}
	// OBP's other form: Consent-Id and Consumer-Key, with the consumer's
	// own client-credentials token.
	byID := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/banks/demo-bank/accounts",
		Header: map[string]string{"Consent-Id": c.ConsentID, "Consumer-Key": tpp.key, "Authorization": "Bearer " + tpp.token}})
	if ids := accountIDs(t, byID); byID.Status != http.StatusOK || len(ids) != 1 || ids[0] != "current-1" {
		t.Fatalf("Consent-Id with the consumer's token: %d %s", byID.Status, byID.Body)
	}

	t.Run("revoked by the customer", func(t *testing.T) {
		if r := inst.Admin().Delete(t, "/my/consents/"+c.ConsentID); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		refusedWith(t, under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, tpp.key), http.StatusUnauthorized, "consent_revoked")
	})
	t.Run("before valid_from", func(t *testing.T) {
		body := accountAccess(tpp, "current-1")
		body["valid_from"] = inst.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		later := accepted(t, inst.Admin(), "demo-bank", body)
		refusedWith(t, under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", later.JWT, tpp.key), http.StatusUnauthorized, "consent_not_yet_valid")
		inst.Clock.Advance(time.Hour)
		if r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", later.JWT, tpp.key); r.Status != http.StatusOK {
			t.Fatalf("from valid_from on: %d %s", r.Status, r.Body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		body := accountAccess(tpp, "current-1")
		body["time_to_live"] = 60
		short := accepted(t, inst.Admin(), "demo-bank", body)
		if r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts/current-1", short.JWT, tpp.key); r.Status != http.StatusOK {
			t.Fatalf("before expiry: %d %s", r.Status, r.Body)
		}
		inst.Clock.Advance(61 * time.Second)
		refusedWith(t, under(t, inst, http.MethodGet, "/banks/demo-bank/accounts/current-1", short.JWT, tpp.key), http.StatusUnauthorized, "consent_expired")
	})
}

// TestEverything: a consent for everything names every account the
// customer may share at the bank, and its history says the customer made
// it.
func TestEverything(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	c := accepted(t, inst.Admin(), "demo-bank", map[string]any{"everything": true, "consumer_id": tpp.id, "phone_number": "+44 7700 900123"})
	r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, tpp.key)
	if ids := accountIDs(t, r); !slices.Contains(ids, "current-1") || !slices.Contains(ids, "savings-1") {
		t.Fatalf("accounts under everything: %v", ids)
	}
	history, _ := inst.Admin().Get(t, "/my/consents/"+c.ConsentID).JSON(t)["history"].([]any)
	if len(history) != 2 || history[0].(map[string]any)["actor"] != "psu" || history[1].(map[string]any)["to"] != "authorised" {
		t.Fatalf("history %v, want creation and acceptance by the customer", history)
	}
	if got := inst.Admin().Get(t, "/admin/v1/consents/"+c.ConsentID); got.Status != http.StatusOK || got.JSON(t)["kind"] != "obp" {
		t.Fatalf("the bank's view: %d %s", got.Status, got.Body)
	}
}

// TestCreatedWithoutABankInThePath: OBP v5's /my/consents/{SCA_METHOD}
// takes the bank from the body; the consent is answered at
// /my/consents/{id}/challenge and reads the same.
func TestCreatedWithoutABankInThePath(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	body := accountAccess(tpp, "current-1")
	body["bank_id"] = "demo-bank"
	c := decode(t, inst.Admin().PostJSON(t, "/my/consents/IMPLICIT", body), http.StatusCreated)
	a := decode(t, inst.Admin().PostJSON(t, "/my/consents/"+c.ConsentID+"/challenge", map[string]string{"answer": c.Code}), http.StatusCreated)
	if a.Status != "ACCEPTED" {
		t.Fatalf("status %s after the challenge", a.Status)
	}
	r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", a.JWT, tpp.key)
	if ids := accountIDs(t, r); r.Status != http.StatusOK || len(ids) != 1 || ids[0] != "current-1" {
		t.Fatalf("accounts: %d %s", r.Status, r.Body)
	}
	delete(body, "bank_id")
	if r := inst.Admin().PostJSON(t, "/my/consents/IMPLICIT", body); r.Status != http.StatusBadRequest {
		t.Errorf("account_access without a bank: %d %s", r.Status, r.Body)
	}
}
