package consent_test

import (
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The Berlin Group NextGenPSD2 1.3.11 document, as published.
var bgDoc = testpaths.Shared("specs", "berlin-group-nextgenpsd2", "psd2-api_v1.3.11-2021-10-01v1.yaml")

const (
	bgConsents   = "/psd2/v1/consents"
	bgRedirect   = "https://tpp.example.eu/done"
	bgNok        = "https://tpp.example.eu/failed"
	bgAlicePass  = "Alice-passw0rd-long"
	ibanCurrent  = "DE89370400440532013000"
	ibanSavings  = "DE02120300000000202051"
	ibanOfBob    = "DE44500105175407324931"
	bgConsentIDh = "Consent-ID"
)

// bgBank is an engine serving the Berlin Group document, a bank where
// alice holds current-1 and savings-1 and bob bob-1, each with an IBAN,
// and a TPP with registered redirect URIs; logs holds the engine's log,
// where the default sendScaChallenge writes the one-time codes.
type bgBank struct {
	inst    *enginetest.Engine
	doc     document
	tpp     bgTPP
	aliceID string
	logs    *enginetest.LogBuffer
}

// bgTPP is a TPP: its consumer id and a caller bearing its client
// credentials token.
type bgTPP struct {
	id, key, secret string
	caller          enginetest.Caller
}

// renewed is p with a new token: the clock moved past its old one.
func (p bgTPP) renewed(t *testing.T, inst *enginetest.Engine) bgTPP {
	t.Helper()
	p.caller = inst.WithAuthorization(clientToken(t, inst, p.key, p.secret))
	return p
}

func newBGBank(t *testing.T, opts ...enginetest.Option) *bgBank {
	t.Helper()
	logs := &enginetest.LogBuffer{}
	opts = append(opts, enginetest.Configure(func(c *dynapi.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) }))
	inst := enginetest.New(t, opts...)
	t.Cleanup(func() { inst.Close(t) })
	inst.CreateBank(t, "bg-bank")
	alice := inst.CreateUser(t, "alice", bgAlicePass)
	bob := inst.CreateUser(t, "bob", "Bob-passw0rd-long-1")
	inst.GrantAdmin(t, "bg-bank", "CanCreateAccount")
	for _, a := range []struct{ id, owner, iban string }{{"current-1", alice.ID, ibanCurrent}, {"savings-1", alice.ID, ibanSavings},
		{"bob-1", bob.ID, ibanOfBob}} {
		r := inst.Admin().PostJSON(t, "/banks/bg-bank/accounts", map[string]any{"account_id": a.id, "currency": "EUR", "label": a.id,
			"balance": map[string]string{"currency": "EUR", "amount": "100.00"}, "owners": []map[string]string{{"user_id": a.owner}},
			"account_routings": []map[string]string{{"scheme": "IBAN", "address": a.iban}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("open %s: %d %s", a.id, r.Status, r.Body)
		}
	}
	b := &bgBank{inst: inst, doc: load(t, bgDoc), aliceID: alice.ID, logs: logs}
	b.tpp = b.newTPP(t, "Euro Budget")
	return b
}

// newTPP registers a consumer of the admin with the redirect URIs and
// gets its client credentials token.
func (b *bgBank) newTPP(t *testing.T, name string) bgTPP {
	t.Helper()
	r := b.inst.Admin().PostJSON(t, "/my/consumers", map[string]any{"name": name, "redirect_uris": []string{bgRedirect, bgNok}})
	if r.Status != http.StatusCreated {
		t.Fatalf("consumer %s: %d %s", name, r.Status, r.Body)
	}
	created := r.JSON(t)
	p := bgTPP{id: created["consumer_id"].(string), key: created["consumer_key"].(string), secret: created["consumer_secret"].(string)}
	return p.renewed(t, b.inst)
}

// send makes a Berlin Group request as p: every one carries X-Request-ID.
func (p bgTPP) send(t *testing.T, method, path string, body any, headers map[string]string) enginetest.Response {
	t.Helper()
	r := enginetest.Request{Method: method, Path: path, Header: map[string]string{"X-Request-ID": "99391c7e-ad88-49ec-a2ad-99ddcb1f7721"}}
	if body != nil {
		r = enginetest.JSONRequest(t, method, path, body)
		r.Header["X-Request-ID"] = "99391c7e-ad88-49ec-a2ad-99ddcb1f7721"
	}
	for k, v := range headers {
		r.Header[k] = v
	}
	return p.caller.Send(t, r)
}

// bgConsent is a consent request: balances of current-1, recurring.
func bgConsent(validUntil string, perDay int, recurring bool, access map[string]any) map[string]any {
	if access == nil {
		access = map[string]any{"balances": []map[string]string{{"iban": ibanCurrent}}}
	}
	return map[string]any{"access": access, "recurringIndicator": recurring, "validUntil": validUntil,
		"frequencyPerDay": perDay, "combinedServiceIndicator": false}
}

// create creates a consent as p and returns its 201 body.
func (b *bgBank) create(t *testing.T, p bgTPP, req map[string]any, headers map[string]string) map[string]any {
	t.Helper()
	h := map[string]string{"PSU-IP-Address": "192.0.2.10"}
	for k, v := range headers {
		h[k] = v
	}
	r := p.send(t, http.MethodPost, bgConsents, req, h)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	b.doc.fits(t, "createConsent", "201", r.Body)
	return r.JSON(t)
}

// embedded authorises consent id embedded, as alice: password, SMS_OTP,
// the code she was sent.
func (b *bgBank) embedded(t *testing.T, p bgTPP, id string) {
	t.Helper()
	at := bgConsents + "/" + id + "/authorisations"
	r := p.send(t, http.MethodPost, at, map[string]any{"psuData": map[string]string{"password": bgAlicePass}},
		map[string]string{"PSU-ID": "alice"})
	if r.Status != http.StatusCreated || r.JSON(t)["scaStatus"] != "psuAuthenticated" {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	b.doc.fits(t, "startConsentAuthorisation", "201", r.Body)
	started := r.JSON(t)
	methods := started["scaMethods"].([]any)
	if len(methods) != 1 || methods[0].(map[string]any)["authenticationMethodId"] != "SMS_OTP" {
		t.Fatalf("scaMethods: %s", r.Body)
	}
	at += "/" + started["authorisationId"].(string)
	r = p.send(t, http.MethodPut, at, map[string]string{"authenticationMethodId": "SMS_OTP"}, nil)
	if r.Status != http.StatusOK || r.JSON(t)["scaStatus"] != "scaMethodSelected" || r.JSON(t)["challengeData"] == nil {
		t.Fatalf("select: %d %s", r.Status, r.Body)
	}
	b.doc.fitsSchema(t, "selectPsuAuthenticationMethodResponse", r.Body)
	r = p.send(t, http.MethodPut, at, map[string]string{"scaAuthenticationData": scaCode(t, b.logs, id)}, nil)
	if r.Status != http.StatusOK || r.JSON(t)["scaStatus"] != "finalised" {
		t.Fatalf("code: %d %s", r.Status, r.Body)
	}
	b.doc.fitsSchema(t, "scaStatusResponse", r.Body)
	r = p.send(t, http.MethodGet, at, nil, nil)
	if r.Status != http.StatusOK || r.JSON(t)["scaStatus"] != "finalised" {
		t.Fatalf("sca status: %d %s", r.Status, r.Body)
	}
	b.doc.fits(t, "getConsentScaStatus", "200", r.Body)
}

// status is the consentStatus of consent id as p reads it (checked
// against the document).
func (b *bgBank) status(t *testing.T, p bgTPP, id string) string {
	t.Helper()
	r := p.send(t, http.MethodGet, bgConsents+"/"+id+"/status", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	b.doc.fits(t, "getConsentStatus", "200", r.Body)
	return r.JSON(t)["consentStatus"].(string)
}

// tppMessage is the first of a Berlin Group refusal's tppMessages, after
// checking its status.
func tppMessage(t *testing.T, r enginetest.Response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	msgs, _ := r.JSON(t)["tppMessages"].([]any)
	if len(msgs) == 0 {
		t.Fatalf("no tppMessages: %s", r.Body)
	}
	m := msgs[0].(map[string]any)
	if m["category"] != "ERROR" {
		t.Fatalf("category: %s", r.Body)
	}
	return m
}

// TestBerlinGroupDocumentBinds: the published document binds to the
// berlin-group-1.3 profile, and its update-authorisation bodies' oneOf
// with an empty branch is read as anyOf, with a warning.
func TestBerlinGroupDocumentBinds(t *testing.T) {
	inst := enginetest.New(t)
	defer inst.Close(t)
	got := submit(t, inst, bgDoc, "")
	raw, _ := json.Marshal(got)
	if !strings.Contains(string(raw), `"berlin-group-1.3"`) {
		t.Errorf("no berlin-group-1.3 profile: %s", raw)
	}
	if !strings.Contains(string(raw), "one_of_read_as_any_of") {
		t.Errorf("no one_of_read_as_any_of warning: %s", raw)
	}
}

// TestBerlinGroupEmbeddedAndUnattended is scenario 12 of the design: a
// recurring consent for the balances of current-1, two calls a day
// without the customer; embedded SCA ends valid; two unattended balance
// calls pass and the third is 429 ACCESS_EXCEEDED with Retry-After to
// midnight; calls with PSU-IP-Address are not counted; the next day
// counts again; transactions are refused; another TPP cannot see or use
// it; DELETE terminates it, which stays readable.
func TestBerlinGroupEmbeddedAndUnattended(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	created := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly), 2, true, nil), nil)
	id := created["consentId"].(string)
	links := created["_links"].(map[string]any)
	if created["consentStatus"] != "received" || links["startAuthorisationWithPsuAuthentication"] == nil || links["status"] == nil {
		t.Fatalf("created: %v", created)
	}
	b.embedded(t, b.tpp, id)
	if s := b.status(t, b.tpp, id); s != "valid" {
		t.Fatalf("status %s, want valid", s)
	}
	info := b.tpp.send(t, http.MethodGet, bgConsents+"/"+id, nil, nil)
	if info.Status != http.StatusOK || info.JSON(t)["consentStatus"] != "valid" {
		t.Fatalf("information: %d %s", info.Status, info.Body)
	}
	b.doc.fits(t, "getConsentInformation", "200", info.Body)

	balances := "/psd2/v1/accounts/current-1/balances"
	use := func(p bgTPP, path string, psuIP bool) enginetest.Response {
		h := map[string]string{bgConsentIDh: id}
		if psuIP {
			h["PSU-IP-Address"] = "192.0.2.10"
		}
		return p.send(t, http.MethodGet, path, nil, h)
	}
	for i := range 2 {
		if r := use(b.tpp, balances, false); r.Status != http.StatusOK {
			t.Fatalf("unattended call %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	over := use(b.tpp, balances, false)
	if m := tppMessage(t, over, http.StatusTooManyRequests); m["code"] != "ACCESS_EXCEEDED" {
		t.Fatalf("third: %s", over.Body)
	}
	now := b.inst.Clock.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	if got, _ := strconv.Atoi(over.Header.Get("Retry-After")); got != int(midnight.Sub(now).Seconds()) {
		t.Errorf("Retry-After %q, want %d", over.Header.Get("Retry-After"), int(midnight.Sub(now).Seconds()))
	}
	if r := use(b.tpp, balances, true); r.Status != http.StatusOK {
		t.Fatalf("with PSU-IP-Address: %d %s", r.Status, r.Body)
	}
	b.inst.Clock.Advance(midnight.Sub(now))
	b.tpp = b.tpp.renewed(t, b.inst)
	if r := use(b.tpp, balances, false); r.Status != http.StatusOK {
		t.Fatalf("next day: %d %s", r.Status, r.Body)
	}

	refusals := []struct {
		name   string
		caller bgTPP
		path   string
		status int
		code   string
	}{
		{"transactions without access", b.tpp, "/psd2/v1/accounts/current-1/transactions?bookingStatus=booked", http.StatusUnauthorized, "CONSENT_INVALID"},
		{"an account outside the consent", b.tpp, "/psd2/v1/accounts/savings-1/balances", http.StatusUnauthorized, "CONSENT_INVALID"},
		{"another TPP", b.newTPP(t, "Other TPP"), balances, http.StatusForbidden, "CONSENT_UNKNOWN"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if m := tppMessage(t, use(tc.caller, tc.path, true), tc.status); m["code"] != tc.code {
				t.Fatalf("code %v, want %s", m["code"], tc.code)
			}
		})
	}
	other := b.newTPP(t, "Nosy TPP")
	for _, path := range []string{bgConsents + "/" + id, bgConsents + "/" + id + "/status", bgConsents + "/" + id + "/authorisations"} {
		if m := tppMessage(t, other.send(t, http.MethodGet, path, nil, nil), http.StatusForbidden); m["code"] != "CONSENT_UNKNOWN" {
			t.Errorf("%s of another TPP: %v", path, m)
		}
	}
	if m := tppMessage(t, b.tpp.send(t, http.MethodGet, balances, nil, nil), http.StatusBadRequest); m["code"] != "FORMAT_ERROR" {
		t.Errorf("without Consent-ID: %v", m)
	}

	if r := b.tpp.send(t, http.MethodDelete, bgConsents+"/"+id, nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if s := b.status(t, b.tpp, id); s != "terminatedByTpp" {
		t.Fatalf("after delete: %s", s)
	}
	if m := tppMessage(t, use(b.tpp, balances, true), http.StatusForbidden); m["code"] != "CONSENT_UNKNOWN" {
		t.Fatalf("use after delete: %v", m)
	}
}

// TestBerlinGroupConsentRefusals: a consent request breaking the
// standard's rules, or naming a redirect URI the TPP did not register, is
// a 400 FORMAT_ERROR naming the field, and stores nothing.
func TestBerlinGroupConsentRefusals(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	tomorrow := b.inst.Clock.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	cases := []struct {
		name    string
		req     map[string]any
		headers map[string]string
		path    string
	}{
		{"validUntil in the past", bgConsent(b.inst.Clock.Now().AddDate(0, 0, -1).Format(time.DateOnly), 1, true, nil), nil, "validUntil"},
		{"mixed named and bank-offered", bgConsent(tomorrow, 1, true, map[string]any{"balances": []map[string]string{{"iban": ibanCurrent}},
			"transactions": []any{}}), nil, "access"},
		{"no access", bgConsent(tomorrow, 1, true, map[string]any{}), nil, "access"},
		{"unregistered redirect", bgConsent(tomorrow, 1, true, nil), map[string]string{"TPP-Redirect-URI": "https://evil.example/cb"}, "TPP-Redirect-URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"PSU-IP-Address": "192.0.2.10"}
			for k, v := range tc.headers {
				h[k] = v
			}
			m := tppMessage(t, b.tpp.send(t, http.MethodPost, bgConsents, tc.req, h), http.StatusBadRequest)
			if m["code"] != "FORMAT_ERROR" || m["path"] != tc.path {
				t.Fatalf("got %v, want FORMAT_ERROR at %s", m, tc.path)
			}
		})
	}
}

// TestBerlinGroupNonRecurringOnce: a consent that is not recurring
// allows one call without the customer in all, even the next day.
func TestBerlinGroupNonRecurringOnce(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	id := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 0, 5).Format(time.DateOnly), 4, false, nil), nil)["consentId"].(string)
	b.embedded(t, b.tpp, id)
	call := func() enginetest.Response {
		return b.tpp.send(t, http.MethodGet, "/psd2/v1/accounts/current-1/balances", nil, map[string]string{bgConsentIDh: id})
	}
	if r := call(); r.Status != http.StatusOK {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	b.inst.Clock.Advance(24 * time.Hour)
	b.tpp = b.tpp.renewed(t, b.inst)
	if r := call(); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "" {
		t.Fatalf("second: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
}

// TestBerlinGroupRedirectAndSupersession drives the redirect approach
// over HTTP with a cookie jar: the scaRedirect link opens the bank's
// login page once, alice logs in, confirms the account the consent names,
// enters the code and lands on TPP-Redirect-URI; the consent is valid. A
// second recurring consent of the same TPP authorised embedded expires
// the first.
func TestBerlinGroupRedirectAndSupersession(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	validUntil := b.inst.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	created := b.create(t, b.tpp, bgConsent(validUntil, 4, true, nil), map[string]string{"TPP-Redirect-URI": bgRedirect,
		"TPP-Nok-Redirect-URI": bgNok})
	first := created["consentId"].(string)
	link := created["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	br := newBGBrowser(t, b.inst)
	br.get(t, u.Path)
	if br.status != http.StatusOK || !strings.Contains(br.page, `name="password"`) {
		t.Fatalf("link: %d %s", br.status, br.page)
	}
	again := newBGBrowser(t, b.inst)
	if again.get(t, u.Path); again.status != http.StatusNotFound {
		t.Fatalf("the link opened twice: %d", again.status)
	}
	br.submit(t, "/oauth2/authorize/login", map[string][]string{"username": {"alice"}, "password": {bgAlicePass}})
	br.submit(t, "/oauth2/authorize/accounts", map[string][]string{"account": {"savings-1"}})
	if br.status != http.StatusBadRequest || !strings.Contains(br.page, "current-1") {
		t.Fatalf("another account than the consent names: %d %s", br.status, br.page)
	}
	br.submit(t, "/oauth2/authorize/accounts", map[string][]string{"account": {"current-1"}})
	br.submit(t, "/oauth2/authorize/sca", map[string][]string{"code": {scaCode(t, b.logs, first)}})
	if br.status != http.StatusSeeOther || br.header.Get("Location") != bgRedirect {
		t.Fatalf("end: %d %q %s", br.status, br.header.Get("Location"), br.page)
	}
	if s := b.status(t, b.tpp, first); s != "valid" {
		t.Fatalf("after redirect: %s", s)
	}

	second := b.create(t, b.tpp, bgConsent(validUntil, 4, true, nil), nil)["consentId"].(string)
	b.embedded(t, b.tpp, second)
	if s := b.status(t, b.tpp, first); s != "expired" {
		t.Fatalf("the first after the second: %s, want expired", s)
	}
	if s := b.status(t, b.tpp, second); s != "valid" {
		t.Fatalf("the second: %s", s)
	}
	if n := b.inst.Audited(t, "consent.expire", first); n != 1 {
		t.Errorf("%d consent.expire entries of the first", n)
	}
}

// fitsSchema fails the test unless body is valid against the document's
// components schema name (for an answer whose response is a oneOf of
// branches the same body matches several of: the file's 200 of
// updateConsentsPsuData).
func (d document) fitsSchema(t *testing.T, name string, body []byte) {
	t.Helper()
	schema, err := d.doc.CompileSchemaAt("/components/schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v: %s", name, err, body)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("answer does not fit %s: %v\n%s", name, err, body)
	}
}

// bgBrowser is the customer's browser on the authorisation pages: a
// cookie jar, stopping at redirects.
type bgBrowser struct {
	base   string
	client *http.Client
	page   string
	header http.Header
	status int
}

func newBGBrowser(t *testing.T, inst *enginetest.Engine) *bgBrowser {
	t.Helper()
	return &bgBrowser{base: "http://" + inst.Addr(t), client: enginetest.BrowserClient(t)}
}

func (br *bgBrowser) get(t *testing.T, path string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, br.base+path, nil)
	br.page, br.header, br.status = enginetest.Fetch(t, br.client, req)
}

// hiddenRE finds the hidden fields every form of the pages carries.
var hiddenRE = regexp.MustCompile(`name="(authorisation_id|csrf_token)" value="([^"]*)"`)

// submit posts a form of the current page to action with its hidden
// fields and v.
func (br *bgBrowser) submit(t *testing.T, action string, v url.Values) {
	t.Helper()
	for _, m := range hiddenRE.FindAllStringSubmatch(br.page, 2) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	req, _ := http.NewRequest(http.MethodPost, br.base+action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	br.page, br.header, br.status = enginetest.Fetch(t, br.client, req)
}

// TestBerlinGroupEmbeddedFailures: a wrong password starts nothing (401
// PSU_CREDENTIALS_INVALID); three wrong one-time codes fail the
// authorisation and reject the consent, each status as the document's
// enums allow.
func TestBerlinGroupEmbeddedFailures(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	id := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 0, 5).Format(time.DateOnly), 4, true, nil), nil)["consentId"].(string)
	at := bgConsents + "/" + id + "/authorisations"
	wrong := b.tpp.send(t, http.MethodPost, at, map[string]any{"psuData": map[string]string{"password": "not-her-password"}},
		map[string]string{"PSU-ID": "alice"})
	if m := tppMessage(t, wrong, http.StatusUnauthorized); m["code"] != "PSU_CREDENTIALS_INVALID" {
		t.Fatalf("wrong password: %v", m)
	}
	if ids := b.tpp.send(t, http.MethodGet, at, nil, nil).JSON(t)["authorisationIds"].([]any); len(ids) != 0 {
		t.Fatalf("a wrong password started %v", ids)
	}
	r := b.tpp.send(t, http.MethodPost, at, map[string]any{"psuData": map[string]string{"password": bgAlicePass}},
		map[string]string{"PSU-ID": "alice"})
	if r.Status != http.StatusCreated {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	auth := at + "/" + r.JSON(t)["authorisationId"].(string)
	list := b.tpp.send(t, http.MethodGet, at, nil, nil)
	b.doc.fits(t, "getConsentAuthorisation", "200", list.Body)
	if r := b.tpp.send(t, http.MethodPut, auth, map[string]string{"authenticationMethodId": "SMS_OTP"}, nil); r.Status != http.StatusOK {
		t.Fatalf("select: %d %s", r.Status, r.Body)
	}
	right := scaCode(t, b.logs, id)
	for i := range 3 {
		code := "000000"
		if code == right {
			code = "111111"
		}
		if m := tppMessage(t, b.tpp.send(t, http.MethodPut, auth, map[string]string{"scaAuthenticationData": code}, nil),
			http.StatusUnauthorized); m["code"] != "PSU_CREDENTIALS_INVALID" {
			t.Fatalf("wrong code %d: %v", i+1, m)
		}
	}
	sca := b.tpp.send(t, http.MethodGet, auth, nil, nil)
	if sca.Status != http.StatusOK || sca.JSON(t)["scaStatus"] != "failed" {
		t.Fatalf("sca status: %d %s", sca.Status, sca.Body)
	}
	b.doc.fits(t, "getConsentScaStatus", "200", sca.Body)
	if s := b.status(t, b.tpp, id); s != "rejected" {
		t.Fatalf("consent %s, want rejected", s)
	}
	if m := tppMessage(t, b.tpp.send(t, http.MethodPut, auth, map[string]string{"scaAuthenticationData": right}, nil),
		http.StatusConflict); m["code"] != "STATUS_INVALID" {
		t.Fatalf("the right code after failing: %v", m)
	}
}

// TestBerlinGroupStatusesInEnum: every consentStatus the profile renders
// is in the document's consentStatus enum.
func TestBerlinGroupStatusesInEnum(t *testing.T) {
	inst := enginetest.New(t)
	defer inst.Close(t)
	doc := load(t, bgDoc)
	node, ok := doc.doc.Resolve("#/components/schemas/consentStatus")
	if !ok {
		t.Fatal("no consentStatus schema")
	}
	var enum []string
	for _, v := range node.(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	r := inst.Admin().Get(t, "/admin/v1/consent-profiles/berlin-group-1.3")
	if r.Status != http.StatusOK {
		t.Fatalf("profile: %d %s", r.Status, r.Body)
	}
	statuses := r.JSON(t)["statuses"].(map[string]any)
	for _, canonical := range []string{"awaiting_authorisation", "authorised", "rejected", "revoked", "expired", "deleted"} {
		t.Run(canonical, func(t *testing.T) {
			s, _ := statuses[canonical].(string)
			if !slices.Contains(enum, s) {
				t.Fatalf("%s renders %q, not in %v", canonical, s, enum)
			}
		})
	}
}

// TestBerlinGroupBankOffered: a consent for allPsd2 lets the customer
// choose on the pages; the TPP reads what she chose and nothing else.
func TestBerlinGroupBankOffered(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	created := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly), 4, true,
		map[string]any{"allPsd2": "allAccounts"}), map[string]string{"TPP-Redirect-URI": bgRedirect})
	id := created["consentId"].(string)
	u, _ := url.Parse(created["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string))
	br := newBGBrowser(t, b.inst)
	br.get(t, u.Path)
	br.submit(t, "/oauth2/authorize/login", url.Values{"username": {"alice"}, "password": {bgAlicePass}})
	br.submit(t, "/oauth2/authorize/accounts", url.Values{"account": {"savings-1"}})
	br.submit(t, "/oauth2/authorize/sca", url.Values{"code": {scaCode(t, b.logs, id)}})
	if br.status != http.StatusSeeOther || br.header.Get("Location") != bgRedirect {
		t.Fatalf("end: %d %q", br.status, br.header.Get("Location"))
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/psd2/v1/accounts/savings-1/balances", http.StatusOK},
		{"/psd2/v1/accounts/savings-1/transactions?bookingStatus=booked", http.StatusOK},
		{"/psd2/v1/accounts/current-1/balances", http.StatusUnauthorized},
	} {
		r := b.tpp.send(t, http.MethodGet, tc.path, nil, map[string]string{bgConsentIDh: id, "PSU-IP-Address": "192.0.2.10"})
		if r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.path, r.Status, r.Body, tc.status)
		}
	}
}

