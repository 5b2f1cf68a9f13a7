package authorize_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// browser walks the authorisation pages over a real connection with a
// cookie jar, stopping at redirects.
type browser struct {
	base   string
	client *http.Client
	// page is the last page's body; header its headers, status its status.
	page   string
	header http.Header
	status int
}

func (b *bank) browser(t *testing.T) *browser {
	t.Helper()
	return &browser{base: "http://" + b.inst.Addr(t), client: enginetest.BrowserClient(t)}
}

func (br *browser) do(t *testing.T, req *http.Request) {
	t.Helper()
	br.page, br.header, br.status = enginetest.Fetch(t, br.client, req)
}

// open follows the TPP's link to the authorisation page.
func (br *browser) open(t *testing.T, clientID, requestURI string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, br.base+"/oauth2/authorize?"+url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode(), nil)
	br.do(t, req)
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	inputRE  = regexp.MustCompile(`<input type="(hidden|checkbox|text|password)"[^>]*?name="([^"]+)"(?:[^>]*?value="([^"]*)")?`)
	buttonRE = regexp.MustCompile(`<button type="submit" id="([^"]+)"`)
)

// form is a form of the current page: its action and hidden fields.
type pageForm struct {
	action string
	values url.Values
	// checkboxes are the values of its checkboxes.
	checkboxes []string
}

// form finds the form holding the button with id on the current page.
func (br *browser) form(t *testing.T, button string) pageForm {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(br.page, -1) {
		ids := buttonRE.FindAllStringSubmatch(m[2], -1)
		if len(ids) == 0 || ids[0][1] != button {
			continue
		}
		f := pageForm{action: m[1], values: url.Values{}}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			switch in[1] {
			case "hidden":
				f.values.Set(in[2], html.UnescapeString(in[3]))
			case "checkbox":
				f.checkboxes = append(f.checkboxes, html.UnescapeString(in[3]))
			}
		}
		return f
	}
	t.Fatalf("no form with button #%s on the page (%d):\n%s", button, br.status, br.page)
	return pageForm{}
}

// submit posts the form holding button with its hidden fields and extra.
func (br *browser) submit(t *testing.T, button string, extra url.Values) {
	t.Helper()
	f := br.form(t, button)
	for k, vs := range extra {
		f.values[k] = vs
	}
	br.post(t, f.action, f.values)
}

// post sends a form.
func (br *browser) post(t *testing.T, action string, v url.Values) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, br.base+action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	br.do(t, req)
}
