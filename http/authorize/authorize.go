package authorize

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// API holds what the routes work on.
type API struct {
	Auth *consentauth.Service
	// Identity authenticates the TPPs (consumers).
	Identity *identity.Service
}

// Routes are the authorisation routes, for server.New.
func Routes(a *API) []server.Route {
	return []server.Route{
		{Method: fiber.MethodPost, Path: "/oauth2/par", Public: true, Handle: a.push},
		{Method: fiber.MethodPost, Path: "/oauth2/revoke", Public: true, Handle: a.revoke},
		{Method: fiber.MethodGet, Path: "/.well-known/openid-configuration", Public: true, Handle: a.discovery},
		{Method: fiber.MethodGet, Path: "/oauth2/authorize", Public: true, Handle: a.openPage},
		{Method: fiber.MethodGet, Path: consentauth.BerlinLinkPath + ":token", Public: true, Handle: a.berlinPage},
		{Method: fiber.MethodPost, Path: "/oauth2/authorize/login", Public: true, Handle: a.loginPage},
		{Method: fiber.MethodPost, Path: "/oauth2/authorize/accounts", Public: true, Handle: a.accountsPage},
		{Method: fiber.MethodPost, Path: "/oauth2/authorize/sca", Public: true, Handle: a.scaPage},
		{Method: fiber.MethodPost, Path: "/oauth2/authorize/reject", Public: true, Handle: a.rejectPage},
		{Method: fiber.MethodPost, Path: "/my/consent-authorisations", Decode: body[opening](), Handle: a.open},
		{Method: fiber.MethodGet, Path: "/my/consent-authorisations/:authorisation_id", Handle: a.get},
		{Method: fiber.MethodPost, Path: "/my/consent-authorisations/:authorisation_id/accounts", Decode: body[accountChoice](), Handle: a.chooseAccounts},
		{Method: fiber.MethodPost, Path: "/my/consent-authorisations/:authorisation_id/sca", Decode: body[scaAnswer](), Handle: a.answer},
		{Method: fiber.MethodPost, Path: "/my/consent-authorisations/:authorisation_id/reject", Handle: a.reject},
	}
}

// body is the Decode stage of a route whose JSON body is a T, read by the
// pipeline's one body policy (server.DecodeJSON).
func body[T any]() func(raw []byte) (any, error) { return server.JSONBody[T]() }

// form reads a form parameter as a copy: fiber's strings point into
// buffers the next request reuses.
func form(c *fiber.Ctx) func(string) string {
	return func(k string) string { return strings.Clone(c.FormValue(k)) }
}

// client authenticates the TPP calling by client_secret_basic or
// client_secret_post.
func (a *API) client(c *fiber.Ctx) (*identity.Consumer, error) {
	id, secret := oauth2.ClientOf(c.Get(fiber.HeaderAuthorization), form(c))
	if id == "" || secret == "" {
		return nil, engine.NewError(http.StatusUnauthorized, oauth2.CodeInvalidClient, "client authentication failed")
	}
	client, err := a.Identity.CheckConsumerSecret(id, secret)
	if err != nil {
		return nil, engine.NewError(http.StatusUnauthorized, oauth2.CodeInvalidClient, "client authentication failed")
	}
	return client, nil
}

// oauthError answers err in RFC 6749's JSON ({error, error_description}),
// naming the faults of a pushed request in "violations".
func oauthError(c *fiber.Ctx, err error) error {
	var e *engine.Error
	if !errors.As(err, &e) || e.Status >= http.StatusInternalServerError {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if e.Status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="dynapi"`)
	}
	out := fiber.Map{"error": e.Code, "error_description": e.Message}
	if len(e.Violations) > 0 {
		out["violations"] = e.Violations
	}
	return c.Status(e.Status).JSON(out)
}

// push is the pushed authorization request endpoint (RFC 9126).
func (a *API) push(c *fiber.Ctx) error {
	client, err := a.client(c)
	if err != nil {
		return oauthError(c, err)
	}
	params := map[string][]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		params[string(k)] = append(params[string(k)], string(v))
	})
	delete(params, "client_secret")
	out, err := a.Auth.Push(c.UserContext(), client, params)
	if err != nil {
		return oauthError(c, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(out)
}

// revoke is the token revocation endpoint (RFC 7009): 200 whether or not
// the token was one.
func (a *API) revoke(c *fiber.Ctx) error {
	client, err := a.client(c)
	if err != nil {
		return oauthError(c, err)
	}
	if err := a.Auth.Revoke(c.UserContext(), client, strings.Clone(c.FormValue("token"))); err != nil {
		return oauthError(c, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendStatus(http.StatusOK)
}

// discovery answers the OpenID Provider metadata.
func (a *API) discovery(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(a.Auth.Discovery(c.BaseURL()))
}