// TestBerlinGroupConcurrentUnattended: concurrent calls without the
// customer never overshoot frequencyPerDay: each reserves its place
// before it is made.
func TestBerlinGroupConcurrentUnattended(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	id := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 0, 5).Format(time.DateOnly), 3, true, nil), nil)["consentId"].(string)
	b.embedded(t, b.tpp, id)
	statuses := make(chan int, 12)
	var wg sync.WaitGroup
	for range cap(statuses) {
		wg.Go(func() {
			statuses <- b.tpp.send(t, http.MethodGet, "/psd2/v1/accounts/current-1/balances", nil, map[string]string{bgConsentIDh: id}).Status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 3 || count[http.StatusTooManyRequests] != 9 {
		t.Fatalf("answers %v, want 3 × 200 and 9 × 429", count)
	}
}

// TestBerlinGroupUsageSurvivesRestart: the count of calls without the
// customer is stored as it is taken, so a restart does not give the TPP
// more of them.
func TestBerlinGroupUsageSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b := newBGBank(t, enginetest.InDir(dir))
	submit(t, b.inst, bgDoc, "")
	id := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 0, 5).Format(time.DateOnly), 2, true, nil), nil)["consentId"].(string)
	b.embedded(t, b.tpp, id)
	call := func(p bgTPP) enginetest.Response {
		return p.send(t, http.MethodGet, "/psd2/v1/accounts/current-1/balances", nil, map[string]string{bgConsentIDh: id})
	}
	for range 2 {
		if r := call(b.tpp); r.Status != http.StatusOK {
			t.Fatalf("before the restart: %d %s", r.Status, r.Body)
		}
	}
	b.inst.Close(t)
	inst := enginetest.New(t, enginetest.InDir(dir))
	defer inst.Close(t)
	if r := call(b.tpp.renewed(t, inst)); r.Status != http.StatusTooManyRequests {
		t.Fatalf("after the restart: %d %s", r.Status, r.Body)
	}
}

