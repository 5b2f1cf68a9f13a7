package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestSession: the session cookie is HttpOnly, SameSite=Strict and scoped
// to the portal, no token is ever in a URL, signing out revokes the token
// over the API, and a page of a signed-out browser sends it to sign in.
func TestSession(t *testing.T) {
	inst := enginetest.New(t)
	c := newClient(t, inst)
	c.signIn(t, enginetest.AdminUsername, enginetest.AdminPassword)
	set := strings.Join(c.header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"dynapi-portal-session=", "HttpOnly", "SameSite=Strict", "path=/portal"} {
		if !strings.Contains(set, want) {
			t.Errorf("the session cookie lacks %s: %s", want, set)
		}
	}
	token := c.cookie("dynapi-portal-session")
	if token == "" || strings.Contains(c.header.Get("Location"), token) {
		t.Fatalf("token %q, location %q", token, c.header.Get("Location"))
	}
	if r := inst.Token(token).Get(t, "/my/user"); r.Status != http.StatusOK {
		t.Fatalf("the session's token over the API: %d", r.Status)
	}
	c.submit(t, "/portal/apps", "/portal/signout", url.Values{})
	if c.status != http.StatusSeeOther || inst.Token(token).Get(t, "/my/user").Status != http.StatusUnauthorized {
		t.Fatalf("after signing out (%d) the token still works", c.status)
	}
	for _, path := range []string{"/portal/apps", "/portal/catalogue", "/portal/catalogue/dynapi/openapi.json", "/portal/consents", "/portal/admin/methods"} {
		c.get(t, path)
		if c.status != http.StatusSeeOther || c.header.Get("Location") != "/portal/signin" {
			t.Errorf("%s signed out: %d to %q", path, c.status, c.header.Get("Location"))
		}
	}
}

// TestFormsNeedTheirCSRFToken: a form without the browser's CSRF token, or
// with another, is refused and does nothing.
func TestFormsNeedTheirCSRFToken(t *testing.T) {
	inst := enginetest.New(t)
	cases := []struct {
		name  string
		token func(c *client) string
	}{
		{"none", func(*client) string { return "" }},
		{"another", func(*client) string { return "not-the-token-of-this-browser" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, inst)
			c.get(t, "/portal/signin")
			form := url.Values{"username": {enginetest.AdminUsername}, "password": {enginetest.AdminPassword}}
			if tok := tc.token(c); tok != "" {
				form.Set("csrf_token", tok)
			}
			c.post(t, "/portal/signin", form)
			if c.status != http.StatusForbidden || c.cookie("dynapi-portal-session") != "" {
				t.Fatalf("sign-in without its token: %d, session %q", c.status, c.cookie("dynapi-portal-session"))
			}
		})
	}
}

// TestSignUpIsClosedByDefault: without --self-registration the sign-up
// page is a 404 and a posted form creates no user.
func TestSignUpIsClosedByDefault(t *testing.T) {
	inst := enginetest.New(t)
	c := newClient(t, inst)
	c.get(t, "/portal/signup")
	if c.status != http.StatusNotFound {
		t.Fatalf("sign-up page: %d", c.status)
	}
	c.submit(t, "/portal/signin", "/portal/signup", url.Values{"username": {"mallory"}, "password": {"Mallory-passw0rd-1"},
		"password_again": {"Mallory-passw0rd-1"}})
	if c.status != http.StatusNotFound {
		t.Fatalf("sign-up form: %d", c.status)
	}
	if _, err := inst.Access.Identity.UserByName(t.Context(), "mallory"); err == nil {
		t.Fatal("a user was created")
	}
}

// TestSignUpRefusesWeakPasswords: the password policy applies, the page
// says why, and no user is created.
func TestSignUpRefusesWeakPasswords(t *testing.T) {
	inst, _ := portalEngine(t)
	c := newClient(t, inst)
	c.submit(t, "/portal/signup", "/portal/signup", url.Values{"username": {"weak"}, "password": {"short"}, "password_again": {"short"}})
	if c.status != http.StatusBadRequest || !strings.Contains(c.page, `id="error"`) {
		t.Fatalf("weak password: %d %.300s", c.status, c.page)
	}
	if _, err := inst.Access.Identity.UserByName(t.Context(), "weak"); err == nil {
		t.Fatal("a user was created")
	}
}

// TestSignInIsTheAPIsLogin: failed portal sign-ins are the API's login
// failures: in the security log, and past the limit the user is locked
// out from the browser's address, right password or not.
func TestSignInIsTheAPIsLogin(t *testing.T) {
	inst := enginetest.New(t)
	u := inst.CreateUser(t, "victim", "Victim-passw0rd-1")
	c := newClient(t, inst)
	failures := func() int {
		n := 0
		for _, e := range inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000").JSON(t)["entries"].([]any) {
			if e.(map[string]any)["action"] == "login.failure" {
				n++
			}
		}
		return n
	}
	before := failures()
	for range 5 {
		c.submit(t, "/portal/signin", "/portal/signin", url.Values{"username": {u.Username}, "password": {"wrong-password-123"}})
		if c.status != http.StatusUnauthorized && c.status != http.StatusTooManyRequests {
			t.Fatalf("a wrong password: %d", c.status)
		}
	}
	if got := failures(); got < before+5 {
		t.Errorf("%d login failures logged, want 5 more than %d", got, before)
	}
	c.submit(t, "/portal/signin", "/portal/signin", url.Values{"username": {u.Username}, "password": {u.Password}})
	if c.status == http.StatusSeeOther || c.cookie("dynapi-portal-session") != "" {
		t.Fatalf("signed in while locked out: %d", c.status)
	}
}
