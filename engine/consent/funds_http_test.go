package consent_test

import (
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The UK Open Banking v4.0 confirmation of funds document, as published.
var ukCBPII = testpaths.Shared("specs", "ob-uk-v4.0", "confirmation-funds-openapi.yaml")

const (
	cbpiiConsents = "/open-banking/v4.0/cbpii/funds-confirmation-consents"
	cbpiiFunds    = "/open-banking/v4.0/cbpii/funds-confirmations"
)

// TestUKConfirmationOfFunds runs UK confirmation of funds over the banking
// core: a consent for an account, authorised by its holder, confirms funds
// from that account's balance, for that account only: a request naming
// another consent (another account) is refused, as is the TPP's own token.
// Every answer fits the document.
func TestUKConfirmationOfFunds(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	doc := serveBound(t, inst, ukCBPII, "uk-ob-v4.0-cbpii", 4)
	_, _, aliceID := payBank(t, inst, "cof-bank")
	app := newTPP(t, inst, "card issuer")

	consentFor := func(t *testing.T, identification string) string {
		t.Helper()
		r := app.Send(t, ukPost(t, cbpiiConsents, "c-"+identification, map[string]any{"Data": map[string]any{
			"DebtorAccount": map[string]any{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": identification}}}))
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		doc.fits(t, "CreateFundsConfirmationConsents", "201", r.Body)
		return r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	}
	id, otherID := consentFor(t, "11111111111111"), consentFor(t, bobSortCode)
	inst.AuthoriseConsent(t, id, aliceID, "alice-1")
	if r := app.Get(t, cbpiiConsents+"/"+id); r.Status != http.StatusOK || r.JSON(t)["Data"].(map[string]any)["Status"] != "AUTH" {
		t.Errorf("consent: %d %s; want AUTH", r.Status, r.Body)
	} else {
		doc.fits(t, "GetFundsConfirmationConsentsConsentId", "200", r.Body)
	}
	customer := inst.ConsentCaller(t, app.key, aliceID, id, 0)
	ask := func(consentID, amount string) enginetest.Request {
		return ukPost(t, cbpiiFunds, "", map[string]any{"Data": map[string]any{"ConsentId": consentID, "Reference": "card-42",
			"InstructedAmount": map[string]any{"Amount": amount, "Currency": "EUR"}}})
	}

	for _, tc := range []struct {
		name, amount string
		want         bool
	}{{"covered", "99.99", true}, {"exactly", "100.00", true}, {"not covered", "100.01", false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := customer.Send(t, ask(id, tc.amount))
			if r.Status != http.StatusCreated {
				t.Fatalf("funds: %d %s", r.Status, r.Body)
			}
			doc.fits(t, "CreateFundsConfirmations", "201", r.Body)
			if d := r.JSON(t)["Data"].(map[string]any); d["FundsAvailable"] != tc.want || d["ConsentId"] != id || d["Reference"] != "card-42" {
				t.Errorf("funds for %s: %s; want FundsAvailable %v", tc.amount, r.Body, tc.want)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			caller enginetest.Caller
			req    enginetest.Request
		}{
			{"another account's consent", customer, ask(otherID, "1.00")},
			{"the TPP's own token", app.Caller, ask(id, "1.00")},
		} {
			r := tc.caller.Send(t, tc.req)
			if r.Status != http.StatusForbidden {
				t.Errorf("%s: %d %s; want 403", tc.name, r.Status, r.Body)
				continue
			}
			doc.fits(t, "CreateFundsConfirmations", "403", r.Body)
		}
	})
	t.Run("deleted, it confirms nothing", func(t *testing.T) {
		if r := app.Delete(t, cbpiiConsents+"/"+id); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := customer.Send(t, ask(id, "1.00")); r.Status != http.StatusForbidden {
			t.Errorf("after delete: %d %s; want 403", r.Status, r.Body)
		}
	})
}
