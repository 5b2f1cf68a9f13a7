package admin

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/ratelimit"
)

// registerCallLimits mounts the call limits of consumers and users (OBP's
// call limits), when the API has a rate limit service.
func (a *API) registerCallLimits(r routes) {
	if a.CallLimits == nil {
		return
	}
	for _, s := range []struct {
		path    string
		subject ratelimit.Subject
	}{{"/consumers/:consumer_id/call-limits", ratelimit.Consumer}, {"/users/:user_id/call-limits", ratelimit.User}} {
		r.taking(bodyOf[ratelimit.CallLimitsBody]()).system(fiber.MethodPut, s.path, a.setCallLimits(s.subject), authz.RoleCanSetCallLimits)
		r.system(fiber.MethodGet, s.path, a.getCallLimits(s.subject), authz.RoleCanReadCallLimits)
		r.system(fiber.MethodDelete, s.path, a.deleteCallLimits(s.subject), authz.RoleCanSetCallLimits)
	}
}

// callLimitsAnswer is the limits in force for a consumer or user in OBP's
// JSON, whether they are the configured default (none set on it), and, in
// a GET, the calls counted against them on this node (OBP's
// current_state).
type callLimitsAnswer struct {
	ratelimit.CallLimitsJSON
	IsDefault    bool                    `json:"is_default"`
	CurrentState *ratelimit.CurrentState `json:"current_state,omitempty"`
}

// subjectID is the id of the consumer or user at the path of c, checked to
// exist (a 404 otherwise).
func (a *API) subjectID(c *fiber.Ctx, s ratelimit.Subject) (string, error) {
	exists := func(ctx context.Context, id string) error { _, err := a.Access.Identity.Consumer(ctx, id); return err }
	id := param(c, "consumer_id")
	if s == ratelimit.User {
		exists = func(ctx context.Context, id string) error { _, err := a.Access.Identity.User(ctx, id); return err }
		id = param(c, "user_id")
	}
	return id, exists(c.UserContext(), id)
}

// setCallLimits replaces the default (or the limits set before) of a
// consumer or user with the body's, in OBP's JSON.
func (a *API) setCallLimits(s ratelimit.Subject) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limits, err := decoded[ratelimit.CallLimitsBody](c).Limits()
		if err != nil {
			return err
		}
		id, err := a.subjectID(c, s)
		if err != nil {
			return err
		}
		if err := a.CallLimits.Set(c.UserContext(), actor(c), s, id, limits); err != nil {
			return err
		}
		return c.JSON(callLimitsAnswer{CallLimitsJSON: ratelimit.JSONOf(limits)})
	}
}

// getCallLimits answers the limits in force for a consumer or user.
func (a *API) getCallLimits(s ratelimit.Subject) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := a.subjectID(c, s)
		if err != nil {
			return err
		}
		limits, own := a.CallLimits.Limits(s, id)
		state := a.CallLimits.State(s, id)
		return c.JSON(callLimitsAnswer{CallLimitsJSON: ratelimit.JSONOf(limits), IsDefault: !own, CurrentState: &state})
	}
}

// deleteCallLimits removes the limits set on a consumer or user, which has
// the default again.
func (a *API) deleteCallLimits(s ratelimit.Subject) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := a.subjectID(c, s)
		if err != nil {
			return err
		}
		if err := a.CallLimits.Delete(c.UserContext(), actor(c), s, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
