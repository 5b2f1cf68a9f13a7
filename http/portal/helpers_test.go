package portal_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// client is a browser on the portal without JavaScript: cookies kept,
// redirects not followed, forms sent with the page's CSRF token.
type client struct {
	base   string
	http   *http.Client
	page   string
	header http.Header
	status int
}

func newClient(t *testing.T, inst *enginetest.Engine) *client {
	t.Helper()
	return &client{base: "http://" + inst.Addr(t), http: enginetest.BrowserClient(t)}
}

// get loads a page.
func (c *client) get(t *testing.T, path string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	c.page, c.header, c.status = enginetest.Fetch(t, c.http, req)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf is the CSRF token of the current page.
func (c *client) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(c.page)
	if m == nil {
		t.Fatalf("no CSRF token on the page (%d): %.300s", c.status, c.page)
	}
	return m[1]
}

// post sends a form as is (the test adds the CSRF token or not).
func (c *client) post(t *testing.T, path string, form url.Values) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.page, c.header, c.status = enginetest.Fetch(t, c.http, req)
}

// submit loads from and sends form to path with from's CSRF token.
func (c *client) submit(t *testing.T, from, path string, form url.Values) {
	t.Helper()
	c.get(t, from)
	form.Set("csrf_token", c.csrf(t))
	c.post(t, path, form)
}

// signIn signs username in, failing the test unless it works.
func (c *client) signIn(t *testing.T, username, password string) {
	t.Helper()
	c.submit(t, "/portal/signin", "/portal/signin", url.Values{"username": {username}, "password": {password}})
	if c.status != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d %.300s", username, c.status, c.page)
	}
}

// cookie is the value of the portal cookie name the jar holds.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base + "/portal/")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
