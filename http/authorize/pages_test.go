package authorize_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// smsScript routes sendScaChallenge to a script that "sends" the code by
// logging it as "sms", as a bank's SMS gateway routing would.
const smsScript = `log.info("sms", {to: args[0], consent: args[1], channel: args[2], code: args[3], text: args[4]}); return {delivered: true};`

// logged starts the engine logging JSON to a buffer, with the SMS script.
func logged(t *testing.T) (*bank, *enginetest.LogBuffer) {
	t.Helper()
	b, logs := withLogs(t)
	b.inst.CreateScript(t, "sendScaChallenge", smsScript, 0)
	return b, logs
}

// withLogs starts the engine logging JSON to a buffer.
func withLogs(t *testing.T) (*bank, *enginetest.LogBuffer) {
	t.Helper()
	logs := &enginetest.LogBuffer{}
	return newBank(t, enginetest.Configure(func(c *dynapi.Config) { c.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })), logs
}

// lastSMS is the last one-time code the SMS script was given for consent.
func lastSMS(t *testing.T, logs *enginetest.LogBuffer, consentID string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == "sms" && r["consent"] == consentID {
			last = r
		}
	}
	if last == nil {
		t.Fatalf("no SMS sent for consent %s", consentID)
	}
	return last
}

// TestPagesFlow authorises a consent on the pages with a Go client keeping
// cookies: log in, see the consent in plain language, pick an account,
// enter the code the bank's SMS routing got, land on the TPP's redirect
// URI with code, state and iss, and exchange the code with PKCE.
func TestPagesFlow(t *testing.T) {
	t.Parallel()
	b, logs := logged(t)
	consentID := b.consent(t, b.tpp, "ReadAccountsBasic", "ReadTransactionsDetail", "ReadTransactionsCredits")
	k := newPKCE("p")
	br := b.browser(t)
	br.open(t, b.tpp.key, b.push(t, b.tpp, consentID, k))
	if br.status != http.StatusOK || !strings.Contains(br.page, "Budget App") {
		t.Fatalf("authorize page: %d %s", br.status, br.page)
	}
	securityHeaders(t, br.header, "https://tpp.example.com")
	if c := strings.ToLower(br.header.Get("Set-Cookie")); !strings.Contains(c, "httponly") || !strings.Contains(c, "samesite=lax") ||
		!strings.Contains(c, "path=/oauth2/") || strings.Contains(c, "secure") {
		t.Errorf("cookie %q", c)
	}

	br.submit(t, "login", url.Values{"username": {"alice"}, "password": {alicePass}})
	// The words of the consent's profile, as on the customer's dashboard.
	for _, want := range []string{"Your account names, numbers and currencies", "Your transactions in full: with the payer&#39;s or payee&#39;s details and the references", "Money coming into your accounts"} {
		if !strings.Contains(br.page, want) {
			t.Errorf("accounts page lacks %q:\n%s", want, br.page)
		}
	}
	if f := br.form(t, "approve"); len(f.checkboxes) != 1 || f.checkboxes[0] != "alice-1" {
		t.Fatalf("shareable accounts %v; want alice's alone", f.checkboxes)
	}
	br.submit(t, "approve", url.Values{"account": {"alice-1"}})
	sms := lastSMS(t, logs, consentID)
	if sms["to"] != b.aliceID || sms["channel"] != "sms" || !strings.Contains(sms["text"].(string), sms["code"].(string)) {
		t.Errorf("sms %v", sms)
	}
	if strings.Contains(br.page, sms["code"].(string)) || strings.Contains(logs.String(), "SCA code for consent") {
		t.Errorf("the code is on the page, or the default connector was called too")
	}
	br.submit(t, "confirm", url.Values{"code": {sms["code"].(string)}})
	if br.status != http.StatusSeeOther {
		t.Fatalf("after the code: %d %s", br.status, br.page)
	}
	q := redirected(t, br.header.Get("Location"))
	if q.Get("state") != "st-123" || q.Get("iss") != "dynapi" {
		t.Errorf("redirect %v", q)
	}
	tokens := b.tokens(t, b.tpp, q.Get("code"), k.verifier, consentID, "n-456")
	b.usable(t, tokens["access_token"].(string), consentID)
}

// securityHeaders checks the headers every page carries.
func securityHeaders(t *testing.T, h http.Header, redirectOrigin string) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + redirectOrigin + "; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
	}
	if redirectOrigin == "" {
		want["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
}