// bgBalancesScript answers getBalances only under a consent of the
// customer named in it for current-1 (ctx.consent), refusing otherwise.
const bgBalancesScript = `
const c = ctx.consent;
if (c === null || c.psu_user_id !== %q || c.accounts.join("+") !== "current-1" || c.type !== "bg-ais") {
  throw {status: 500, message: "not under the consent: " + JSON.stringify(c)};
}
return {account: {iban: %q},
        balances: [{balanceAmount: {currency: "EUR", amount: "100.00"}, balanceType: "interimAvailable"}]};`

// TestBerlinGroupBackendSeesConsent: a call under a Berlin Group consent
// carries it to the connector (ctx.consent: the customer, her accounts),
// which answers for the customer, not the TPP calling; the answer fits
// the document.
func TestBerlinGroupBackendSeesConsent(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	b.inst.CreateScript(t, "getBalances", fmt.Sprintf(bgBalancesScript, b.aliceID, ibanCurrent), 0)
	id := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 0, 5).Format(time.DateOnly), 4, true, nil), nil)["consentId"].(string)
	b.embedded(t, b.tpp, id)
	r := b.tpp.send(t, http.MethodGet, "/psd2/v1/accounts/current-1/balances", nil, map[string]string{bgConsentIDh: id, "PSU-IP-Address": "192.0.2.10"})
	if r.Status != http.StatusOK {
		t.Fatalf("balances: %d %s", r.Status, r.Body)
	}
	b.doc.fits(t, "getBalances", "200", r.Body)

	b.inst.CreateScript(t, "getAccountList", bgAccountsScript, 0)
	r = b.tpp.send(t, http.MethodGet, "/psd2/v1/accounts", nil, map[string]string{bgConsentIDh: id, "PSU-IP-Address": "192.0.2.10"})
	if r.Status != http.StatusOK {
		t.Fatalf("accounts: %d %s", r.Status, r.Body)
	}
	b.doc.fits(t, "getAccountList", "200", r.Body)
	if accounts := r.JSON(t)["accounts"].([]any); len(accounts) != 1 || accounts[0].(map[string]any)["resourceId"] != "current-1" {
		t.Fatalf("the list is not the consent's accounts: %s", r.Body)
	}
}

