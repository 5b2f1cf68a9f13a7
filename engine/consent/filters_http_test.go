package consent_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// ukTransactions is a JavaScript connector method answering an account's
// transactions in the UK shape: a credit inside the window paid by card
// (its PAN in DebtorAccount), a debit inside it to a sort code, and a
// credit before it; TransactionReference says which period the host was
// asked for.
const ukTransactions = `const q = ctx.request.query;
const asked = (q.fromBookingDateTime || "-") + "/" + (q.toBookingDateTime || "-");
const tx = (id, dir, at, extra) => Object.assign({AccountId: "acc-1", TransactionId: id, TransactionReference: asked,
  CreditDebitIndicator: dir, Status: "BOOK", BookingDateTime: at, Amount: {Amount: "10.00", Currency: "GBP"},
  TransactionInformation: "detail of " + id, Balance: {CreditDebitIndicator: "Credit", Type: "CLBD", Amount: {Amount: "100.00", Currency: "GBP"}}}, extra);
return {Data: {Transaction: [
  tx("in-window-credit", "Credit", "2026-03-10T09:00:00+00:00", {DebtorAccount: {SchemeName: "UK.OBIE.PAN", Identification: "4111111111111111", Name: "card"}}),
  tx("in-window-debit", "Debit", "2026-03-20T09:00:00+00:00", {CreditorAccount: {SchemeName: "UK.OBIE.SortCodeAccountNumber", Identification: "11223344556677"}}),
  tx("early-credit", "Credit", "2025-12-01T09:00:00+00:00", {})]},
  Links: {Self: "https://bank.example/"}, Meta: {}};`

