package admin

import (
	"net/http"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/gofiber/fiber/v2"
)

// registerMy mounts the caller's own resources; each needs only login.
func (a *API) registerMy(r routes) {
	a.registerMyConsents(r)
	a.registerMyWebhooks(r)
	a.registerMyDeliveries(r)
	r.loggedIn(fiber.MethodDelete, "/logins/direct", a.revokeDirectLogin)
	r.taking(bodyOf[passwordChange]()).loggedIn(fiber.MethodPut, "/password", a.changePassword)
	r.loggedIn(fiber.MethodGet, "/user", func(c *fiber.Ctx) error {
		u, err := a.Access.Identity.User(c.UserContext(), principal(c).UserID)
		if err != nil {
			return err
		}
		return c.JSON(u)
	})
	r.taking(bodyOf[newConsumer]()).loggedIn(fiber.MethodPost, "/consumers", a.createConsumer)
	r.taking(bodyOf[redirectURIs]()).loggedIn(fiber.MethodPut, "/consumers/:consumer_id/redirect-uris", a.setRedirectURIs)
	if a.CallbackURLs != nil {
		r.taking(bodyOf[callbackURLs]()).loggedIn(fiber.MethodPut, "/consumers/:consumer_id/callback-urls", a.setCallbackURLs)
	}
	r.taking(bodyOf[authorizationPolicy]()).loggedIn(fiber.MethodPut, "/consumers/:consumer_id/authorization-policy", a.setAuthorizationPolicy)
	r.loggedIn(fiber.MethodGet, "/consumers", func(c *fiber.Ctx) error {
		list, err := a.Access.Identity.Consumers(c.UserContext(), principal(c).UserID)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"consumers": nonNil(list)})
	})
	r.loggedIn(fiber.MethodGet, "/dynamic-entities", func(c *fiber.Ctx) error {
		return a.writeEntities(c, a.Entities.ListByCreator(principal(c).UserID))
	})
	r.loggedIn(fiber.MethodGet, "/entitlements", func(c *fiber.Ctx) error {
		list, err := a.Access.Authz.EntitlementsOf(c.UserContext(), principal(c).UserID)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"list": nonNil(list)})
	})
	r.taking(bodyOf[grantRequest]()).loggedIn(fiber.MethodPost, "/entitlement-requests", func(c *fiber.Ctx) error {
		in := decoded[grantRequest](c)
		r, err := a.Access.Authz.RequestEntitlement(c.UserContext(), actor(c), in.BankID, in.RoleName)
		if err != nil {
			return err
		}
		return c.Status(http.StatusCreated).JSON(r)
	})
	r.loggedIn(fiber.MethodGet, "/entitlement-requests", func(c *fiber.Ctx) error {
		all, err := a.Access.Authz.EntitlementRequests(c.UserContext(), "")
		if err != nil {
			return err
		}
		mine := []*authz.EntitlementRequest{}
		for _, r := range all {
			if r.UserID == principal(c).UserID {
				mine = append(mine, r)
			}
		}
		return c.JSON(fiber.Map{"entitlement_requests": mine})
	})
}

// passwordChange is the body of changePassword.
type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changePassword sets the caller's password: {"current_password",
// "new_password"}. Every session and token of the caller ends, this one
// included.
func (a *API) changePassword(c *fiber.Ctx) error {
	in := decoded[passwordChange](c)
	act := actor(c)
	ctx := identity.WithCorrelationID(c.UserContext(), act.CorrelationID)
	if err := a.Access.Identity.ChangePassword(ctx, act, in.Current, in.New); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
