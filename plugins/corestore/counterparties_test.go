package corestore

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
)

func TestCounterparties(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	second, err := f.c.CreateCounterparty(ctx, "gh.29.uk", "alice-1", banking.Counterparty{CounterpartyID: "mine", BankID: "x", AccountID: "y",
		Name: "Landlord", OtherBankID: "other.bank", OtherAccountID: "alice-2"})
	if err != nil {
		t.Fatal(err)
	}
	if second.CounterpartyID == "mine" || second.BankID != "gh.29.uk" || second.AccountID != "alice-1" || second.CreatedAt.IsZero() {
		t.Fatalf("the connector sets id, bank, account and time: %+v", second)
	}
	cps, err := f.c.Counterparties(ctx, "gh.29.uk", "alice-1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, cp := range cps {
		ids = append(ids, cp.CounterpartyID)
	}
	if !slices.Equal(ids, []string{f.cpID, second.CounterpartyID}) {
		t.Fatalf("counterparties %v, want oldest first %v", ids, []string{f.cpID, second.CounterpartyID})
	}
	if got, err := f.c.Counterparties(ctx, "gh.29.uk", "bob-1"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("bob's counterparties %+v, %v", got, err)
	}

	tests := []struct {
		name     string
		cp       banking.Counterparty
		pointers []string
		codes    []string
	}{
		{"no name", banking.Counterparty{}, []string{"/name"}, []string{"required"}},
		{"long name", banking.Counterparty{Name: strings.Repeat("n", 257)}, []string{"/name"}, []string{"max_length"}},
		{"long description", banking.Counterparty{Name: "x", Description: strings.Repeat("d", 2049)}, []string{"/description"}, []string{"max_length"}},
		{"bank without account", banking.Counterparty{Name: "x", OtherBankID: "gh.29.uk"}, []string{"/other_account_id"}, []string{"required"}},
		{"account without bank", banking.Counterparty{Name: "x", OtherAccountID: "bob-1"}, []string{"/other_bank_id"}, []string{"required"}},
		{"missing account", banking.Counterparty{Name: "x", OtherBankID: "gh.29.uk", OtherAccountID: "nope"}, []string{"/other_account_id"}, []string{"not_found"}},
		{"account at another bank", banking.Counterparty{Name: "x", OtherBankID: "other.bank", OtherAccountID: "bob-1"}, []string{"/other_account_id"}, []string{"not_found"}},
		{"long routing", banking.Counterparty{Name: "x", OtherRoutings: []banking.Routing{{Scheme: "IBAN", Address: strings.Repeat("1", 257)}}},
			[]string{"/other_account_routings/0/address"}, []string{"max_length"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.c.CreateCounterparty(ctx, "gh.29.uk", "alice-1", tc.cp)
			e := wantError(t, err, http.StatusBadRequest, engine.CodeValidationFailed, tc.pointers...)
			for i, p := range tc.pointers {
				hasViolation(t, e, "body", p, tc.codes[i])
			}
		})
	}
	if got, _ := f.c.Counterparties(ctx, "gh.29.uk", "alice-1"); len(got) != 2 {
		t.Fatalf("refused counterparties were stored: %d", len(got))
	}
}
