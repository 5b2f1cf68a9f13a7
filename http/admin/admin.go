package admin

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/apidoc"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpointmap"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/plugins/directlogin"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// API holds what the management routes work on.
type API struct {
	Access    *access.Service
	Gate      *guard.Gate
	Endpoints *endpoints.Manager
	Entities  *dynentity.Registry
	Mappings  *endpointmap.Store
	// Methods routes connector methods and holds their scripts.
	Methods *connector.Dispatcher
	// Cases runs the changes the management routes make.
	Cases       *usecase.Cases
	DirectLogin *directlogin.Plugin
	OAuth2      *oauth2.Issuer
	// MaxDocumentBytes bounds a submitted API document.
	MaxDocumentBytes int
	// Version is the engine's version, shown in /openapi.json.
	Version string

	// description is /openapi.json, kept until what is served changes.
	description apidoc.Cache
}

// principalKey is where the authenticated caller is kept on the request.
type principalKey struct{}

// Register mounts every management, self-service and token route on app.
func Register(app *fiber.App, a *API) {
	if a.Cases != nil {
		a.Cases.Changes.Subscribe(a.description.Changed)
	}
	a.registerLogins(app)
	app.Get("/openapi.json", a.authenticate, a.openAPI)
	my := app.Group("/my", a.authenticate)
	a.registerMy(my)
	g := app.Group("/admin/v1", a.authenticate)
	a.registerEndpoints(g)
	a.registerEntities(g)
	a.registerMappings(g)
	a.registerConnectors(g)
	a.registerUsers(g)
	a.registerConsumers(g)
	a.registerBanks(g)
	a.registerRoles(g)
	a.registerAudit(g)
}

// openAPI answers the engine's own OpenAPI 3.1 description: the banking
// core, every entity's record API and every live dynamic endpoint
// operation.
func (a *API) openAPI(c *fiber.Ctx) error {
	body, err := a.description.JSON(apidoc.Sources{Builtin: []apidoc.Describer{banking.OpenAPI},
		Entities: a.Entities, Endpoints: a.Endpoints, Version: a.Version})
	if err != nil {
		return engine.Internal(err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// authenticate requires valid credentials and keeps the caller.
func (a *API) authenticate(c *fiber.Ctx) error {
	p, err := server.Authenticate(c, a.Gate)
	if err != nil {
		return err // a 401 gets WWW-Authenticate where it is rendered
	}
	c.Locals(principalKey{}, p)
	return c.Next()
}

// system requires any one of roles, granted system wide.
func (a *API) system(roles ...string) fiber.Handler {
	rule := &guard.Rule{Roles: roles}
	return func(c *fiber.Ctx) error {
		if err := server.Guard(c.UserContext(), a.Gate, principal(c), rule, ""); err != nil {
			return err
		}
		return c.Next()
	}
}

// atBank requires any one of roles at the URL's bank (system roles count
// anywhere); the bank must exist.
func (a *API) atBank(roles ...string) fiber.Handler {
	rule := &guard.Rule{Roles: roles}
	return func(c *fiber.Ctx) error {
		if err := server.Guard(c.UserContext(), a.Gate, principal(c), rule, param(c, "bank_id")); err != nil {
			return err
		}
		return c.Next()
	}
}

// principal is the authenticated caller of the request.
func principal(c *fiber.Ctx) *identity.Principal {
	p, _ := c.Locals(principalKey{}).(*identity.Principal)
	return p
}

// actor is who makes a change, for authorisation and the audit log.
func actor(c *fiber.Ctx) audit.Actor {
	p := principal(c)
	return audit.Actor{UserID: p.UserID, ConsumerID: p.ConsumerID,
		CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID)),
		Address:       server.Credentials(c).ClientAddr()}
}

// decode reads the JSON body into v by the pipeline's one body policy
// (server.DecodeJSON): decoded strictly, and a member v's type has no
// field for is a 400 naming it.
func decode(c *fiber.Ctx, v any) error { return server.DecodeJSON(c.Body(), v) }

// limit reads ?limit=, defaulting to def and capped at max.
func limit(c *fiber.Ctx, def, max int) int {
	n, err := strconv.Atoi(query(c, "limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

// param returns a path parameter. fiber's strings point into buffers the
// next request reuses, so every value handed on is a copy.
func param(c *fiber.Ctx, name string) string { return strings.Clone(c.Params(name)) }

// query returns a query parameter, copied for the same reason as param.
func query(c *fiber.Ctx, name string) string { return strings.Clone(c.Query(name)) }
