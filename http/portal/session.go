package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Cookie names: the session's token and the double-submit CSRF token.
// Both are scoped to the portal, HttpOnly and SameSite=Strict, and Secure
// over HTTPS.
const (
	sessionCookie = "dynapi-portal-session"
	csrfCookie    = "dynapi-portal-csrf"
	csrfField     = "csrf_token"
)

// session is the signed-in user of a page.
type session struct {
	Token    string
	UserID   string
	Username string
	// Roles are the names of the roles the user holds, at any bank.
	Roles []string
}

// Has tells whether the user holds role (at some bank).
func (s *session) Has(role string) bool { return slices.Contains(s.Roles, role) }

// Admin tells whether the user holds any role: the admin pages are shown
// to them (each page's API call still checks the role it needs).
func (s *session) Admin() bool { return len(s.Roles) > 0 }

// setCookie sets a portal cookie; an empty value deletes it.
func setCookie(c *fiber.Ctx, name, value string) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: Prefix, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Protocol() == "https"}
	if value == "" {
		ck.MaxAge = -1
	}
	c.Cookie(ck)
}

// session is the user signed in on c's browser, or nil. A token the API
// no longer takes (expired, revoked, user locked) ends the session.
func (p *portal) session(c *fiber.Ctx) (*session, error) {
	token := strings.Clone(c.Cookies(sessionCookie))
	if token == "" {
		return nil, nil
	}
	me := p.call(c, fiber.MethodGet, "/my/user", token, "", nil)
	if me.Status == http.StatusUnauthorized {
		setCookie(c, sessionCookie, "")
		return nil, nil
	}
	if err := me.err(); err != nil {
		return nil, err
	}
	s := &session{Token: token}
	var user struct {
		ID       string `json:"user_id"`
		Username string `json:"username"`
	}
	if err := me.decode(&user); err != nil {
		return nil, err
	}
	s.UserID, s.Username = user.ID, user.Username
	var held struct {
		List []struct {
			Role string `json:"role_name"`
		} `json:"list"`
	}
	ents := p.call(c, fiber.MethodGet, "/my/entitlements", token, "", nil)
	if err := ents.err(); err != nil {
		return nil, err
	}
	if err := ents.decode(&held); err != nil {
		return nil, err
	}
	for _, e := range held.List {
		s.Roles = append(s.Roles, e.Role)
	}
	return s, nil
}

// signedIn serves page for a signed-in user; others are sent to sign in.
func (p *portal) signedIn(page func(c *fiber.Ctx, s *session) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		s, err := p.session(c)
		if err != nil {
			return p.failed(c, nil, err)
		}
		if s == nil {
			return redirect(c, "/signin")
		}
		return page(c, s)
	}
}

// csrf is the browser's CSRF token, made and set as a cookie on its first
// page; every form carries it back.
func csrf(c *fiber.Ctx) string {
	if v := c.Cookies(csrfCookie); len(v) >= 16 {
		return strings.Clone(v)
	}
	v := rand.Text()
	setCookie(c, csrfCookie, v)
	return v
}

// checked refuses a form whose CSRF token is not the browser's cookie
// (double submit; the cookie is SameSite=Strict, so another site's page
// can neither send it nor read it), else runs h.
func (p *portal) checked(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cookie, sent := c.Cookies(csrfCookie), c.FormValue(csrfField)
		if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(sent)) != 1 {
			return p.render(c, http.StatusForbidden, "message", &view{Title: "This form has expired",
				Notice: "The form did not come from this page or has expired. Go back, reload the page and try again."})
		}
		return h(c)
	}
}

// redirect sends the browser to a portal page after a form (303).
func redirect(c *fiber.Ctx, path string) error {
	c.Set(fiber.HeaderLocation, Prefix+path)
	return c.SendStatus(http.StatusSeeOther)
}
