package portal

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// consentRoutes mounts "My consents": the consents the customer gave,
// through the API's /my/consents.
func (p *portal) consentRoutes(get, post func(string, fiber.Handler)) {
	get("/consents", p.signedIn(p.consentsPage))
	get("/consents/:id", p.signedIn(p.consentPage))
	post("/consents/:id/revoke", p.signedIn(p.revokeConsent))
}

// myConsent is a consent as GET /my/consents/{id} answers it.
type myConsent struct {
	ID  string `json:"consent_id"`
	TPP struct {
		Name string `json:"name"`
	} `json:"tpp"`
	Status      string `json:"status"`
	StatusWords string `json:"status_words"`
	Permissions []struct {
		Permission  string `json:"permission"`
		Description string `json:"description"`
	} `json:"permissions"`
	Accounts   []string   `json:"accounts"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
	StatusAt   time.Time  `json:"status_at"`
	RecentUses []struct {
		At     time.Time `json:"at"`
		Method string    `json:"method"`
		Path   string    `json:"path"`
		Status int       `json:"status"`
	} `json:"recent_uses"`
}

// Revocable tells whether the customer can still revoke the consent.
func (m *myConsent) Revocable() bool {
	return m.Status == "authorised" || m.Status == "awaiting_authorisation"
}

// consentPageSize is how many consents a page of the list shows.
const consentPageSize = "50"

func (p *portal) consentsPage(c *fiber.Ctx, s *session) error {
	q := url.Values{"limit": {consentPageSize}}
	if after := c.Query("after"); after != "" {
		q.Set("after", after)
	}
	got := p.call(c, fiber.MethodGet, "/my/consents?"+q.Encode(), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var out struct {
		Consents  []myConsent `json:"consents"`
		NextAfter string      `json:"next_after"`
	}
	if err := got.decode(&out); err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "consents", &view{Title: "My consents", Session: s, Data: out})
}

// consentPath is the API path of the customer's consent c names.
func consentPath(c *fiber.Ctx) string { return "/my/consents/" + url.PathEscape(c.Params("id")) }

func (p *portal) consentPage(c *fiber.Ctx, s *session) error {
	got := p.call(c, fiber.MethodGet, consentPath(c), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var m myConsent
	if err := got.decode(&m); err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "consent", &view{Title: "Consent given to " + m.TPP.Name, Session: s, Data: &m})
}

// revokeConsent revokes the consent with the reason given, through
// DELETE /my/consents/{id}.
func (p *portal) revokeConsent(c *fiber.Ctx, s *session) error {
	got := p.callJSON(c, fiber.MethodDelete, consentPath(c), s.Token, map[string]string{"reason": strings.Clone(c.FormValue("reason"))})
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	return redirect(c, "/consents/"+url.PathEscape(c.Params("id")))
}
