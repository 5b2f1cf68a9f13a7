package admin

import (
	"net/http"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/gofiber/fiber/v2"
)

// registerUsers mounts users, their entitlements and entitlement requests.
func (a *API) registerUsers(r routes) {
	r.taking(bodyOf[newUserBody]()).system(fiber.MethodPost, "/users", a.createUser, authz.RoleCanCreateUser)
	r.system(fiber.MethodGet, "/users", a.listUsers, authz.RoleCanGetAnyUser)
	r.system(fiber.MethodGet, "/users/:user_id", a.getUser, authz.RoleCanGetAnyUser)
	r.system(fiber.MethodPost, "/users/:user_id/lock", a.lockUser(true), authz.RoleCanLockUser)
	r.system(fiber.MethodDelete, "/users/:user_id/lock", a.lockUser(false), authz.RoleCanLockUser)
	r.system(fiber.MethodDelete, "/users/:user_id", a.deleteUser, authz.RoleCanDeleteUser)
	r.taking(bodyOf[passwordReset]()).system(fiber.MethodPut, "/users/:user_id/password", a.resetPassword, authz.RoleCanResetUserPassword)
	r.system(fiber.MethodDelete, "/users/:user_id/login-failures", a.clearLoginFailures, authz.RoleCanLockUser)

	// Granting and revoking check the caller's rights themselves: at any
	// bank, or at the one bank of the entitlement.
	r.taking(bodyOf[grantRequest]()).loggedIn(fiber.MethodPost, "/users/:user_id/entitlements", a.grant)
	r.system(fiber.MethodGet, "/users/:user_id/entitlements", a.listEntitlements, authz.RoleCanGetEntitlementsForAnyUserAtAnyBank)
	r.loggedIn(fiber.MethodDelete, "/users/:user_id/entitlements/:entitlement_id", a.revoke)

	r.system(fiber.MethodGet, "/entitlement-requests", a.listEntitlementRequests, authz.RoleCanGetEntitlementRequestsAtAnyBank)
	r.loggedIn(fiber.MethodPost, "/entitlement-requests/:id/grant", a.decideEntitlementRequest(true))
	r.system(fiber.MethodPost, "/entitlement-requests/:id/reject", a.decideEntitlementRequest(false), authz.RoleCanDeleteEntitlementRequestsAtAnyBank)
}

// newUserBody is the body of a user registration. OBP's createUser
// documents first_name and last_name besides username, email and
// password; dynapi keeps no names, so those two are accepted and ignored,
// and any other member is refused.
type newUserBody struct {
	identity.NewUser
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

func (a *API) createUser(c *fiber.Ctx) error {
	u, err := a.Access.Identity.CreateUser(c.UserContext(), actor(c), decoded[newUserBody](c).NewUser)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(u)
}

func (a *API) listUsers(c *fiber.Ctx) error {
	users, next, err := a.Access.Identity.Users(c.UserContext(), query(c, "cursor"), limit(c, 50, 1000))
	if err != nil {
		return err
	}
	if users == nil {
		users = []*identity.User{}
	}
	return c.JSON(fiber.Map{"users": users, "next_cursor": next})
}

func (a *API) getUser(c *fiber.Ctx) error {
	u, err := a.Access.Identity.User(c.UserContext(), param(c, "user_id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (a *API) lockUser(locked bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, err := a.Access.Identity.SetLocked(c.UserContext(), actor(c), param(c, "user_id"), locked)
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
}

func (a *API) deleteUser(c *fiber.Ctx) error {
	if err := a.Access.DeleteUser(c.UserContext(), actor(c), param(c, "user_id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// passwordReset is the body of resetPassword.
type passwordReset struct {
	Password string `json:"password"`
}

// resetPassword sets another user's password: {"password": "..."}. Every
// session and token of that user ends.
func (a *API) resetPassword(c *fiber.Ctx) error {
	password := decoded[passwordReset](c).Password
	if _, err := a.Access.Identity.SetPassword(c.UserContext(), actor(c), param(c, "user_id"), password); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// clearLoginFailures is the operators' break-glass: it ends the lockouts
// and slowdowns that failed logins put on a user, from every address.
func (a *API) clearLoginFailures(c *fiber.Ctx) error {
	if err := a.Access.Identity.ClearLoginFailures(c.UserContext(), actor(c), param(c, "user_id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// grantRequest is the body of an entitlement grant, as OBP writes it.
type grantRequest struct {
	BankID   string `json:"bank_id"`
	RoleName string `json:"role_name"`
}

func (a *API) grant(c *fiber.Ctx) error {
	in := decoded[grantRequest](c)
	e, err := a.Access.Authz.Grant(c.UserContext(), actor(c), param(c, "user_id"), in.BankID, in.RoleName)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(e)
}

func (a *API) listEntitlements(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if _, err := a.Access.Identity.User(ctx, param(c, "user_id")); err != nil {
		return err
	}
	list, err := a.Access.Authz.EntitlementsOf(ctx, param(c, "user_id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"list": nonNil(list)})
}

func (a *API) revoke(c *fiber.Ctx) error {
	ctx := c.UserContext()
	e, err := a.Access.Authz.Entitlement(ctx, param(c, "entitlement_id"))
	if err != nil {
		return err
	}
	if e.UserID != param(c, "user_id") {
		return notFound("entitlement", param(c, "entitlement_id"))
	}
	if err := a.Access.Authz.Revoke(ctx, actor(c), e.ID); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (a *API) listEntitlementRequests(c *fiber.Ctx) error {
	list, err := a.Access.Authz.EntitlementRequests(c.UserContext(), query(c, "status"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entitlement_requests": nonNil(list)})
}

func (a *API) decideEntitlementRequest(grant bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r, err := a.Access.Authz.DecideEntitlementRequest(c.UserContext(), actor(c), param(c, "id"), grant)
		if err != nil {
			return err
		}
		return c.JSON(r)
	}
}
