package core_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestUnderConsent serves UK v4.0 with its consent profile bound and host
// core: a TPP's consent authorised by the super admin for current-1 alone
// lists only current-1, in the standard's shape, and reads its balance;
// savings-1 stays out of reach.
func TestUnderConsent(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	doc := serveOnCore(t, inst, ukV40, "")
	if at(doc.view, "consent_profile", "id") != "uk-ob-v4.0-ais" {
		t.Fatalf("consent profile: %v", doc.view["consent_profile"])
	}
	tpp := inst.WithAuthorization("Bearer " + clientToken(t, inst))
	created := tpp.PostJSON(t, "/open-banking/v4.0/aisp/account-access-consents", map[string]any{"Data": map[string]any{
		"Permissions":        []string{"ReadAccountsDetail", "ReadBalances"},
		"ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}, "Risk": map[string]any{}})
	if created.Status != http.StatusCreated {
		t.Fatalf("consent: %d %s", created.Status, created.Body)
	}
	id := at(created.JSON(t), "Data", "ConsentId").(string)
	admin := inst.AdminID(t)
	inst.AuthoriseConsent(t, id, admin, "current-1")
	aisp := inst.ConsentCaller(t, enginetest.ConsumerKey, admin, id, 0)

	accounts := at(doc.fits(t, "GetAccounts", aisp.Get(t, "/open-banking/v4.0/aisp/accounts")), "Data", "Account").([]any)
	if len(accounts) != 1 || at(accounts[0], "AccountId") != "current-1" || at(accounts[0], "Account", 1, "Identification") != "GB57DEMO40400410000001" {
		t.Errorf("accounts under the consent: %v", accounts)
	}
	balances := at(doc.fits(t, "GetBalances", aisp.Get(t, "/open-banking/v4.0/aisp/balances")), "Data", "Balance").([]any)
	if len(balances) != 2 || at(balances[0], "AccountId") != "current-1" || at(balances[0], "Amount", "Amount") != "2350.00" {
		t.Errorf("balances under the consent: %v", balances)
	}
	if r := aisp.Get(t, "/open-banking/v4.0/aisp/accounts/savings-1"); r.Status != http.StatusForbidden {
		t.Errorf("savings-1 under the consent: %d %s", r.Status, r.Body)
	}
	// A document no consent decides does not answer the consent's token
	// with every account of the customer.
	serveOnCore(t, inst, ukV31, "?consent_profile=none")
	if r := aisp.Get(t, "/open-banking/v3.1/aisp/accounts"); r.Status != http.StatusForbidden {
		t.Errorf("the consent's token where no consent decides: %d %s", r.Status, r.Body)
	}
}

// TestScriptTakesOver: a JavaScript connector method named after an
// operation answers it instead of the core, and its answer is still
// checked against the document's schema.
func TestScriptTakesOver(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	doc := serveOnCore(t, inst, ukV40, "?consent_profile=none")
	inst.CreateScript(t, "GetAccounts", `return {Data: {Account: [{AccountId: "from-a-script", Currency: "GBP"}]}};`, 0)
	got := doc.fits(t, "GetAccounts", inst.Admin().Get(t, "/open-banking/v4.0/aisp/accounts"))
	if accounts := at(got, "Data", "Account").([]any); len(accounts) != 1 || at(accounts[0], "AccountId") != "from-a-script" {
		t.Errorf("accounts from the script: %v", got)
	}
	// The operations the script does not name are still the core's.
	if id := at(doc.fits(t, "GetAccountsAccountId", inst.Admin().Get(t, "/open-banking/v4.0/aisp/accounts/current-1")), "Data", "Account", 0, "AccountId"); id != "current-1" {
		t.Errorf("one account: %v", id)
	}
	inst.CreateScript(t, "GetBalances", `return {Data: {Balance: []}};`, 0)
	if r := inst.Admin().Get(t, "/open-banking/v4.0/aisp/balances"); r.Status != http.StatusBadGateway {
		t.Errorf("a script's answer that breaks the schema: %d %s", r.Status, r.Body)
	}
}

// TestCoreThroughDispatcher: the connector reads the core through the
// dispatcher, so a script (or routing) of getShareableAccounts is what it
// answers from; an account the script gives that the customer does not
// hold is never shown.
func TestCoreThroughDispatcher(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	doc := serveOnCore(t, inst, ukV40, "?consent_profile=none")
	inst.CreateScript(t, "getShareableAccounts", `
const mine = await connector.call("getShareableAccounts", args);
const extra = Object.assign({}, mine[0], {account_id: "from-the-back-end"});
const other = Object.assign({}, mine[0], {account_id: "not-yours", owners: [{user_id: "someone-else"}]});
return mine.concat([extra, other]);`, 0)
	var ids []any
	for _, acc := range at(doc.fits(t, "GetAccounts", inst.Admin().Get(t, "/open-banking/v4.0/aisp/accounts")), "Data", "Account").([]any) {
		ids = append(ids, at(acc, "AccountId"))
	}
	if len(ids) != 3 || ids[0] != "current-1" || ids[1] != "savings-1" || ids[2] != "from-the-back-end" {
		t.Errorf("accounts: %v", ids)
	}
	if r := inst.Admin().Get(t, "/open-banking/v4.0/aisp/accounts/not-yours"); r.Status != http.StatusNotFound {
		t.Errorf("an account the customer does not hold: %d %s", r.Status, r.Body)
	}
}

// TestScriptUnderConsent: a JavaScript connector method answering a call
// made under a consent reaches the core as the consent's customer (the
// TPP's token reaches no route of the core), and only the consent's
// accounts: lists hold only those, and another account of the same
// customer is refused.
func TestScriptUnderConsent(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	serveOnCore(t, inst, ukV40, "")
	inst.CreateScript(t, "GetAccounts", `const held = await connector.call("getShareableAccounts", [ctx.user.userId]);
		return {Data: {Account: held.map(a => ({AccountId: a.account_id, Currency: a.currency}))}, Links: {Self: "https://x/"}, Meta: {}};`, 0)
	inst.CreateScript(t, "GetAccountsAccountIdBalances", `const a = await connector.call("getAccount", ["demo-bank", args[0].query.other || args[0].path.AccountId]);
		return {Data: {Balance: [{AccountId: args[0].path.AccountId, CreditDebitIndicator: "Credit", Type: "ITAV",
		  DateTime: "2026-12-07T10:00:00+00:00", Amount: {Amount: a.balance.amount, Currency: a.balance.currency}}]}, Links: {Self: "https://x/"}, Meta: {}};`, 0)
	tpp := inst.WithAuthorization("Bearer " + clientToken(t, inst))
	created := tpp.PostJSON(t, "/open-banking/v4.0/aisp/account-access-consents", map[string]any{"Data": map[string]any{
		"Permissions":        []string{"ReadAccountsBasic", "ReadBalances"},
		"ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}, "Risk": map[string]any{}})
	id := at(created.JSON(t), "Data", "ConsentId").(string)
	admin := inst.AdminID(t)
	inst.AuthoriseConsent(t, id, admin, "current-1")
	aisp := inst.ConsentCaller(t, enginetest.ConsumerKey, admin, id, 0)

	r := aisp.Get(t, "/open-banking/v4.0/aisp/accounts")
	if accounts, _ := at(r.JSON(t), "Data", "Account").([]any); r.Status != http.StatusOK || len(accounts) != 1 || at(accounts[0], "AccountId") != "current-1" {
		t.Errorf("accounts: %d %s", r.Status, r.Body)
	}
	if r := aisp.Get(t, "/open-banking/v4.0/aisp/accounts/current-1/balances"); r.Status != http.StatusOK {
		t.Errorf("the consent's account: %d %s", r.Status, r.Body)
	}
	r = aisp.Get(t, "/open-banking/v4.0/aisp/accounts/current-1/balances?other=savings-1")
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "consent_account_out_of_scope") {
		t.Errorf("another account of the customer, read by the script: %d %s", r.Status, r.Body)
	}
}
