package server

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/tracing"
)

// Route is a route of the edge outside the dynamic router: health, tokens,
// the management API, entity records. New serves each through the same
// stages, in the same order, as a dynamic operation (engine/pipeline.go):
//
//	match → authenticate → guard → policies → decode → handle → filters → render
//
// Match is fiber's router over the fixed paths; handle is the invoke stage
// and renders its answer on the request, which the response filters then
// see as an engine.Reply.
type Route struct {
	// Method and Path say what the route answers; Path is a fiber
	// template ("/admin/v1/users/:user_id").
	Method, Path string
	// Public routes skip authentication: the call has no principal, the
	// guard passes, the policies still run.
	Public bool
	// Roles are the roles the caller needs one of; none: any authenticated
	// caller. They count system wide, or with AtBank at the bank the
	// path's bank_id names, which must exist (system roles count anywhere).
	Roles  []string
	AtBank bool
	// Admit is the route's own part of the guard, run after Roles: a check
	// that depends on the request (an entity's roles). Nil: none.
	Admit func(c *fiber.Ctx, call *engine.Call) error
	// Decode reads the request body into the call's Body once the
	// policies passed (entity records with DecodeObject, the management
	// API's JSON bodies with DecodeJSON); an error is the answer. Nil: the
	// route takes no body, or one that is not a JSON value of a fixed
	// shape, which its handler reads itself, still after the policies: an
	// API document posted as YAML or JSON with its content type, an entity
	// definition on creation, a form-encoded token request.
	Decode func(raw []byte) (any, error)
	// Handle is the invoke stage: it answers on c. CallOf(c) is the call.
	Handle fiber.Handler
	// Doc describes the route in the engine's OpenAPI description. It is
	// read only when that description is built, never while a request is
	// served.
	Doc RouteDoc
}

// RouteDoc describes a Route for the engine's OpenAPI description.
type RouteDoc struct {
	// Summary is a short text saying what the route does; empty: one is
	// made from its method and path.
	Summary string
	// Body is the Go type the route's Decode stage reads the JSON body
	// into (JSONBody's T); nil: the route takes no body, or one of no
	// fixed shape, or does not say.
	Body reflect.Type
	// Page marks a page for browsers (the developer portal's): not an
	// operation of the API, so not described.
	Page bool
}

// Template is the route's path as a route template:
// "/admin/v1/users/{user_id}".
func (r Route) Template() string { return template(r.Path) }

// Routes are the fixed routes the server serves, health first, in the
// order they were given to New: the table the management API's
// description is made from.
func (s *Server) Routes() []Route { return s.routes }

// fixedRoute is a Route ready to serve.
type fixedRoute struct {
	Route
	rule      guard.Rule
	operation string // names the route to policies: "GET /admin/v1/users/{user_id}"
	template  string // the path as a template: "/admin/v1/users/{user_id}"
	bankParam bool   // the path has a bank_id
	metrics   *metrics.Route
}

// callKey is where the call of a fixed route is kept on the request.
type callKey struct{}

// CallOf is the call of the fixed route answering c: its operation, bank,
// caller (nil on a public route), path values, HTTP request and decoded
// body. It is valid only while the request is served.
func CallOf(c *fiber.Ctx) *engine.Call {
	call, _ := c.Locals(callKey{}).(*engine.Call)
	return call
}

// mount registers routes on the application, each answered by serveFixed;
// a GET route answers HEAD too, as fiber's Get does.
func (s *Server) mount(routes []Route) {
	for _, r := range routes {
		tpl := template(r.Path)
		fr := &fixedRoute{Route: r, rule: guard.Rule{Roles: r.Roles}, operation: r.Method + " " + tpl, template: tpl,
			bankParam: slices.Contains(strings.Split(r.Path, "/"), ":bank_id")}
		fr.metrics = s.metrics.Route(fr.operation)
		serve := func(c *fiber.Ctx) error { return s.serveFixed(c, fr) }
		if r.Method == fiber.MethodGet {
			s.app.Head(r.Path, serve)
		}
		s.app.Add(r.Method, r.Path, serve)
	}
}

