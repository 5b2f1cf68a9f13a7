package consent_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The UK Open Banking v4.0 payment initiation document, as published.
var ukPIS = testpaths.Shared("specs", "ob-uk-v4.0", "payment-initiation-openapi.yaml")

const (
	pisConsents = "/open-banking/v4.0/pisp/domestic-payment-consents"
	pisPayments = "/open-banking/v4.0/pisp/domestic-payments"
	// bobSortCode is the sort code and account number of bob's account
	// bob-gb, the creditor of the payments.
	bobSortCode = "60161331926819"
)

// payBank opens bank bankID with alice's alice-1 (100.00 EUR), bob's bob-1
// (0) and bob's bob-gb (0, routed by bobSortCode), and returns alice's and
// bob's tokens and alice's user id.
func payBank(t *testing.T, inst *enginetest.Engine, bankID string) (alice, bob, aliceID string) {
	t.Helper()
	alice, bob, aliceID, bobID := inst.BankWithAccounts(t, bankID)
	r := inst.Admin().PostJSON(t, "/banks/"+bankID+"/accounts", map[string]any{"account_id": "bob-gb", "currency": "EUR",
		"balance": map[string]string{"currency": "EUR", "amount": "0"}, "owners": []map[string]string{{"user_id": bobID}},
		"account_routings": []map[string]string{{"scheme": "SortCodeAccountNumber", "address": bobSortCode}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("open bob-gb: %d %s", r.Status, r.Body)
	}
	return alice, bob, aliceID
}

// initiation is a domestic payment's Initiation: amount EUR to bob-gb.
func initiation(amount string) map[string]any {
	return map[string]any{"InstructionIdentification": "instr-1", "EndToEndIdentification": "e2e-1",
		"InstructedAmount":      map[string]any{"Amount": amount, "Currency": "EUR"},
		"CreditorAccount":       map[string]any{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": bobSortCode, "Name": "Bob"},
		"RemittanceInformation": map[string]any{"Reference": "Invoice 7"}}
}

// ukPost is a UK POST of v with the headers the standard requires: an
// idempotency key and a (detached) signature.
func ukPost(t *testing.T, path, key string, v any) enginetest.Request {
	t.Helper()
	return enginetest.Request{Method: http.MethodPost, Path: path, Body: enginetest.MustJSON(t, v),
		Header: map[string]string{"Content-Type": "application/json", "x-idempotency-key": key, "x-jws-signature": "detached..sig"}}
}

// errorPaths are the Path of each error of a UK error response.
func errorPaths(t *testing.T, r enginetest.Response) []string {
	t.Helper()
	var out []string
	errs, _ := r.JSON(t)["Errors"].([]any)
	for _, e := range errs {
		p, _ := e.(map[string]any)["Path"].(string)
		out = append(out, p)
	}
	return out
}

// TestUKDomesticPayment runs a UK domestic payment over the banking core:
// the consent, its authorisation for a payable account, the funds
// confirmation before and after the account is drained, a payment that is
// not the consent's refused naming the field, the matching payment moving
// the money and consuming the consent, a second payment refused, and the
// idempotency key replaying the first answer. Every answer fits the
// document.
func TestUKDomesticPayment(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	doc := serveBound(t, inst, ukPIS, "uk-ob-v4.0-pis", 6)
	alice, bob, aliceID := payBank(t, inst, "pis-bank")
	tppApp, other := newTPP(t, inst, "payer app"), tpp(t, inst, "other app")
	request := map[string]any{"Data": map[string]any{"Initiation": initiation("30.00")}, "Risk": map[string]any{"PaymentContextCode": "TransferToThirdParty"}}

	created := tppApp.Send(t, ukPost(t, pisConsents, "consent-1", request))
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	doc.fits(t, "CreateDomesticPaymentConsents", "201", created.Body)
	data := created.JSON(t)["Data"].(map[string]any)
	id := data["ConsentId"].(string)
	if data["Status"] != "AWAU" || data["Initiation"].(map[string]any)["InstructedAmount"].(map[string]any)["Amount"] != "30.00" {
		t.Errorf("created: %s", created.Body)
	}
	inst.AuthoriseConsent(t, id, aliceID, "alice-1")
	customer := inst.ConsentCaller(t, tppApp.key, aliceID, id, 0)

	status := func(t *testing.T, want string) {
		t.Helper()
		r := tppApp.Get(t, pisConsents+"/"+id)
		doc.fits(t, "GetDomesticPaymentConsentsConsentId", "200", r.Body)
		if r.Status != http.StatusOK || r.JSON(t)["Data"].(map[string]any)["Status"] != want {
			t.Errorf("consent: %d %s; want %s", r.Status, r.Body, want)
		}
	}
	status(t, "AUTH")
	if r := inst.Token(alice).Send(t, enginetest.JSONRequest(t, http.MethodPut, "/my/consents/"+id+"/accounts",
		map[string]any{"accounts": []string{"alice-1"}})); r.Status != http.StatusConflict {
		t.Errorf("the customer changing the account paid from: %d %s; want 409", r.Status, r.Body)
	}

	payment := func(amount string) map[string]any {
		return map[string]any{"Data": map[string]any{"ConsentId": id, "Initiation": initiation(amount)},
			"Risk": map[string]any{"PaymentContextCode": "TransferToThirdParty"}}
	}
	t.Run("funds confirmation follows the balance", func(t *testing.T) {
		funds := func(t *testing.T, want bool) {
			t.Helper()
			r := customer.Get(t, pisConsents+"/"+id+"/funds-confirmation")
			if r.Status != http.StatusOK {
				t.Fatalf("funds: %d %s", r.Status, r.Body)
			}
			doc.fits(t, "GetDomesticPaymentConsentsConsentIdFundsConfirmation", "200", r.Body)
			got := r.JSON(t)["Data"].(map[string]any)["FundsAvailableResult"].(map[string]any)["FundsAvailable"]
			if got != want {
				t.Errorf("FundsAvailable %v; want %v", got, want)
			}
		}
		funds(t, true)
		if r := inst.Pay(t, alice, "pis-bank", "alice-1", "bob-1", "80.00", "drain"); r.Status != http.StatusCreated {
			t.Fatalf("drain: %d %s", r.Status, r.Body)
		}
		funds(t, false)
		r := customer.Send(t, ukPost(t, pisPayments, "pay-drained", payment("30.00")))
		doc.fits(t, "CreateDomesticPayments", "400", r.Body)
		if paths := errorPaths(t, r); r.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != "Data.Initiation.InstructedAmount" {
			t.Errorf("payment from the drained account: %d %s; want 400 naming the amount", r.Status, r.Body)
		}
		status(t, "AUTH")
		if r := inst.Pay(t, bob, "pis-bank", "bob-1", "alice-1", "80.00", "refill"); r.Status != http.StatusCreated {
			t.Fatalf("refill: %d %s", r.Status, r.Body)
		}
		funds(t, true)
		if r := tppApp.Get(t, pisConsents+"/"+id+"/funds-confirmation"); r.Status != http.StatusForbidden {
			t.Errorf("funds with the TPP's own token: %d %s; want 403", r.Status, r.Body)
		}
	})

	t.Run("a payment that is not the consent's is refused, naming the field", func(t *testing.T) {
		r := customer.Send(t, ukPost(t, pisPayments, "pay-other", payment("31.00")))
		doc.fits(t, "CreateDomesticPayments", "400", r.Body)
		if paths := errorPaths(t, r); r.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != "Data.Initiation.InstructedAmount.Amount" {
			t.Errorf("other amount: %d %s; want 400 naming Data.Initiation.InstructedAmount.Amount", r.Status, r.Body)
		}
		elsewhere := payment("30.00")
		elsewhere["Data"].(map[string]any)["ConsentId"] = "another-consent"
		r = customer.Send(t, ukPost(t, pisPayments, "pay-elsewhere", elsewhere))
		if paths := errorPaths(t, r); r.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != "Data.ConsentId" {
			t.Errorf("another ConsentId: %d %s; want 400 naming Data.ConsentId", r.Status, r.Body)
		}
		other := payment("30.00")
		other["Risk"] = map[string]any{}
		r = customer.Send(t, ukPost(t, pisPayments, "pay-risk", other))
		if paths := errorPaths(t, r); r.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != "Risk.PaymentContextCode" {
			t.Errorf("other risk: %d %s; want 400 naming Risk.PaymentContextCode", r.Status, r.Body)
		}
	})

	if r := other.Send(t, ukPost(t, pisPayments, "pay-tpp", payment("30.00"))); r.Status != http.StatusForbidden {
		t.Errorf("payment with a client-credentials token: %d %s; want 403", r.Status, r.Body)
	}
	paid := customer.Send(t, ukPost(t, pisPayments, "pay-1", payment("30.00")))
	if paid.Status != http.StatusCreated {
		t.Fatalf("pay: %d %s", paid.Status, paid.Body)
	}
	doc.fits(t, "CreateDomesticPayments", "201", paid.Body)
	paymentID := paid.JSON(t)["Data"].(map[string]any)["DomesticPaymentId"].(string)
	balances := func(t *testing.T, wantAlice, wantBob string) {
		t.Helper()
		if a, b := inst.BalanceOf(t, alice, "pis-bank", "alice-1"), inst.BalanceOf(t, bob, "pis-bank", "bob-gb"); a != wantAlice || b != wantBob {
			t.Errorf("balances alice-1 %s, bob-gb %s; want %s, %s", a, b, wantAlice, wantBob)
		}
	}
	balances(t, "70.00", "30.00")
	status(t, "COND")
	if n := inst.Audited(t, "consent.consume", id); n != 1 {
		t.Errorf("consent.consume audited %d times; want 1", n)
	}

	t.Run("once only, replayed by its key", func(t *testing.T) {
		second := customer.Send(t, ukPost(t, pisPayments, "pay-2", payment("30.00")))
		doc.fits(t, "CreateDomesticPayments", "403", second.Body)
		if errs, _ := second.JSON(t)["Errors"].([]any); second.Status != http.StatusForbidden || len(errs) != 1 ||
			errs[0].(map[string]any)["ErrorCode"] != "U009" {
			t.Errorf("second payment: %d %s; want 403 U009", second.Status, second.Body)
		}
		again := customer.Send(t, ukPost(t, pisPayments, "pay-1", payment("30.00")))
		doc.fits(t, "CreateDomesticPayments", "201", again.Body)
		if again.Status != http.StatusCreated || again.JSON(t)["Data"].(map[string]any)["DomesticPaymentId"] != paymentID {
			t.Errorf("replay: %d %s; want 201 with payment %s", again.Status, again.Body, paymentID)
		}
		reused := customer.Send(t, ukPost(t, pisPayments, "pay-1", payment("31.00")))
		if paths := errorPaths(t, reused); reused.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != "x-idempotency-key" {
			t.Errorf("key reused for another body: %d %s; want 400 naming x-idempotency-key", reused.Status, reused.Body)
		}
		balances(t, "70.00", "30.00")
	})

	t.Run("the payment is read by its TPP only", func(t *testing.T) {
		r := tppApp.Get(t, pisPayments+"/"+paymentID)
		doc.fits(t, "GetDomesticPaymentsDomesticPaymentId", "200", r.Body)
		if d := r.JSON(t)["Data"].(map[string]any); r.Status != http.StatusOK || d["Status"] != "ACSC" || d["ConsentId"] != id {
			t.Errorf("payment: %d %s", r.Status, r.Body)
		}
		details := tppApp.Get(t, pisPayments+"/"+paymentID+"/payment-details")
		doc.fits(t, "GetDomesticPaymentsDomesticPaymentIdPaymentDetails", "200", details.Body)
		if st := details.JSON(t)["Data"].(map[string]any)["PaymentStatus"].([]any); details.Status != http.StatusOK || len(st) != 1 ||
			st[0].(map[string]any)["Status"] != "ACSC" {
			t.Errorf("payment details: %d %s", details.Status, details.Body)
		}
		for _, path := range []string{pisPayments + "/" + paymentID, pisPayments + "/" + paymentID + "/payment-details"} {
			if r := other.Get(t, path); r.Status != http.StatusBadRequest {
				t.Errorf("another TPP's read of %s: %d %s; want 400", path, r.Status, r.Body)
			}
		}
	})
}

// TestUKDomesticPaymentCreditors: a payment goes to the account of this
// server its creditor's routing names, at another bank too (IBAN, spaces
// aside), and is refused naming the identification when no account of
// this server has that routing; the consent stays authorised then.
func TestUKDomesticPaymentCreditors(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	doc := load(t, ukPIS)
	submit(t, inst, ukPIS, "")
	alice, _, aliceID := payBank(t, inst, "home-bank")
	inst.CreateBank(t, "far-bank")
	inst.GrantAdmin(t, "far-bank", "CanCreateAccount")
	if r := inst.Admin().PostJSON(t, "/banks/far-bank/accounts", map[string]any{"account_id": "carol-1", "currency": "EUR",
		"balance": map[string]string{"currency": "EUR", "amount": "0"}, "owners": []map[string]string{{"user_id": aliceID}},
		"account_routings": []map[string]string{{"scheme": "IBAN", "address": "GB29NWBK60161331926819"}}}); r.Status != http.StatusCreated {
		t.Fatalf("open carol-1: %d %s", r.Status, r.Body)
	}
	app := newTPP(t, inst, "payer")
	for _, tc := range []struct {
		name, identification string
		status               int
		path                 string
	}{
		{"at another bank of this server", "GB29 NWBK 6016 1331 9268 19", http.StatusCreated, ""},
		{"at no bank of this server", "GB94BARC10201530093459", http.StatusBadRequest, "Data.Initiation.CreditorAccount.Identification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := initiation("10.00")
			in["CreditorAccount"] = map[string]any{"SchemeName": "UK.OBIE.IBAN", "Identification": tc.identification, "Name": "Carol"}
			req := map[string]any{"Data": map[string]any{"Initiation": in}, "Risk": map[string]any{}}
			created := app.Send(t, ukPost(t, pisConsents, "c-"+tc.name, req))
			if created.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", created.Status, created.Body)
			}
			id := created.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
			inst.AuthoriseConsent(t, id, aliceID, "alice-1")
			r := inst.ConsentCaller(t, app.key, aliceID, id, 0).Send(t, ukPost(t, pisPayments, "p-"+tc.name,
				map[string]any{"Data": map[string]any{"ConsentId": id, "Initiation": in}, "Risk": map[string]any{}}))
			doc.fits(t, "CreateDomesticPayments", fmt.Sprint(tc.status), r.Body)
			if r.Status != tc.status {
				t.Fatalf("pay: %d %s; want %d", r.Status, r.Body, tc.status)
			}
			if tc.status != http.StatusCreated {
				if paths := errorPaths(t, r); len(paths) != 1 || paths[0] != tc.path {
					t.Errorf("refusal %s; want it naming %s", r.Body, tc.path)
				}
				if c := app.Get(t, pisConsents+"/"+id); c.JSON(t)["Data"].(map[string]any)["Status"] != "AUTH" {
					t.Errorf("consent after the refusal: %s; want AUTH", c.Body)
				}
			}
		})
	}
	if got := inst.BalanceOf(t, alice, "far-bank", "carol-1"); got != "10.00" {
		t.Errorf("carol-1 holds %s; want 10.00", got)
	}
}
