package consent_test

import (
	"cmp"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The UK Open Banking v4.0 VRP document, as published.
var ukVRP = testpaths.Shared("specs", "ob-uk-v4.0", "vrp-openapi.yaml")

const (
	vrpConsents = "/open-banking/v4.0/pisp/domestic-vrp-consents"
	vrpPayments = "/open-banking/v4.0/pisp/domestic-vrps"
)

// TestUKVariableRecurringPayments runs UK VRP over the banking core with
// limits of 50 a payment and 100 a calendar day: 40 and 40 are paid, a
// third 40 and a 60 are refused with U014 naming the control, the next
// day (the fake clock) pays again, concurrent payments never take the day
// over its limit, and the TPP's own token cannot pay, whatever the
// document's security scheme says. Every answer fits the document.
func TestUKVariableRecurringPayments(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	doc := serveBound(t, inst, ukVRP, "uk-ob-v4.0-vrp", 7)
	_, bob, aliceID := payBank(t, inst, "vrp-bank")
	inst.OpenAccount(t, "vrp-bank", "alice-big", aliceID, "1000.00")
	app := newTPP(t, inst, "sweeper")
	creditor := map[string]any{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": bobSortCode, "Name": "Bob"}
	initiation := map[string]any{"CreditorAccount": creditor}

	consentRequest := func(limits []map[string]any, window map[string]any) map[string]any {
		ctl := map[string]any{"VRPType": []string{"UK.OBIE.VRPType.Sweeping"}, "PSUAuthenticationMethods": []string{"UK.OBIE.SCANotRequired"},
			"MaximumIndividualAmount": map[string]any{"Amount": "50.00", "Currency": "EUR"}, "PeriodicLimits": limits}
		for k, v := range window {
			ctl[k] = v
		}
		return map[string]any{"Data": map[string]any{"ControlParameters": ctl, "Initiation": initiation}, "Risk": map[string]any{}}
	}
	day := func(currency string) map[string]any {
		return map[string]any{"PeriodType": "Day", "PeriodAlignment": "Calendar", "Amount": "100.00", "Currency": currency}
	}
	t.Run("controls that cannot hold are refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  map[string]any
			path string
		}{
			{"a limit in another currency", consentRequest([]map[string]any{day("GBP")}, nil), "Data.ControlParameters.PeriodicLimits[0].Currency"},
			{"two day limits", consentRequest([]map[string]any{day("EUR"), day("EUR")}, nil), "Data.ControlParameters.PeriodicLimits[1]"},
			{"a window ending before it starts", consentRequest([]map[string]any{day("EUR")}, map[string]any{
				"ValidFromDateTime": "2030-01-02T00:00:00Z", "ValidToDateTime": "2030-01-01T00:00:00Z"}), "Data.ControlParameters.ValidToDateTime"},
		} {
			r := app.Send(t, ukPost(t, vrpConsents, "bad", tc.req))
			doc.fits(t, "domesticVrpConsentsPost", "400", r.Body)
			if paths := errorPaths(t, r); r.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != tc.path {
				t.Errorf("%s: %d %s; want 400 naming %s", tc.name, r.Status, r.Body, tc.path)
			}
		}
	})
	created := app.Send(t, ukPost(t, vrpConsents, "vrp-consent", consentRequest([]map[string]any{day("EUR")}, nil)))
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	doc.fits(t, "domesticVrpConsentsPost", "201", created.Body)
	id := created.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	inst.AuthoriseConsent(t, id, aliceID, "alice-big")
	customer := inst.ConsentCaller(t, app.key, aliceID, id, 0)
	if r := app.Get(t, vrpConsents+"/"+id); r.Status != http.StatusOK || r.JSON(t)["Data"].(map[string]any)["Status"] != "AUTH" {
		t.Errorf("consent: %d %s; want AUTH", r.Status, r.Body)
	} else {
		doc.fits(t, "domesticVrpConsentsGet", "200", r.Body)
	}

	n := 0
	payment := func(key, amount string) enginetest.Request {
		return ukPost(t, vrpPayments, key, map[string]any{"Data": map[string]any{
			"ConsentId": id, "PSUAuthenticationMethod": "UK.OBIE.SCANotRequired", "VRPType": "UK.OBIE.VRPType.Sweeping",
			"Initiation": initiation, "Instruction": map[string]any{"InstructionIdentification": "i", "EndToEndIdentification": "e",
				"InstructedAmount": map[string]any{"Amount": amount, "Currency": "EUR"}, "CreditorAccount": creditor}},
			"Risk": map[string]any{}})
	}
	payWith := func(caller enginetest.Caller, key, amount string) enginetest.Response {
		return caller.Send(t, payment(key, amount))
	}
	pay := func(caller enginetest.Caller, amount string) enginetest.Response {
		n++
		return payWith(caller, fmt.Sprintf("vrp-%d", n), amount)
	}
	var paymentID, firstID string
	for _, tc := range []struct {
		name, amount string
		status       int
		path         string
	}{
		{"first 40", "40.00", 201, ""},
		{"second 40", "40.00", 201, ""},
		{"a third 40 passes the day's 100", "40.00", 400, "Data.ControlParameters.PeriodicLimits[0]"},
		{"60 passes the 50 a payment", "60.00", 400, "Data.ControlParameters.MaximumIndividualAmount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pay(customer, tc.amount)
			if r.Status != tc.status {
				t.Fatalf("%s: %d %s; want %d", tc.amount, r.Status, r.Body, tc.status)
			}
			doc.fits(t, "domesticVrpPost", fmt.Sprint(tc.status), r.Body)
			if tc.status == 201 {
				paymentID = r.JSON(t)["Data"].(map[string]any)["DomesticVRPId"].(string)
				firstID = cmp.Or(firstID, paymentID)
				return
			}
			errs := r.JSON(t)["Errors"].([]any)
			if e := errs[0].(map[string]any); len(errs) != 1 || e["ErrorCode"] != "U014" || e["Path"] != tc.path {
				t.Errorf("refusal %s; want U014 at %s", r.Body, tc.path)
			}
		})
	}
	if got := inst.BalanceOf(t, bob, "vrp-bank", "bob-gb"); got != "80.00" {
		t.Errorf("bob-gb holds %s; want 80.00", got)
	}
	if r := pay(app.Caller, "10.00"); r.Status != http.StatusForbidden {
		t.Errorf("the TPP's own token: %d %s; want 403", r.Status, r.Body)
	}
	if r := payWith(customer, "vrp-1", "40.00"); r.Status != http.StatusCreated || r.JSON(t)["Data"].(map[string]any)["DomesticVRPId"] != firstID {
		t.Errorf("the first payment's key again: %d %s; want its answer replayed", r.Status, r.Body)
	}

	t.Run("the payment and funds, read by the TPP", func(t *testing.T) {
		r := app.Get(t, vrpPayments+"/"+paymentID)
		doc.fits(t, "domesticVrpGet", "200", r.Body)
		if r.Status != http.StatusOK || r.JSON(t)["Data"].(map[string]any)["Status"] != "ACSC" {
			t.Errorf("payment: %d %s", r.Status, r.Body)
		}
		details := app.Get(t, vrpPayments+"/"+paymentID+"/payment-details")
		doc.fits(t, "domesticVrpPaymentDetailsGet", "200", details.Body)
		if details.Status != http.StatusOK {
			t.Errorf("payment details: %d %s", details.Status, details.Body)
		}
		f := customer.Send(t, ukPost(t, vrpConsents+"/"+id+"/funds-confirmation", "f-1", map[string]any{"Data": map[string]any{
			"ConsentId": id, "InstructedAmount": map[string]any{"Amount": "920.00", "Currency": "EUR"}}}))
		doc.fits(t, "domesticVrpConsentsFundsConfirmation", "201", f.Body)
		if got := f.JSON(t)["Data"].(map[string]any)["FundsAvailableResult"].(map[string]any)["FundsAvailable"]; f.Status != 201 || got != "Available" {
			t.Errorf("funds: %d %s; want Available", f.Status, f.Body)
		}
	})

	inst.Clock.Advance(24 * time.Hour)
	customer = inst.ConsentCaller(t, app.key, aliceID, id, 0) // the first token expired
	// The first payment's key, a day on, is a new key: a new payment.
	if r := payWith(customer, "vrp-1", "40.00"); r.Status != http.StatusCreated || r.JSON(t)["Data"].(map[string]any)["DomesticVRPId"] == firstID {
		t.Fatalf("next day: %d %s; want 201, a new payment", r.Status, r.Body)
	}
	alice, bob := inst.Login(t, "alice", "Alice-passw0rd-long"), inst.Login(t, "bob", "Bob-passw0rd-long-1") // the first logins expired
	t.Run("a payment the core refuses counts nothing", func(t *testing.T) {
		if r := inst.Pay(t, alice, "vrp-bank", "alice-big", "bob-1", "870.00", "drain"); r.Status != http.StatusCreated {
			t.Fatalf("drain: %d %s", r.Status, r.Body)
		}
		r := pay(customer, "20.00")
		doc.fits(t, "domesticVrpPost", "400", r.Body)
		if paths := errorPaths(t, r); r.Status != http.StatusBadRequest || len(paths) != 1 || paths[0] != "Data.Instruction.InstructedAmount" {
			t.Errorf("payment from the drained account: %d %s; want 400 naming the amount", r.Status, r.Body)
		}
		if r := inst.Pay(t, bob, "vrp-bank", "bob-1", "alice-big", "870.00", "refill"); r.Status != http.StatusCreated {
			t.Fatalf("refill: %d %s", r.Status, r.Body)
		}
	})
	t.Run("concurrent payments keep the day's limit", func(t *testing.T) {
		var wg sync.WaitGroup
		reqs := make([]enginetest.Request, 4)
		for i := range reqs {
			reqs[i] = payment(fmt.Sprintf("vrp-c%d", i), "20.00")
		}
		statuses := make([]int, len(reqs))
		for i := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = customer.Send(t, reqs[i]).Status
			}()
		}
		wg.Wait()
		paid := 0
		for _, s := range statuses {
			if s == http.StatusCreated {
				paid++
			}
		}
		if paid != 3 {
			t.Errorf("statuses %v: %d paid; want 3 (60 left of the day's 100)", statuses, paid)
		}
		if got := inst.BalanceOf(t, bob, "vrp-bank", "bob-gb"); got != "180.00" {
			t.Errorf("bob-gb holds %s; want 180.00", got)
		}
	})
}
