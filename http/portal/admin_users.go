package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

// usersAPI is the API's user routes.
const usersAPI = "/admin/v1/users"

// userRoutes mounts the users and entitlements pages.
func (p *portal) userRoutes(get, post func(string, fiber.Handler)) {
	get("/admin/users", p.signedIn(p.usersPage))
	get("/admin/users/:id", p.signedIn(func(c *fiber.Ctx, s *session) error { return p.userPage(c, s, http.StatusOK, false, nil) }))
	post("/admin/users/:id/lock", p.signedIn(p.userChange(fiber.MethodPost, "/lock", nil)))
	post("/admin/users/:id/unlock", p.signedIn(p.userChange(fiber.MethodDelete, "/lock", nil)))
	post("/admin/users/:id/grant", p.signedIn(p.userChange(fiber.MethodPost, "/entitlements", func(c *fiber.Ctx) any {
		return map[string]string{"bank_id": strings.Clone(c.FormValue("bank_id")), "role_name": strings.Clone(c.FormValue("role_name"))}
	})))
	post("/admin/users/:id/entitlements/:entitlement_id/revoke", p.signedIn(func(c *fiber.Ctx, s *session) error {
		return p.userChange(fiber.MethodDelete, "/entitlements/"+url.PathEscape(c.Params("entitlement_id")), nil)(c, s)
	}))
	p.limitsRoutes(post, "/admin/users", userPath, p.userPage)
}

// adminUser is a user as the API answers it.
type adminUser struct {
	ID       string `json:"user_id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Locked   bool   `json:"locked"`
}

// entitlement is a role a user holds at a bank ("" system wide).
type entitlement struct {
	ID     string `json:"entitlement_id"`
	BankID string `json:"bank_id"`
	Role   string `json:"role_name"`
}

func (p *portal) usersPage(c *fiber.Ctx, s *session) error {
	q := url.Values{"limit": {"50"}}
	if cur := c.Query("cursor"); cur != "" {
		q.Set("cursor", cur)
	}
	got := p.call(c, fiber.MethodGet, usersAPI+"?"+q.Encode(), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var out struct {
		Users []adminUser `json:"users"`
		Next  string      `json:"next_cursor"`
	}
	if err := got.decode(&out); err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "users", &view{Title: "Users", Session: s, Data: out})
}

// userPath is the API path of the user c names.
func userPath(c *fiber.Ctx) string { return usersAPI + "/" + url.PathEscape(c.Params("id")) }

// userPage shows a user, their entitlements, their call limits when the
// user signed in may read them, and the forms to change them. After a
// refused form it shows status and fault, and when posted the limits sent.
func (p *portal) userPage(c *fiber.Ctx, s *session, status int, posted bool, fault *engine.Error) error {
	var data struct {
		User         adminUser
		Entitlements []entitlement
		Roles        []string
		Limits       *callLimits
	}
	got := p.call(c, fiber.MethodGet, userPath(c), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	if err := got.decode(&data.User); err != nil {
		return err
	}
	ents := p.call(c, fiber.MethodGet, userPath(c)+"/entitlements", s.Token, "", nil)
	if ents.ok() {
		var out struct {
			List []entitlement `json:"list"`
		}
		if err := ents.decode(&out); err != nil {
			return err
		}
		data.Entitlements = out.List
	}
	roles := p.call(c, fiber.MethodGet, "/admin/v1/roles", s.Token, "", nil)
	if roles.ok() {
		var out struct {
			Roles []struct {
				Name string `json:"role_name"`
			} `json:"roles"`
		}
		if err := roles.decode(&out); err != nil {
			return err
		}
		for _, r := range out.Roles {
			data.Roles = append(data.Roles, r.Name)
		}
	}
	limits, err := p.loadCallLimits(c, s, userPath(c)+"/call-limits", "/portal/admin/users/"+url.PathEscape(data.User.ID)+"/call-limits", posted, fault)
	if err != nil {
		return err
	}
	data.Limits = limits
	return p.render(c, status, "user", &view{Title: "User " + data.User.Username, Session: s, Error: fault, Data: &data})
}

// userChange is a form changing the user c names through the API: method
// on the user's path and suffix, with body's JSON when body is set.
func (p *portal) userChange(method, suffix string, body func(c *fiber.Ctx) any) func(c *fiber.Ctx, s *session) error {
	return func(c *fiber.Ctx, s *session) error {
		var v any
		if body != nil {
			v = body(c)
		}
		got := p.callJSON(c, method, userPath(c)+suffix, s.Token, v)
		if !got.ok() {
			return p.userPage(c, s, got.Status, false, got.problem())
		}
		return redirect(c, "/admin/users/"+url.PathEscape(c.Params("id")))
	}
}
