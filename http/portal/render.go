package portal

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages are the portal's templates: layout.html's head and foot around
// one page each.
var pages = template.Must(template.New("portal").Funcs(template.FuncMap{"json": prettyJSON}).
	ParseFS(templateFiles, "templates/*.html"))

// view is what a page shows.
type view struct {
	Title string
	// Session is the signed-in user; nil on the sign-in pages.
	Session *session
	CSRF    string
	// Error is what went wrong with the last form, with its violations.
	Error *engine.Error
	// Notice is a message in place of content.
	Notice           string
	SelfRegistration bool
	// Viewer is set on the catalogue's document page: its stylesheet
	// and scripts are Swagger UI's.
	Viewer bool
	Data   any
}

// Content-Security-Policy of the portal's pages: their own stylesheet and
// script only, forms sent here only, never framed. The API viewer adds
// inline styles (Swagger UI sets style attributes) and data: images.
const (
	pageCSP   = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	viewerCSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// render answers page name with v, and the headers every page carries.
func (p *portal) render(c *fiber.Ctx, status int, name string, v *view) error {
	if v.CSRF == "" {
		v.CSRF = csrf(c)
	}
	v.SelfRegistration = p.SelfRegistration
	csp := pageCSP
	if v.Viewer {
		csp = viewerCSP
	}
	c.Set("Content-Security-Policy", csp)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, v); err != nil {
		return engine.Internal(err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(b.Bytes())
}

// failed answers a page that could not be shown: what the API refused, or
// a server fault without its detail.
func (p *portal) failed(c *fiber.Ctx, s *session, err error) error {
	e := engine.AsError(err)
	if e.Status >= http.StatusInternalServerError {
		return err
	}
	return p.render(c, e.Status, "message", &view{Title: titleOf(e.Status), Session: s, Error: e})
}

// titleOf is the title of a page refused with status.
func titleOf(status int) string {
	switch status {
	case http.StatusForbidden:
		return "You may not see this page"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusUnauthorized:
		return "Sign in again"
	}
	return "This cannot be done"
}

// prettyJSON indents a JSON value for a <pre> or a textarea.
func prettyJSON(v any) string {
	var b bytes.Buffer
	enc := jsonEncoder(&b)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return b.String()
}
