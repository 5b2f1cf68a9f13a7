package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/plugins/directlogin"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// registerLogins mounts the public token routes.
func (a *API) registerLogins(r routes) {
	r.public(fiber.MethodPost, "/my/logins/direct", a.directLogin)
	r.public(fiber.MethodPost, "/oauth2/token", a.oauth2Token)
	r.public(fiber.MethodGet, "/.well-known/jwks.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/jwk-set+json")
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		return c.Send(a.jwks.of(a.OAuth2.JWKS(), a.Events))
	})
}

// directLogin exchanges DirectLogin credentials for a token, as OBP does.
// The token issued, or a consumer refused, is a security event; password
// failures are recorded where they are checked.
func (a *API) directLogin(c *fiber.Ctx) error {
	creds := server.Credentials(c)
	event := identity.SecurityEvent{Method: directlogin.Method, Address: creds.ClientAddr(),
		CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID))}
	ctx := identity.WithCorrelationID(c.UserContext(), event.CorrelationID)
	token, p, err := a.DirectLogin.Login(ctx, creds)
	if err != nil {
		var refused *directlogin.ConsumerRefusedError
		if errors.As(err, &refused) {
			event.Action, event.Reason = identity.ActionLoginFailure, identity.ReasonUnknownConsumer
			event.UserID, event.Username = refused.UserID, refused.Username
			_ = a.Access.Identity.RecordSecurityEvent(ctx, event)
		}
		return err
	}
	event.Action, event.UserID, event.Username, event.ConsumerID = identity.ActionTokenIssue, p.UserID, p.Username, p.ConsumerID
	_ = a.Access.Identity.RecordSecurityEvent(ctx, event)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(fiber.Map{"token": token})
}

// revokeDirectLogin ends the DirectLogin session the request carries.
func (a *API) revokeDirectLogin(c *fiber.Ctx) error {
	if err := a.DirectLogin.Revoke(c.UserContext(), server.Credentials(c)); err != nil {
		return err
	}
	act := actor(c)
	_ = a.Access.Identity.RecordSecurityEvent(c.UserContext(), identity.SecurityEvent{Action: identity.ActionTokenRevoke,
		Method: directlogin.Method, UserID: act.UserID, Username: principal(c).Username, ConsumerID: act.ConsumerID,
		Address: act.Address, CorrelationID: act.CorrelationID})
	return c.SendStatus(http.StatusNoContent)
}

// oauth2Token is the token endpoint: the client credentials grant (RFC
// 6749 4.4) and, with Grants, a customer's authorization_code and
// refresh_token grants. Its errors use RFC 6749's JSON, which OAuth2
// client libraries read, not problem+json. The token issued, or the
// client refused, is a security event.
func (a *API) oauth2Token(c *fiber.Ctx) error {
	id, secret := oauth2.ClientOf(c.Get(fiber.HeaderAuthorization), func(k string) string { return c.FormValue(k) })
	var resp any
	var err error
	switch grant := c.FormValue("grant_type"); {
	case a.Grants != nil && (grant == consentauth.GrantAuthorizationCode || grant == consentauth.GrantRefreshToken):
		resp, err = a.customerGrant(c, id, secret, grant)
	default:
		resp, err = a.OAuth2.ClientCredentials(c.UserContext(), id, secret, grant, strings.Clone(c.FormValue("scope")))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	event := identity.SecurityEvent{Action: identity.ActionTokenIssue, Method: oauth2.Method,
		Address: server.Credentials(c).ClientAddr(), CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID))}
	if con, ok := a.Access.Identity.ConsumerByKey(id); ok {
		event.UserID, event.ConsumerID = con.CreatedBy, con.ID
	}
	if err != nil {
		var e *engine.Error
		if !errors.As(err, &e) {
			return err
		}
		if e.Status == http.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="dynapi"`)
			event.Action, event.Reason = identity.ActionLoginFailure, identity.ReasonInvalidClient
			_ = a.Access.Identity.RecordSecurityEvent(c.UserContext(), event)
		}
		return c.Status(e.Status).JSON(fiber.Map{"error": e.Code, "error_description": e.Message})
	}
	_ = a.Access.Identity.RecordSecurityEvent(c.UserContext(), event)
	return c.JSON(resp)
}

// customerGrant serves a grant of Grants for the client authenticated by
// id and secret.
func (a *API) customerGrant(c *fiber.Ctx, id, secret, grant string) (any, error) {
	client, err := a.Access.Identity.CheckConsumerSecret(id, secret)
	if err != nil {
		return nil, engine.NewError(http.StatusUnauthorized, oauth2.CodeInvalidClient, "client authentication failed")
	}
	return a.Grants.Exchange(c.UserContext(), client, grant, func(k string) string { return strings.Clone(c.FormValue(k)) })
}
