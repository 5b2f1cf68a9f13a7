package consent_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/browsertest"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// browser starts a headless Chromium for the test, or skips it when none
// is installed (browsertest.Context).
func browser(t *testing.T) context.Context { return browsertest.Context(t) }

// redirects is a TPP's redirect URI on loopback: it records the query of
// each redirect the customer's browser follows to it.
type redirects struct {
	srv *httptest.Server
	got chan url.Values
}

func newRedirects(t *testing.T) *redirects {
	r := &redirects{got: make(chan url.Values, 4)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case r.got <- req.URL.Query():
		default:
		}
		_, _ = w.Write([]byte("<html><body><p id=\"done\">back at the TPP</p></body></html>"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *redirects) uri() string { return r.srv.URL + "/callback" }

// pkce returns a code verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// scaCode waits for the one-time code the default sendScaChallenge
// delivery logged for consentID.
func scaCode(t *testing.T, logs *enginetest.LogBuffer, consentID string) string {
	t.Helper()
	re := regexp.MustCompile(`SCA code for consent ` + regexp.QuoteMeta(consentID) + `.*? code=(\d{6})`)
	var code string
	enginetest.WaitUntil(t, 10*time.Second, "the one-time code in the log", func() bool {
		m := re.FindStringSubmatch(logs.String())
		if m != nil {
			code = m[1]
		}
		return m != nil
	})
	return code
}

// ukAccountsScript answers GetAccounts from the banking core: every
// account the customer holds, in the UK shape. The consent's filter, not
// the script, decides which of them the TPP sees.
const ukAccountsScript = `
const held = await connector.call("getShareableAccounts", [ctx.user.userId]);
return {Data: {Account: held.map(a => ({AccountId: a.account_id, Currency: a.currency, Nickname: a.label}))},
        Links: {Self: "https://bank.example/accounts"}, Meta: {TotalPages: 1}};`

// ukBalancesScript answers GetAccountsAccountIdBalances from the core.
const ukBalancesScript = `
const id = args[0].path.AccountId;
const held = await connector.call("getShareableAccounts", [ctx.user.userId]);
const a = held.find(a => a.account_id === id);
if (!a) throw {status: 404, message: "no account " + id};
return {Data: {Balance: [{AccountId: id, CreditDebitIndicator: "Credit", Type: "ITAV",
        DateTime: "2026-12-07T10:00:00+00:00", Amount: {Amount: a.balance.amount, Currency: a.balance.currency}}]},
        Links: {Self: "https://bank.example/balances"}, Meta: {TotalPages: 1}};`

// TestSeedScenarioInBrowser is the seed scenario over HTTP on the
// real engine, with the customer in headless Chromium: a TPP's consumer
// gets a client-credentials token, creates an account-access consent
// (AWAU, valid against the document), the customer authorises it on the
// engine's pages (login, accounts, one-time code), the TPP exchanges the
// code and reads only what the consent grants, the customer revokes it in
// /my/consents, and the same token is refused at once.
func TestSeedScenarioInBrowser(t *testing.T) {
	ctx := browser(t)
	logs := &enginetest.LogBuffer{}
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) }))
	defer inst.Close(t)
	addr := "http://" + inst.Addr(t)
	v4 := load(t, ukV4)
	submit(t, inst, ukV4, "")
	inst.CreateScript(t, "GetAccounts", ukAccountsScript, 0)
	inst.CreateScript(t, "GetAccountsAccountIdBalances", ukBalancesScript, 0)
	alice, _, aliceID, _ := inst.BankWithAccounts(t, "seed-bank")
	inst.OpenAccount(t, "seed-bank", "alice-2", aliceID, "7.00")

	// The TPP registers its app with its redirect URI and gets a token.
	back := newRedirects(t)
	app := inst.Admin().PostJSON(t, "/my/consumers", map[string]any{"name": "Seed TPP", "redirect_uris": []string{back.uri()}})
	if app.Status != http.StatusCreated {
		t.Fatalf("consumer: %d %s", app.Status, app.Body)
	}
	key, secret := app.JSON(t)["consumer_key"].(string), app.JSON(t)["consumer_secret"].(string)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
	form := func(path string, v url.Values) enginetest.Response {
		return inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: path, Body: []byte(v.Encode()),
			Header: map[string]string{"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"}})
	}
	cc := form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if cc.Status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", cc.Status, cc.Body)
	}
	tpp := inst.WithAuthorization("Bearer " + cc.JSON(t)["access_token"].(string))

	// The consent: accounts and balances, not transactions.
	created := tpp.Send(t, enginetest.JSONRequest(t, "POST", v4Consents, consentRequest(inst, "ReadAccountsDetail", "ReadBalances")))
	if created.Status != http.StatusCreated {
		t.Fatalf("create consent: %d %s", created.Status, created.Body)
	}
	v4.fits(t, "CreateAccountAccessConsents", "201", created.Body)
	data := created.JSON(t)["Data"].(map[string]any)
	id := data["ConsentId"].(string)
	if data["Status"] != "AWAU" {
		t.Fatalf("new consent status %v", data["Status"])
	}

	// The TPP pushes the authorization request naming the consent.
	verifier, challenge := pkce()
	claims, _ := json.Marshal(map[string]any{"id_token": map[string]any{"openbanking_intent_id": map[string]any{"value": id, "essential": true}}})
	par := form("/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {key}, "redirect_uri": {back.uri()},
		"scope": {"openid accounts"}, "state": {"seed-state"}, "nonce": {"seed-nonce"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "claims": {string(claims)}})
	if par.Status != http.StatusCreated {
		t.Fatalf("PAR: %d %s", par.Status, par.Body)
	}
	authorize := addr + "/oauth2/authorize?" + url.Values{"client_id": {key}, "request_uri": {par.JSON(t)["request_uri"].(string)}}.Encode()

	// The customer, in the browser: log in, choose alice-1 only, approve,
	// enter the code the bank sent.
	account := chromedp.CSS(`input[name="account"][value="alice-1"]`)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "Alice-passw0rd-long"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(account),
		chromedp.Click(account),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#code")),
	); err != nil {
		t.Fatalf("authorisation pages: %v", err)
	}
	code := scaCode(t, logs, id)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	); err != nil {
		t.Fatalf("one-time code: %v", err)
	}
	var redirect url.Values
	select {
	case redirect = <-back.got:
	case <-time.After(10 * time.Second):
		t.Fatal("the browser never came back to the TPP")
	}
	if redirect.Get("state") != "seed-state" || redirect.Get("code") == "" || redirect.Get("iss") == "" {
		t.Fatalf("redirect to the TPP: %v", redirect)
	}

	// The TPP exchanges the code, with its PKCE verifier.
	tok := form("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {redirect.Get("code")},
		"redirect_uri": {back.uri()}, "code_verifier": {verifier}})
	if tok.Status != http.StatusOK {
		t.Fatalf("code exchange: %d %s", tok.Status, tok.Body)
	}
	psu := inst.WithAuthorization("Bearer " + tok.JSON(t)["access_token"].(string))

	const ais = "/open-banking/v4.0/aisp"
	accounts := psu.Get(t, ais+"/accounts")
	if accounts.Status != http.StatusOK {
		t.Fatalf("GET accounts under the consent: %d %s", accounts.Status, accounts.Body)
	}
	v4.fits(t, "GetAccounts", "200", accounts.Body)
	var listed struct {
		Data struct{ Account []struct{ AccountId string } }
	}
	if err := json.Unmarshal(accounts.Body, &listed); err != nil || len(listed.Data.Account) != 1 || listed.Data.Account[0].AccountId != "alice-1" {
		t.Fatalf("accounts listed under a consent for alice-1 alone: %s", accounts.Body)
	}
	for _, c := range []struct {
		name, path string
		status     int
	}{
		{"the chosen account's balance", ais + "/accounts/alice-1/balances", http.StatusOK},
		{"another account's balance", ais + "/accounts/alice-2/balances", http.StatusForbidden},
		{"transactions, not granted", ais + "/accounts/alice-1/transactions", http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := psu.Get(t, c.path)
			if r.Status != c.status {
				t.Fatalf("GET %s: %d, want %d: %s", c.path, r.Status, c.status, r.Body)
			}
			if c.status == http.StatusForbidden && !strings.Contains(string(r.Body), id) {
				t.Errorf("the refusal does not name the consent: %s", r.Body)
			}
		})
	}
	if got := tpp.Get(t, v4Consents+"/"+id).JSON(t)["Data"].(map[string]any)["Status"]; got != "AUTH" {
		t.Fatalf("consent after authorisation: %v", got)
	}

	// The customer's dashboard shows what the TPP read under the consent.
	detail := inst.Token(alice).Get(t, "/my/consents/"+id)
	var shown struct {
		RecentUses []struct {
			OperationID string `json:"operation_id"`
			AccountID   string `json:"account_id"`
			Status      int    `json:"status"`
		} `json:"recent_uses"`
	}
	if err := json.Unmarshal(detail.Body, &shown); err != nil || detail.Status != http.StatusOK {
		t.Fatalf("GET /my/consents/%s: %d %s", id, detail.Status, detail.Body)
	}
	uses := map[string]bool{}
	for _, u := range shown.RecentUses {
		uses[u.OperationID+" "+u.AccountID+" "+strconv.Itoa(u.Status)] = true
	}
	for _, want := range []string{"GetAccounts  200", "GetAccountsAccountIdBalances alice-1 200"} {
		if !uses[want] {
			t.Errorf("the dashboard's recent uses lack %q: %s", want, detail.Body)
		}
	}
	if len(shown.RecentUses) != 2 {
		t.Errorf("refused calls are not uses: %s", detail.Body)
	}

	// The customer revokes it on the dashboard: the same token stops.
	if r := inst.Token(alice).Delete(t, "/my/consents/"+id); r.Status/100 != 2 {
		t.Fatalf("revoke in /my/consents: %d %s", r.Status, r.Body)
	}
	if r := psu.Get(t, ais+"/accounts"); r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
		t.Fatalf("the revoked consent's token still reads: %d %s", r.Status, r.Body)
	}
	if got := tpp.Get(t, v4Consents+"/"+id).JSON(t)["Data"].(map[string]any)["Status"]; got != "CANC" {
		t.Fatalf("consent after revocation: %v", got)
	}
}
