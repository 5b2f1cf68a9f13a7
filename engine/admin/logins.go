package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/server"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// registerLogins mounts the public token routes.
func (a *API) registerLogins(app *fiber.App) {
	app.Post("/my/logins/direct", a.directLogin)
	app.Post("/oauth2/token", a.oauth2Token)
	app.Get("/.well-known/jwks.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/jwk-set+json")
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		return c.Send(a.OAuth2.JWKS())
	})
}

// directLogin exchanges DirectLogin credentials for a token, as OBP does.
func (a *API) directLogin(c *fiber.Ctx) error {
	token, err := a.DirectLogin.Login(c.UserContext(), server.Credentials(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(fiber.Map{"token": token})
}

// revokeDirectLogin ends the DirectLogin session the request carries.
func (a *API) revokeDirectLogin(c *fiber.Ctx) error {
	if err := a.DirectLogin.Revoke(c.UserContext(), server.Credentials(c)); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// oauth2Token is the client credentials grant (RFC 6749 4.4). Its errors use
// RFC 6749's JSON, which OAuth2 client libraries read, not problem+json.
func (a *API) oauth2Token(c *fiber.Ctx) error {
	id, secret, basic := oauth2.ParseBasicAuth(c.Get(fiber.HeaderAuthorization))
	if !basic {
		id, secret = strings.Clone(c.FormValue("client_id")), strings.Clone(c.FormValue("client_secret"))
	}
	resp, err := a.OAuth2.ClientCredentials(c.UserContext(), id, secret, c.FormValue("grant_type"), strings.Clone(c.FormValue("scope")))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err != nil {
		var e *engine.Error
		if !errors.As(err, &e) {
			return err
		}
		if e.Status == http.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="dynapi"`)
		}
		return c.Status(e.Status).JSON(fiber.Map{"error": e.Code, "error_description": e.Message})
	}
	return c.JSON(resp)
}
