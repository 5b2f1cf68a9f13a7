package authorize_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The UK Open Banking v4.0 payment initiation and confirmation of funds
// documents, as published.
var (
	ukPIS   = testpaths.Shared("specs", "ob-uk-v4.0", "payment-initiation-openapi.yaml")
	ukCBPII = testpaths.Shared("specs", "ob-uk-v4.0", "confirmation-funds-openapi.yaml")
)

const pisConsents = "/open-banking/v4.0/pisp/domestic-payment-consents"

// paymentConsent creates, as p, a domestic payment consent of 30.00 EUR to
// Bob, from the account debtor names by sort code when it is not "".
func (b *bank) paymentConsent(t *testing.T, p tpp, debtor string) string {
	t.Helper()
	in := map[string]any{"InstructionIdentification": "i-1", "EndToEndIdentification": "e-1",
		"InstructedAmount": map[string]any{"Amount": "30.00", "Currency": "EUR"},
		"CreditorAccount":  map[string]any{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "60161331926819", "Name": "Bob"}}
	if debtor != "" {
		in["DebtorAccount"] = map[string]any{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": debtor}
	}
	r := p.caller.Send(t, enginetest.Request{Method: http.MethodPost, Path: pisConsents,
		Body:   enginetest.MustJSON(t, map[string]any{"Data": map[string]any{"Initiation": in}, "Risk": map[string]any{}}),
		Header: map[string]string{"Content-Type": "application/json", "x-idempotency-key": "k-" + debtor, "x-jws-signature": "s"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("payment consent: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
}

// TestPaymentAuthorisation authorises UK payment consents through the JSON
// API: the customer sees the payment in plain language instead of
// permissions, is offered the accounts they may pay from (only the one the
// Initiation names, when it names one), chooses exactly one, and the
// token the TPP gets confirms funds under the consent.
func TestPaymentAuthorisation(t *testing.T) {
	t.Parallel()
	b := newBank(t, devCodes)
	if r := b.inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, ukPIS)); r.Status != http.StatusCreated {
		t.Fatalf("submit PIS: %d %s", r.Status, r.Body)
	}
	if r := b.inst.Admin().PostJSON(t, "/banks/uk-bank/accounts", map[string]any{"account_id": "alice-2", "currency": "EUR",
		"balance": map[string]string{"currency": "EUR", "amount": "50.00"}, "owners": []map[string]string{{"user_id": b.aliceID}},
		"account_routings": []map[string]string{{"scheme": "SortCodeAccountNumber", "address": "40302012345678"}}}); r.Status != http.StatusCreated {
		t.Fatalf("open alice-2: %d %s", r.Status, r.Body)
	}
	if r := b.inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, ukCBPII)); r.Status != http.StatusCreated {
		t.Fatalf("submit CBPII: %d %s", r.Status, r.Body)
	}
	alice := b.inst.As(enginetest.User{Token: b.inst.Login(t, "alice", alicePass)})
	open := func(t *testing.T, consentID string, k pkce, scope string) map[string]any {
		t.Helper()
		params := parParams(b.tpp, consentID, k)
		params.Set("scope", scope)
		pushed := b.tpp.form(t, b.inst, "/oauth2/par", params)
		if pushed.Status != http.StatusCreated {
			t.Fatalf("PAR: %d %s", pushed.Status, pushed.Body)
		}
		r := alice.PostJSON(t, "/my/consent-authorisations", map[string]string{"client_id": b.tpp.key, "request_uri": pushed.JSON(t)["request_uri"].(string)})
		if r.Status != http.StatusCreated {
			t.Fatalf("open: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	offered := func(a map[string]any) []string {
		var ids []string
		for _, acc := range a["accounts"].([]any) {
			ids = append(ids, acc.(map[string]any)["account_id"].(string))
		}
		return ids
	}
	choose := func(t *testing.T, id string, accounts ...string) enginetest.Response {
		t.Helper()
		return alice.PostJSON(t, "/my/consent-authorisations/"+id+"/accounts", map[string]any{"accounts": accounts})
	}

	t.Run("any payable account, exactly one", func(t *testing.T) {
		a := open(t, b.paymentConsent(t, b.tpp, ""), newPKCE("p"), "openid payments")
		pay, _ := a["consent"].(map[string]any)["payment"].(map[string]any)
		if text, _ := pay["text"].(string); !strings.HasPrefix(text, "Pay 30.00 EUR to Bob") {
			t.Errorf("payment shown as %v", a["consent"])
		}
		if got := offered(a); len(got) != 2 {
			t.Errorf("offered %v; want alice-1 and alice-2", got)
		}
		if r := choose(t, a["authorisation_id"].(string), "alice-1", "alice-2"); r.Status != http.StatusBadRequest {
			t.Errorf("two accounts: %d %s; want 400", r.Status, r.Body)
		}
	})

	t.Run("the account the Initiation names", func(t *testing.T) {
		consentID, k := b.paymentConsent(t, b.tpp, "40302012345678"), newPKCE("q")
		a := open(t, consentID, k, "openid payments")
		id := a["authorisation_id"].(string)
		if got := offered(a); len(got) != 1 || got[0] != "alice-2" {
			t.Fatalf("offered %v; want alice-2 alone", got)
		}
		if r := choose(t, id, "alice-1"); r.Status != http.StatusBadRequest {
			t.Errorf("another account: %d %s; want 400", r.Status, r.Body)
		}
		sent := choose(t, id, "alice-2")
		code, _ := sent.JSON(t)["code"].(string)
		if sent.Status != http.StatusOK || code == "" {
			t.Fatalf("choose: %d %s", sent.Status, sent.Body)
		}
		done := alice.PostJSON(t, "/my/consent-authorisations/"+id+"/sca", map[string]string{"answer": code})
		if done.Status != http.StatusOK || done.JSON(t)["sca_status"] != "finalised" {
			t.Fatalf("sca: %d %s", done.Status, done.Body)
		}
		tok := b.exchange(t, b.tpp, redirected(t, done.JSON(t)["redirect_uri"].(string)).Get("code"), redirectURI, k.verifier)
		if tok.Status != http.StatusOK {
			t.Fatalf("exchange: %d %s", tok.Status, tok.Body)
		}
		customer := b.inst.WithAuthorization("Bearer " + tok.JSON(t)["access_token"].(string))
		r := customer.Get(t, pisConsents+"/"+consentID+"/funds-confirmation")
		if r.Status != http.StatusOK || r.JSON(t)["Data"].(map[string]any)["FundsAvailableResult"].(map[string]any)["FundsAvailable"] != true {
			t.Errorf("funds from alice-2: %d %s; want available", r.Status, r.Body)
		}
	})

	t.Run("funds confirmation: the account the consent names", func(t *testing.T) {
		r := b.tpp.caller.Send(t, enginetest.Request{Method: http.MethodPost, Path: "/open-banking/v4.0/cbpii/funds-confirmation-consents",
			Body: enginetest.MustJSON(t, map[string]any{"Data": map[string]any{"DebtorAccount": map[string]any{
				"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "403020 12345678"}}}),
			Header: map[string]string{"Content-Type": "application/json", "x-idempotency-key": "cof", "x-jws-signature": "s"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("funds confirmation consent: %d %s", r.Status, r.Body)
		}
		a := open(t, r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string), newPKCE("f"), "openid fundsconfirmations")
		if got := offered(a); len(got) != 1 || got[0] != "alice-2" {
			t.Errorf("offered %v; want alice-2 alone", got)
		}
		if text, _ := a["consent"].(map[string]any)["payment"].(map[string]any)["text"].(string); !strings.HasPrefix(text, "Confirm whether") {
			t.Errorf("funds confirmation shown as %v", a["consent"])
		}
	})

	t.Run("the page shows the payment and takes one account", func(t *testing.T) {
		consentID := b.paymentConsent(t, b.tpp, "40302012345678")
		br := b.browser(t)
		br.open(t, b.tpp.key, b.push(t, b.tpp, consentID, newPKCE("b")))
		br.submit(t, "login", url.Values{"username": {"alice"}, "password": {alicePass}})
		for _, want := range []string{`<p id="payment">Pay 30.00 EUR to Bob (SortCodeAccountNumber 60161331926819)</p>`,
			`<input type="radio" name="account" id="account-alice-2" value="alice-2" required>`} {
			if !strings.Contains(br.page, want) {
				t.Errorf("accounts page lacks %q:\n%s", want, br.page)
			}
		}
		if strings.Contains(br.page, "account-alice-1") {
			t.Errorf("accounts page offers alice-1, which the Initiation does not name:\n%s", br.page)
		}
	})

	t.Run("scope names what the consent lets the TPP do", func(t *testing.T) {
		params := parParams(b.tpp, b.paymentConsent(t, b.tpp, "x"), newPKCE("r"))
		params.Set("scope", "openid")
		if r := b.tpp.form(t, b.inst, "/oauth2/par", params); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_scope" {
			t.Errorf("scope openid alone: %d %s; want 400 invalid_scope", r.Status, r.Body)
		}
	})
}
