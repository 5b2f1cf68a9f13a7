package portal

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/server"
)

// sessionRoutes mounts signing in, up and out.
func (p *portal) sessionRoutes(get, post func(string, fiber.Handler)) {
	get("/signin", p.signInPage)
	post("/signin", p.signIn)
	post("/signout", p.signOut)
	get("/signup", p.signUpPage)
	post("/signup", p.signUp)
}

// home is the portal's first page: the catalogue for a signed-in user,
// the sign-in form otherwise.
func (p *portal) home(c *fiber.Ctx) error {
	if c.Cookies(sessionCookie) == "" {
		return redirect(c, "/signin")
	}
	return redirect(c, "/catalogue")
}

func (p *portal) signInPage(c *fiber.Ctx) error {
	return p.render(c, http.StatusOK, "signin", &view{Title: "Sign in"})
}

// signIn logs the user in by DirectLogin through the portal's consumer,
// with the API's own login route: its throttling, lockouts and security
// log apply. The token goes into the session cookie only.
func (p *portal) signIn(c *fiber.Ctx) error {
	username, password := strings.Clone(c.FormValue("username")), strings.Clone(c.FormValue("password"))
	header := "username=" + strconv.Quote(username) + ", password=" + strconv.Quote(password) +
		", consumer_key=" + strconv.Quote(ConsumerKey)
	got := p.call(c, fiber.MethodPost, "/my/logins/direct", "", "", nil, "DirectLogin", header)
	if !got.ok() {
		return p.render(c, statusOfLogin(got.Status), "signin", &view{Title: "Sign in", Error: got.problem(), Data: username})
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := got.decode(&out); err != nil {
		return err
	}
	setCookie(c, sessionCookie, out.Token)
	return redirect(c, "/apps")
}

// statusOfLogin is the status of the sign-in page after a refused login:
// the API's, but a malformed header is the form's fault (400).
func statusOfLogin(status int) int {
	if status == http.StatusTooManyRequests || status == http.StatusUnauthorized {
		return status
	}
	return http.StatusBadRequest
}

// signOut revokes the session's token through the API and drops the
// cookie.
func (p *portal) signOut(c *fiber.Ctx) error {
	if token := strings.Clone(c.Cookies(sessionCookie)); token != "" {
		// A token already gone (expired, revoked) is signed out as well.
		_ = p.call(c, fiber.MethodDelete, "/my/logins/direct", token, "", nil)
	}
	setCookie(c, sessionCookie, "")
	return redirect(c, "/signin")
}

// signUpPage shows the registration form when the bank allows
// self-registration; a 404 page otherwise.
func (p *portal) signUpPage(c *fiber.Ctx) error {
	if !p.SelfRegistration {
		return p.closedSignUp(c)
	}
	return p.render(c, http.StatusOK, "signup", &view{Title: "Sign up"})
}

// closedSignUp is the answer of the sign-up pages when self-registration
// is off.
func (p *portal) closedSignUp(c *fiber.Ctx) error {
	return p.render(c, http.StatusNotFound, "message", &view{Title: "Sign up is closed",
		Notice: "This bank does not let developers register themselves. Ask the bank for an account."})
}

// signUp creates a user with no role under the password policy (audited
// as user.create by the user itself's address), then signs them in.
func (p *portal) signUp(c *fiber.Ctx) error {
	if !p.SelfRegistration {
		return p.closedSignUp(c)
	}
	in := identity.NewUser{Username: strings.Clone(c.FormValue("username")), Email: strings.Clone(c.FormValue("email")),
		Password: strings.Clone(c.FormValue("password"))}
	if in.Password != c.FormValue("password_again") {
		err := engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the two passwords differ",
			engine.Violation{Location: "body", Pointer: "/password_again", Code: "mismatch", Message: "type the same password twice"})
		return p.render(c, http.StatusBadRequest, "signup", &view{Title: "Sign up", Error: err, Data: in})
	}
	act := audit.Actor{CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID)),
		Address: server.Credentials(c).ClientAddr()}
	if _, err := p.Identity.CreateUser(c.UserContext(), act, in); err != nil {
		e := engine.AsError(err)
		if e.Status >= http.StatusInternalServerError {
			return err
		}
		in.Password = ""
		return p.render(c, e.Status, "signup", &view{Title: "Sign up", Error: e, Data: in})
	}
	return p.signIn(c)
}