// TestResponseFilters: what a consent's permissions and transaction window
// let the TPP see of the items a back end answers, as the UK profile
// declares it: Basic permissions hide the Detail fields, Credits alone
// hides debits, items outside the window are dropped and the host is asked
// for the window only, and a PAN is masked without ReadPAN. Every answer
// still fits the document's schema.
func TestResponseFilters(t *testing.T) {
	t.Parallel()
	w := newAIS(t)
	inst, alice, psu := w.inst, w.tpp, w.psu
	doc := load(t, ukV4)
	inst.CreateScript(t, "GetAccountsAccountIdTransactions", ukTransactions, 0)
	inst.CreateScript(t, "GetAccounts", `return {Data: {Account: [{AccountId: "acc-1", Currency: "GBP", AccountCategory: "Personal",
		AccountTypeCode: "CACC", Nickname: "Bills", Account: [{SchemeName: "UK.OBIE.PAN", Identification: "5500000000000004", Name: "Card"},
		{SchemeName: "UK.OBIE.SortCodeAccountNumber", Identification: "11223344556677", Name: "Current"}]}]},
		Links: {Self: "https://bank.example/"}, Meta: {}};`, 0)
	window := func(from, to string) map[string]any {
		return map[string]any{"TransactionFromDateTime": from, "TransactionToDateTime": to}
	}
	for _, tc := range []struct {
		name  string
		perms []string
		extra map[string]any
		query string
		// want: the transactions answered, whether their detail fields and
		// the PAN are shown, and the period the host was asked for.
		want   []string
		detail bool
		pan    bool
		asked  string
	}{
		{name: "detail, both directions, PAN", perms: []string{"ReadAccountsDetail", "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits", "ReadPAN"},
			want: []string{"in-window-credit", "in-window-debit", "early-credit"}, detail: true, pan: true, asked: "-/-"},
		{name: "basic only", perms: []string{"ReadAccountsBasic", "ReadTransactionsBasic", "ReadTransactionsCredits", "ReadTransactionsDebits"},
			want: []string{"in-window-credit", "in-window-debit", "early-credit"}, asked: "-/-"},
		{name: "credits only", perms: []string{"ReadAccountsDetail", "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadPAN"},
			want: []string{"in-window-credit", "early-credit"}, detail: true, pan: true, asked: "-/-"},
		{name: "debits only, no PAN", perms: []string{"ReadAccountsDetail", "ReadTransactionsDetail", "ReadTransactionsDebits"},
			want: []string{"in-window-debit"}, detail: true, asked: "-/-"},
		{name: "window", perms: []string{"ReadAccountsDetail", "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits", "ReadPAN"},
			extra: window("2026-03-01T00:00:00+00:00", "2026-03-15T00:00:00+00:00"),
			want:  []string{"in-window-credit"}, detail: true, pan: true, asked: "2026-03-01T00:00:00Z/2026-03-15T00:00:00Z"},
		{name: "window, a narrower query kept", perms: []string{"ReadAccountsDetail", "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits", "ReadPAN"},
			extra: window("2026-03-01T00:00:00+00:00", "2026-03-31T00:00:00+00:00"), query: "?fromBookingDateTime=2026-03-05T00:00:00&toBookingDateTime=2027-01-01",
			want: []string{"in-window-credit", "in-window-debit"}, detail: true, pan: true, asked: "2026-03-05T00:00:00Z/2026-03-31T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := consentRequest(inst, tc.perms...)
			for k, v := range tc.extra {
				req["Data"].(map[string]any)[k] = v
			}
			r := alice.PostJSON(t, v4Consents, req)
			if r.Status != 201 {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
			inst.AuthoriseConsent(t, id, psu.ID, "acc-1")
			aisp := inst.ConsentCaller(t, alice.key, psu.ID, id, 0)

			r = aisp.Get(t, v4Accounts+"/acc-1/transactions"+tc.query)
			if r.Status != 200 {
				t.Fatalf("transactions: %d %s", r.Status, r.Body)
			}
			doc.fits(t, "GetAccountsAccountIdTransactions", "200", r.Body)
			var got struct {
				Data struct{ Transaction []map[string]json.RawMessage }
			}
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tx := range got.Data.Transaction {
				var id, asked string
				_ = json.Unmarshal(tx["TransactionId"], &id)
				_ = json.Unmarshal(tx["TransactionReference"], &asked)
				ids = append(ids, id)
				if asked != tc.asked {
					t.Errorf("the host was asked for %s; want %s", asked, tc.asked)
				}
				_, shown := tx["TransactionInformation"]
				_, balance := tx["Balance"]
				if shown != tc.detail || balance != tc.detail {
					t.Errorf("%s: detail fields shown %v, %v; want %v: %s", id, shown, balance, tc.detail, r.Body)
				}
				if debtor, ok := tx["DebtorAccount"]; ok {
					assertPAN(t, debtor, "4111111111111111", tc.pan)
				}
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("transactions %v; want %v: %s", ids, tc.want, r.Body)
			}

			r = aisp.Get(t, v4Accounts)
			if r.Status != 200 {
				t.Fatalf("accounts: %d %s", r.Status, r.Body)
			}
			doc.fits(t, "GetAccounts", "200", r.Body)
			var accounts struct {
				Data struct{ Account []map[string]json.RawMessage }
			}
			if err := json.Unmarshal(r.Body, &accounts); err != nil || len(accounts.Data.Account) != 1 {
				t.Fatalf("%v: %s", err, r.Body)
			}
			ids2, shown := accounts.Data.Account[0]["Account"]
			if shown != tc.detail {
				t.Fatalf("account identification shown %v; want %v: %s", shown, tc.detail, r.Body)
			}
			if shown {
				var list []json.RawMessage
				_ = json.Unmarshal(ids2, &list)
				assertPAN(t, list[0], "5500000000000004", tc.pan)
				assertPAN(t, list[1], "11223344556677", true) // a sort code is never masked
			}
		})
	}
}

// assertPAN fails the test unless the account identification v shows
// number whole (when whole) or masked to its last four digits.
func assertPAN(t *testing.T, v json.RawMessage, number string, whole bool) {
	t.Helper()
	var id struct{ Identification string }
	if err := json.Unmarshal(v, &id); err != nil {
		t.Fatal(err)
	}
	want := number
	if !whole {
		want = "************" + number[len(number)-4:]
	}
	if id.Identification != want {
		t.Errorf("identification %q; want %q", id.Identification, want)
	}
}
