package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/guard"
)

// registerRoles mounts the role list (any authenticated caller).
func (a *API) registerRoles(r routes) {
	r.loggedIn(fiber.MethodGet, "/roles", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"roles": a.Access.Authz.Roles()})
	})
}

// registerAudit mounts the audit log.
func (a *API) registerAudit(r routes) {
	r.system(fiber.MethodGet, "/audit-log", a.auditLog, authz.RoleCanReadAuditLog)
}

// auditLog answers a page of the audit log.
func (a *API) auditLog(c *fiber.Ctx) error {
	after, _ := strconv.ParseUint(query(c, "after"), 10, 64)
	entries, next, err := a.Access.Audit.List(c.UserContext(), after, limit(c, 100, 1000))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	out := fiber.Map{"entries": entries}
	if next != 0 {
		out["next_after"] = next
	}
	return c.JSON(out)
}

func ruleOf(roles ...string) *guard.Rule { return &guard.Rule{Roles: roles} }

func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

func badRequest(msg string) *engine.Error {
	return engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, msg)
}

func notFound(what, id string) *engine.Error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "%s %q not found", what, id)
}