// serveFixed answers the request at c through the pipeline's stages for
// route r, in the request's state (stateOf).
func (s *Server) serveFixed(c *fiber.Ctx, r *fixedRoute) error {
	return s.serveFixedWith(c, r, stateOf(c))
}

// serveFixedWith runs the stages after match for route r, in st.
func (s *Server) serveFixedWith(c *fiber.Ctx, r *fixedRoute, st *requestState) error {
	ctx := c.UserContext()
	if s.tracer != nil {
		tracing.NameRequest(ctx, c.Method(), r.template, "")
	}
	st.route = r.metrics
	call := &st.call
	*call = engine.Call{OperationID: r.operation, Path: (*fiberPath)(c), HTTP: HTTPRequest(c)}
	if r.bankParam {
		call.BankID = strings.Clone(c.Params("bank_id"))
	}
	guarded, span := tracing.Start(ctx, tracing.SpanGuard, trace.SpanKindInternal)
	err := s.guardFixed(guarded, c, r, st)
	if tracing.End(span, err); err != nil {
		return err
	}
	if r.Decode != nil {
		_, span = tracing.Start(ctx, tracing.SpanValidate, trace.SpanKindInternal)
		body, err := r.Decode(c.Request().Body())
		if tracing.End(span, err); err != nil {
			return err
		}
		call.Body = body
	}
	if err := r.Handle(c); err != nil {
		return err
	}
	return s.filterFixed(ctx, c, call)
}

// guardFixed authenticates the caller of a fixed route (none for a
// public one), then runs its guard and the server's policies.
func (s *Server) guardFixed(ctx context.Context, c *fiber.Ctx, r *fixedRoute, st *requestState) error {
	call := &st.call
	if !r.Public {
		p, err := s.gate.Authenticate(ctx, (*requestCredentials)(st))
		if err != nil {
			return err
		}
		call.Principal = p
	}
	c.Locals(callKey{}, call)
	if err := s.admitFixed(ctx, c, r, call); err != nil {
		return err
	}
	return s.hooks.Allow(ctx, call)
}

// admitFixed is the guard stage of a fixed route: its roles, then its own
// check.
func (s *Server) admitFixed(ctx context.Context, c *fiber.Ctx, r *fixedRoute, call *engine.Call) error {
	bank := ""
	if r.AtBank {
		bank = call.BankID
	}
	if err := Guard(ctx, s.gate, call.Principal, &r.rule, bank); err != nil {
		return err
	}
	if r.Admit != nil {
		return r.Admit(c, call)
	}
	return nil
}

// filterFixed runs the server's response filters on the answer a fixed
// route's handler rendered, and renders the reply they return in its
// place. Without filters it costs nothing.
func (s *Server) filterFixed(ctx context.Context, c *fiber.Ctx, call *engine.Call) error {
	if len(s.hooks.Filters) == 0 {
		return nil
	}
	// Copied only now, as for dynamic operations: without filters no one
	// reads them.
	call.Prefer, call.CorrelationID = string(c.Request().Header.Peek("Prefer")), correlationID(c)
	resp := c.Response()
	answered := &engine.Reply{Status: resp.StatusCode(), ContentType: string(resp.Header.ContentType()), Body: resp.Body()}
	reply, err := s.hooks.Filter(ctx, call, answered)
	if err != nil {
		s.discardAnswer(c)
		return err
	}
	if reply != answered {
		// Copied before the handler's body is released: the reply may
		// share it.
		out := *reply
		out.Body = slices.Clone(reply.Body)
		s.discardAnswer(c)
		return render(c, &out)
	}
	return nil
}

// discardAnswer drops what a handler rendered (status, headers, body),
// keeping the correlation id.
func (s *Server) discardAnswer(c *fiber.Ctx) {
	cid := correlationID(c)
	c.Response().Reset()
	c.Set(HeaderCorrelationID, cid)
}

// fiberPath shows a fixed route's path values to hooks (engine.PathValues),
// in template order.
type fiberPath fiber.Ctx

func (p *fiberPath) Len() int { return len((*fiber.Ctx)(p).Route().Params) }

func (p *fiberPath) Value(i int) string {
	c := (*fiber.Ctx)(p)
	names := c.Route().Params
	if i < 0 || i >= len(names) {
		return ""
	}
	return c.Params(names[i])
}