// bgAccountsScript answers getAccountList with every account of the bank:
// the consent's filter, not the script, decides what the TPP sees.
const bgAccountsScript = `
return {accounts: ["current-1", "savings-1", "bob-1"].map(id => ({resourceId: id, iban: "DE89370400440532013000", currency: "EUR"}))};`

// TestBerlinGroupRedirectRejected: the customer refusing on the pages is
// sent to TPP-Nok-Redirect-URI and the consent is rejected.
func TestBerlinGroupRedirectRejected(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	created := b.create(t, b.tpp, bgConsent(b.inst.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly), 4, true, nil),
		map[string]string{"TPP-Redirect-URI": bgRedirect, "TPP-Nok-Redirect-URI": bgNok})
	u, _ := url.Parse(created["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string))
	br := newBGBrowser(t, b.inst)
	br.get(t, u.Path)
	br.submit(t, "/oauth2/authorize/login", url.Values{"username": {"alice"}, "password": {bgAlicePass}})
	br.submit(t, "/oauth2/authorize/reject", url.Values{})
	if br.status != http.StatusSeeOther || br.header.Get("Location") != bgNok {
		t.Fatalf("reject: %d %q %s", br.status, br.header.Get("Location"), br.page)
	}
	if s := b.status(t, b.tpp, created["consentId"].(string)); s != "rejected" {
		t.Fatalf("consent %s, want rejected", s)
	}
}
