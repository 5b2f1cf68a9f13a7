package admin

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/apidoc"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpointmap"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/ratelimit"
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
	// Consents are the consents TPPs create; nil serves no consent routes.
	Consents *consent.Service
	// ConsentProfiles are the consent profiles in force; nil serves no
	// profile routes.
	ConsentProfiles *consent.Registry
	// Grants serves the token endpoint's authorization_code and
	// refresh_token grants; nil serves client_credentials alone.
	Grants *consentauth.Service
	// CallbackURLs checks the callback URLs consumers register (the
	// events service's URL checker); nil serves no callback URL route.
	CallbackURLs identity.URLChecker
	// Events keeps event subscriptions and deliveries; nil serves no
	// webhook or delivery routes, and no webhook key in the JWK Set.
	Events *events.Service
	// CallLimits keeps the call limits of consumers and users; nil serves
	// no call limit routes.
	CallLimits *ratelimit.Service
	// MaxDocumentBytes bounds a submitted API document.
	MaxDocumentBytes int
	// Version is the engine's version, shown in /openapi.json.
	Version string
	// Served is the edge's table of fixed routes (server.Server.Routes),
	// which /openapi.json describes; nil: they are left out.
	Served func() []server.Route
	// Metrics are served at /metrics to callers holding CanGetMetrics;
	// nil serves no /metrics (metrics off, or on a listener of their own).
	Metrics *metrics.Set

	// description is /openapi.json, kept until what is served changes.
	description apidoc.Cache
	// jwks is /.well-known/jwks.json.
	jwks jwkSet
}

// Routes are every management, self-service and token route, for
// server.New, which serves each through the pipeline's stages.
func Routes(a *API) []server.Route {
	if a.Cases != nil {
		a.Cases.Changes.Subscribe(a.description.Changed)
	}
	var list []server.Route
	root := routes{list: &list}
	a.registerLogins(root)
	root.loggedIn(fiber.MethodGet, "/openapi.json", a.openAPI)
	a.registerMy(root.under("/my"))
	v1 := root.under("/admin/v1")
	a.registerEndpoints(v1)
	a.registerEntities(v1)
	a.registerMappings(v1)
	a.registerConnectors(v1)
	a.registerUsers(v1)
	a.registerConsumers(v1)
	a.registerBanks(v1)
	a.registerRoles(v1)
	a.registerAudit(v1)
	a.registerConsents(v1)
	a.registerConsentProfiles(v1)
	a.registerWebhooks(v1)
	a.registerDeliveries(v1)
	a.registerMetrics(root)
	a.registerCallLimits(v1)
	return list
}

// routes collects routes under a path prefix.
type routes struct {
	prefix string
	list   *[]server.Route
	// body is the JSON body of the routes added through this collector
	// (see taking); its zero value: they take none.
	body body
}

// under is the collector of the routes under r's prefix and then prefix.
func (r routes) under(prefix string) routes { return routes{prefix: r.prefix + prefix, list: r.list} }

// taking is r adding routes whose body the pipeline's Decode stage reads
// as b says (bodyOf), after the policies and before the handler.
func (r routes) taking(b body) routes {
	r.body = b
	return r
}

func (r routes) add(route server.Route) {
	route.Path = r.prefix + route.Path
	route.Decode, route.Doc.Body = r.body.decode, r.body.typ
	*r.list = append(*r.list, route)
}

// public adds a route anyone may call (the token routes).
func (r routes) public(method, path string, handle fiber.Handler) {
	r.add(server.Route{Method: method, Path: path, Public: true, Handle: handle})
}

// loggedIn adds a route any authenticated caller may call; its handler
// checks anything more itself.
func (r routes) loggedIn(method, path string, handle fiber.Handler) {
	r.add(server.Route{Method: method, Path: path, Handle: handle})
}

// system adds a route for callers holding any one of roles system wide.
func (r routes) system(method, path string, handle fiber.Handler, roles ...string) {
	r.add(server.Route{Method: method, Path: path, Roles: roles, Handle: handle})
}

// atBank adds a route for callers holding any one of roles at the path's
// bank (system roles count anywhere); the bank must exist.
func (r routes) atBank(method, path string, handle fiber.Handler, roles ...string) {
	r.add(server.Route{Method: method, Path: path, Roles: roles, AtBank: true, Handle: handle})
}

// openAPI answers the engine's own OpenAPI 3.1 description: the banking
// core, the fixed routes (this API among them), every entity's record API
// and every live dynamic endpoint operation.
func (a *API) openAPI(c *fiber.Ctx) error {
	body, err := a.description.JSON(apidoc.Sources{Builtin: []apidoc.Describer{banking.OpenAPI},
		Routes: a.describedRoutes, Problem: problemType, Entities: a.Entities, Endpoints: a.Endpoints, Version: a.Version})
	if err != nil {
		return engine.Internal(err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// principal is the authenticated caller of the request (nil on a public
// route).
func principal(c *fiber.Ctx) *identity.Principal { return server.CallOf(c).Principal }

// actor is who makes a change, for authorisation and the audit log.
func actor(c *fiber.Ctx) audit.Actor {
	p := principal(c)
	return audit.Actor{UserID: p.UserID, ConsumerID: p.ConsumerID,
		CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID)),
		Address:       server.Credentials(c).ClientAddr()}
}

// body is how a route reads its JSON body: its Decode stage, and the Go
// type that reads, which the route's description shows.
type body struct {
	decode func(raw []byte) (any, error)
	typ    reflect.Type
}

// bodyOf is the body of a route whose body is a T: the JSON body read
// into a new T by the pipeline's one body policy (server.DecodeJSON):
// decoded strictly, and a member T has no field for is a 400 naming it.
// The handler reads it with decoded.
func bodyOf[T any]() body { return body{decode: server.JSONBody[T](), typ: reflect.TypeFor[T]()} }

// decoded is the body the Decode stage of the route answering c read, a T
// by bodyOf[T].
func decoded[T any](c *fiber.Ctx) *T { return server.CallOf(c).Body.(*T) }

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
