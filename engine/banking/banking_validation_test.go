package banking_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestBankingCoreInvalidInput shows invalid input to a banking route gets
// the 400 a dynamic operation gets: validation_failed with a violation per
// fault, located and pointed at, naming an unknown member; and changes
// nothing.
func TestBankingCoreInvalidInput(t *testing.T) {
	inst := enginetest.New(t)
	alice, _, aliceID, _ := inst.BankWithAccounts(t, "gh.29.uk")
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ThingsDocument)
	dynamic := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/pipeline/things", Body: []byte(`{"nom":1}`), Header: enginetest.JSONHeader()})
	if dynamic.Status != http.StatusBadRequest {
		t.Fatalf("dynamic operation: %d %s", dynamic.Status, dynamic.Body)
	}
	want := dynamic.Problem(t)
	if want.Code != engine.CodeValidationFailed {
		t.Fatalf("dynamic operation: code %q", want.Code)
	}
	account := "/banks/gh.29.uk/accounts/alice-1"

	for _, tc := range []struct {
		name              string
		caller            enginetest.Caller
		req               enginetest.Request
		location, pointer string
		code              string // the violation's code, "*" for any
		names             string // a word the violation's message must hold
	}{
		{name: "a negative limit", caller: inst.Token(alice), req: enginetest.Request{Method: "GET", Path: account + "/transactions?limit=-1", Header: enginetest.JSONHeader()},
			location: "query", pointer: "/limit", code: "minimum"},
		{name: "an offset that is no number", caller: inst.Token(alice), req: enginetest.Request{Method: "GET", Path: account + "/transactions?offset=ten", Header: enginetest.JSONHeader()},
			location: "query", pointer: "/offset", code: "*"},
		{name: "an unknown member of a new account",
			caller: inst.Admin(), req: enginetest.Request{Method: "POST", Path: "/banks/gh.29.uk/accounts", Header: enginetest.JSONHeader(),
				Body: []byte(`{"account_id":"carol-1","currency":"EUR","colour":"red","owners":[{"user_id":"` + aliceID + `"}]}`)},
			location: "body", pointer: "*", code: "*", names: "colour"},
		{name: "an unknown member deep in a payment",
			caller: inst.Token(alice), req: enginetest.Request{Method: "POST", Path: account + "/transaction-requests", Header: enginetest.JSONHeader(),
				Body: []byte(`{"to":{"bank_id":"gh.29.uk","account_id":"bob-1","iban":"x"},"value":{"currency":"EUR","amount":"1.00"}}`)},
			location: "body", pointer: "*", code: "*", names: "iban"},
		{name: "an amount that is a number, not a string",
			caller: inst.Token(alice), req: enginetest.Request{Method: "POST", Path: account + "/transaction-requests", Header: enginetest.JSONHeader(),
				Body: []byte(`{"to":{"bank_id":"gh.29.uk","account_id":"bob-1"},"value":{"currency":"EUR","amount":1}}`)},
			location: "body", pointer: "/value/amount", code: "type"},
		{name: "a payee body that is not JSON",
			caller: inst.Token(alice), req: enginetest.Request{Method: "POST", Path: account + "/counterparties", Header: enginetest.JSONHeader(), Body: []byte(`{"name":`)},
			location: "body", pointer: "*", code: "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Send(t, tc.req)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			p := r.Problem(t)
			if p.Code != want.Code {
				t.Errorf("code %q, want %q as a dynamic operation answers", p.Code, want.Code)
			}
			if !enginetest.HasViolation(p, tc.location, tc.pointer, tc.code) {
				t.Errorf("no violation at %s %s (%s): %+v", tc.location, tc.pointer, tc.code, p.Violations)
			}
			if tc.names != "" && !strings.Contains(string(r.Body), tc.names) {
				t.Errorf("the problem does not name %q: %s", tc.names, r.Body)
			}
		})
	}
	if got := inst.BalanceOf(t, alice, "gh.29.uk", "alice-1"); got != "100.00" {
		t.Errorf("alice's balance %s after refused payments, want 100.00", got)
	}
	if r := inst.Admin().Get(t, "/banks/gh.29.uk/accounts/carol-1"); r.Status != http.StatusNotFound {
		t.Errorf("a refused account was opened: %d %s", r.Status, r.Body)
	}
}

// TestBankingCoreIsBuiltIn shows the banking core's document is served from
// every snapshot but is not a submitted document: not listed, not
// deletable, and a document whose routes would clash with it is refused
// naming it.
func TestBankingCoreIsBuiltIn(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateBank(t, "gh.29.uk")
	list := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints")
	if list.Status != http.StatusOK || strings.Contains(string(list.Body), "banking") {
		t.Fatalf("the dynamic endpoints list shows the banking core: %d %s", list.Status, list.Body)
	}
	for _, id := range []string{"builtin:banking%20core", "banking"} {
		if r := inst.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+id); r.Status != http.StatusNotFound {
			t.Errorf("DELETE %s: %d %s", id, r.Status, r.Body)
		}
	}
	clash := []byte(`{"openapi":"3.1.0","info":{"title":"clash","version":"1"},"servers":[{"url":"/"}],
	  "paths":{"/banks":{"get":{"operationId":"myBanks","responses":{"200":{"description":"ok"}}}}}}`)
	r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", clash)
	if r.Status != http.StatusConflict || r.Problem(t).Code != engine.CodeRouteConflict || !strings.Contains(string(r.Body), "built-in banking core") {
		t.Fatalf("a document clashing with the banking core: %d %s", r.Status, r.Body)
	}
	if r := inst.Anonymous().Get(t, "/banks/gh.29.uk"); r.Status != http.StatusOK {
		t.Fatalf("GET /banks/gh.29.uk: %d %s", r.Status, r.Body)
	}
}

// TestBankingHolderRuleFiltersAnswers shows the holder rule is applied to
// what a connector answers, not only to what it is asked: a script that
// answers every account to anyone shows a caller only the accounts they
// hold, and one that answers someone else's account for theirs is a 403.
func TestBankingHolderRuleFiltersAnswers(t *testing.T) {
	inst := enginetest.New(t)
	alice, _, _, _ := inst.BankWithAccounts(t, "gh.29.uk")
	const foreign = `{account_id: "carol-1", bank_id: "gh.29.uk", currency: "EUR",
	  balance: {currency: "EUR", amount: "5.00"}, owners: [{user_id: "carol"}], status: "active",
	  created_at: "2026-01-15T09:30:00Z"}`
	inst.CreateScript(t, "getAccounts", `return [...await connector.call("getAccounts", args), `+foreign+`];`, 0)
	inst.CreateScript(t, "getShareableAccounts", `return [...await connector.call("getShareableAccounts", args), `+foreign+`];`, 0)
	inst.CreateScript(t, "getAccount", `return `+foreign+`;`, 0)
	for _, path := range []string{"/banks/gh.29.uk/accounts", "/my/accounts"} {
		r := inst.Token(alice).Get(t, path)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		if accounts := r.JSON(t)["accounts"].([]any); len(accounts) != 1 || accounts[0].(map[string]any)["account_id"] != "alice-1" {
			t.Errorf("GET %s shows alice %v, want only alice-1", path, accounts)
		}
	}
	if r := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts/alice-1"); r.Status != http.StatusForbidden {
		t.Errorf("a script answering bob's account for alice's: %d %s", r.Status, r.Body)
	}
}
