package authorize

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/http/portal"
	"github.com/dynapi/dynapi/http/server"
)

//go:embed templates/pages.html
var templateFiles embed.FS

// pages are the templates of the authorisation pages, styled as the
// developer portal is: its stylesheet, inlined.
var pages = template.Must(template.New("pages").Funcs(template.FuncMap{"stylesheet": func() template.CSS { return portal.Stylesheet }}).
	ParseFS(templateFiles, "templates/pages.html"))

// page is what a page shows.
type page struct {
	Title string
	Error string
	ID    string
	CSRF  string
	A     *consentauth.Authorisation
}

// Cookie names of the browser key: the __Host- prefix needs Secure and
// Path=/, so it is used over HTTPS only.
const (
	cookieHTTPS = "__Host-dynapi-authorisation"
	cookieHTTP  = "dynapi-authorisation"
)

// render answers the page named name with the headers every page carries.
func render(c *fiber.Ctx, status int, name string, p *page) error {
	formAction := ""
	if p.A != nil {
		formAction = p.A.FormAction
	}
	headers(c, formAction)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		return engine.Internal(err)
	}
	return c.Status(status).SendString(b.String())
}

// headers are the security headers of every page and redirect: no
// framing, no caching, no referrer, and forms sent only here or on to the
// client's redirect URI.
func headers(c *fiber.Ctx, formAction string) {
	csp := "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
	if formAction != "" {
		csp += " " + formAction
	}
	c.Set("Content-Security-Policy", csp+"; frame-ancestors 'none'")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// errorPage answers a failure before the client's redirect URI can be
// trusted, or a forgery: a page, never a redirect.
func errorPage(c *fiber.Ctx, status int, message string) error {
	return render(c, status, "error", &page{Title: "This request cannot go on", Error: message})
}

// finish sends the customer back to the client.
func finish(c *fiber.Ctx, a *consentauth.Authorisation) error {
	headers(c, a.FormAction)
	c.Set(fiber.HeaderLocation, a.RedirectURI)
	return c.SendStatus(http.StatusSeeOther)
}

// secure tells whether the request came over HTTPS.
func secure(c *fiber.Ctx) bool { return c.Protocol() == "https" }

// openPage opens an authorisation from a pushed request or a request
// object and shows the
// login form, setting the browser key cookie; a HEAD request opens
// nothing.
func (a *API) openPage(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodHead {
		// A link checker or prefetch must not use up the request_uri.
		headers(c, "")
		return c.SendStatus(http.StatusOK)
	}
	q := func(k string) string { return strings.Clone(c.Query(k)) }
	out, err := a.Auth.Open(c.UserContext(), consentauth.AuthorizationRequest{ClientID: q("client_id"), RequestURI: q("request_uri"),
		Request: q("request"), ResponseType: q("response_type")},
		consentauth.Caller{Address: server.Credentials(c).ClientAddr(), CorrelationID: correlationID(c)})
	if err != nil {
		return errorPage(c, statusOf(err), messageOf(err))
	}
	return a.opened(c, out)
}

// berlinPage opens the authorisation of a Berlin Group consent whose
// scaRedirect link the customer's browser followed (once: the link is
// used up) and shows the login form; a HEAD request opens nothing.
func (a *API) berlinPage(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodHead {
		headers(c, "")
		return c.SendStatus(http.StatusOK)
	}
	out, err := a.Auth.OpenLink(c.UserContext(), strings.Clone(c.Params("token")),
		consentauth.Caller{Address: server.Credentials(c).ClientAddr(), CorrelationID: correlationID(c)})
	if err != nil {
		return errorPage(c, statusOf(err), messageOf(err))
	}
	return a.opened(c, out)
}

// opened sets the browser key cookie of an authorisation just opened and
// shows the login form.
func (a *API) opened(c *fiber.Ctx, out *consentauth.Opened) error {
	ck := &fiber.Cookie{Name: cookieHTTP, Value: out.BrowserKey, Path: "/oauth2/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge: int(consentauth.SessionLifetime.Seconds())}
	if secure(c) {
		ck.Name, ck.Path, ck.Secure = cookieHTTPS, "/", true
	}
	c.Cookie(ck)
	return render(c, http.StatusOK, "login", &page{Title: "Log in to your bank", ID: out.ID,
		CSRF: a.Auth.CSRFToken(out.ID, out.BrowserKey), A: out.Authorisation})
}

// browser is the caller of a page's form: its authorisation id and
// browser key, once its CSRF token is checked; ok false when it is not.
func (a *API) browser(c *fiber.Ctx) (id string, who consentauth.Caller, ok bool) {
	name := cookieHTTP
	if secure(c) {
		name = cookieHTTPS
	}
	id, key := strings.Clone(c.FormValue("authorisation_id")), strings.Clone(c.Cookies(name))
	if !a.Auth.CheckCSRF(id, key, c.FormValue("csrf_token")) {
		return "", who, false
	}
	return id, consentauth.Caller{BrowserKey: key, Address: server.Credentials(c).ClientAddr(), CorrelationID: correlationID(c)}, true
}

// form runs a page's step for a browser whose CSRF token holds, then
// shows the next page, the same page again with what went wrong, or sends
// the customer back to the client once the authorisation is over.
func (a *API) form(c *fiber.Ctx, again string, step func(id string, who consentauth.Caller) (*consentauth.Authorisation, error), next string) error {
	id, who, ok := a.browser(c)
	if !ok {
		return errorPage(c, http.StatusForbidden, "This form has expired or did not come from this page. Start again from the app.")
	}
	out, err := step(id, who)
	if err != nil {
		current, getErr := a.Auth.Get(c.UserContext(), id, who)
		if getErr != nil {
			return errorPage(c, statusOf(err), messageOf(err))
		}
		if current.RedirectURI != "" {
			return finish(c, current)
		}
		return render(c, statusOf(err), again, &page{Title: titles[again], Error: messageOf(err), ID: id,
			CSRF: a.Auth.CSRFToken(id, who.BrowserKey), A: current})
	}
	if out.RedirectURI != "" {
		return finish(c, out)
	}
	return render(c, http.StatusOK, next, &page{Title: titles[next], ID: id, CSRF: a.Auth.CSRFToken(id, who.BrowserKey), A: out})
}

// titles are the pages' titles.
var titles = map[string]string{"login": "Log in to your bank", "accounts": "Choose the accounts to share",
	"sca": "Enter your one-time code"}

func (a *API) loginPage(c *fiber.Ctx) error {
	return a.form(c, "login", func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.Login(c.UserContext(), id, who, strings.Clone(c.FormValue("username")), strings.Clone(c.FormValue("password")))
	}, "accounts")
}

func (a *API) accountsPage(c *fiber.Ctx) error {
	return a.form(c, "accounts", func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		var accounts []string
		for _, v := range c.Request().PostArgs().PeekMulti("account") {
			accounts = append(accounts, string(v))
		}
		out, err := a.Auth.ChooseAccounts(c.UserContext(), id, who, accounts)
		if out != nil {
			out.Code = "" // the code is never shown on a page
		}
		return out, err
	}, "sca")
}

func (a *API) scaPage(c *fiber.Ctx) error {
	return a.form(c, "sca", func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.Answer(c.UserContext(), id, who, strings.Clone(c.FormValue("code")))
	}, "sca")
}

func (a *API) rejectPage(c *fiber.Ctx) error {
	return a.form(c, "login", func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.Reject(c.UserContext(), id, who)
	}, "login")
}

// correlationID is the request's correlation id.
func correlationID(c *fiber.Ctx) string {
	return string(c.Response().Header.Peek(server.HeaderCorrelationID))
}

// statusOf is the HTTP status of err.
func statusOf(err error) int { return engine.AsError(err).Status }

// messageOf says what went wrong, for the customer.
func messageOf(err error) string {
	var e *engine.Error
	if errors.As(err, &e) && e.Status < http.StatusInternalServerError {
		return e.Message
	}
	return "Something went wrong on our side. Try again later."
}
