package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/router"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/http/netguard"
)

// Config sizes the HTTP edge.
type Config struct {
	// MaxBodyBytes bounds a request body to a dynamic operation.
	MaxBodyBytes int
	// MaxDocumentBytes bounds a submitted API document.
	MaxDocumentBytes int
	Logger           *slog.Logger
	// Gate authenticates callers and checks every dynamic operation's rule.
	Gate *guard.Gate
	// Edge bounds connections and the pace of requests.
	Edge EdgeConfig
	// PatternBudget bounds the time all backtracking pattern matches of one
	// request's validation take together (0: the default of
	// jsonschemas.DefaultPatternBudget).
	PatternBudget time.Duration
	// Hooks are the policies and response filters every request passes:
	// for a dynamic operation before (policies) and after (filters) those
	// of its route, for a fixed Route around its handler.
	Hooks engine.Hooks
	// Readiness is what /readyz checks besides the snapshot being loaded
	// and the server not shutting down (the store answering, say); nil:
	// nothing more.
	Readiness *Readiness
	// Tracer starts each request's span (engine/tracing); nil: requests
	// are not traced, at no cost.
	Tracer trace.Tracer
	// Metrics records every request by route, method and status; nil
	// records nothing.
	Metrics *metrics.Set
}

// Defaults for Config's zero values.
const (
	DefaultMaxBodyBytes     = 1 << 20  // 1 MiB
	DefaultMaxDocumentBytes = 16 << 20 // 16 MiB: the largest bank documents are ~1 MiB
)

// Server is the fiber application serving the management API and every
// dynamic operation.
type Server struct {
	app       *fiber.App
	endpoints *endpoints.Manager
	log       *slog.Logger
	ids       *correlationIDs
	gate      *guard.Gate
	maxBody   int
	bodyLimit int // the largest body read from the wire
	edge      EdgeConfig
	fixed     *router.Table[struct{}] // the fixed routes, for 405 answers
	states    sync.Pool
	// patternBudget bounds each request's backtracking pattern matches.
	patternBudget time.Duration
	hooks         engine.Hooks
	// routes are the fixed routes served, health first (Routes).
	routes []Route
	// readiness answers /readyz; draining is set once Shutdown began.
	readiness *Readiness
	draining  atomic.Bool
	tracer    trace.Tracer
	// metrics records requests; unmatched is the route of those no route
	// answered. Both nil when metrics are off.
	metrics   *metrics.Set
	unmatched *metrics.Route
}

// New builds the application: health, then routes (tokens, the
// management API, entity records), each through the pipeline's stages
// (Route), then the catch-all that serves dynamic operations.
func New(cfg Config, mgr *endpoints.Manager, routes []Route) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{endpoints: mgr, log: cfg.Logger, ids: newCorrelationIDs(), gate: cfg.Gate, maxBody: cfg.MaxBodyBytes,
		bodyLimit: max(cfg.MaxBodyBytes, cfg.MaxDocumentBytes), edge: cfg.Edge.withDefaults()}
	s.patternBudget, s.hooks, s.readiness, s.tracer = cfg.PatternBudget, cfg.Hooks, cfg.Readiness, cfg.Tracer
	s.metrics, s.unmatched = cfg.Metrics, cfg.Metrics.UnmatchedRoute()
	s.states.New = func() any { return new(requestState) }
	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		BodyLimit:             s.bodyLimit,
		// Errors of the chain are rendered by front; this one renders what
		// fasthttp refuses before any handler runs.
		ErrorHandler: s.errorHandler,
		// Routes are matched by our own table, so fiber's router only sees
		// the fixed management routes.
		StrictRouting: true,
		CaseSensitive: true,
		// The header, idle and write timeouts are kept by the listener
		// (Serve), at no cost per request; fasthttp's would set three
		// runtime deadlines per request.
		ReadBufferSize: s.edge.MaxHeaderBytes + requestLineAllowance,
	})
	fast := s.app.Server()
	fast.HeaderReceived = s.bodyDeadline
	// fasthttp's parse errors would otherwise quote the request, credentials
	// and all, back to the client.
	fast.SecureErrorLogMessage = true
	s.app.Use(s.front)
	s.routes = append([]Route{
		{Method: fiber.MethodGet, Path: "/healthz", Public: true, Handle: func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) },
			Doc: RouteDoc{Summary: "Liveness: the process answers"}},
		{Method: fiber.MethodGet, Path: "/readyz", Public: true, Handle: s.ready,
			Doc: RouteDoc{Summary: "Readiness: the store answers, the API documents are loaded and the server is not shutting down"}},
	}, routes...)
	s.mount(s.routes)
	s.fixed = fixedRoutes(s.app)
	// front sends dynamic operations on itself (dispatch); this catches a
	// request fiber's router turns down although the fixed table took it.
	s.app.Use(func(c *fiber.Ctx) error { return s.serveDynamicWith(c, stateOf(c), false) })
	return s
}

// App returns the fiber application, for tests (app.Test) and listening.
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown, within the edge's connection caps.
// Failures to accept (out of descriptors) are retried, never returned.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(netguard.Listen(ln, netguard.Config{MaxConns: s.edge.MaxConns,
		MaxConnsPerIP: s.edge.MaxConnsPerIP, Logger: s.log,
		Forwarding: netguard.Forwarding{Header: s.edge.ClientIPHeader, Trusted: s.edge.TrustedProxies},
		Timeouts:   netguard.Timeouts{Header: s.edge.HeaderTimeout, Idle: s.edge.IdleTimeout, Write: s.edge.WriteTimeout}}))
}

// Shutdown turns /readyz to 503, stops accepting connections and waits
// for requests in flight, until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	return s.app.ShutdownWithContext(ctx)
}

// requestState is the per-request scratch space, pooled so serving a
// request allocates nothing for it; front takes it and gives it back.
type requestState struct {
	c      *fiber.Ctx
	cid    string      // the correlation id
	header headerLines // the header as the edge read it (scanRequest)
	params router.Params
	call   engine.Call
	ctx    requestContext // the context the pipeline passes on
	span   trace.Span     // the request's span; nil when not traced
	// route records the request in the metrics: the route that answered
	// it, nil until one does (or when metrics are off).
	route *metrics.Route
}

// stateKey is where dispatch keeps a fixed route's requestState on the
// request.
type stateKey struct{}

// stateOf is the requestState front keeps for the request at c (dispatch),
// or a fresh one for a request that did not pass front.
func stateOf(c *fiber.Ctx) *requestState {
	if st, ok := c.Locals(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{c: c, cid: correlationID(c), header: scanRequest(&c.Request().Header)}
}

// release empties st and gives it back to the pool.
func (s *Server) release(st *requestState) {
	st.c, st.cid, st.header = nil, "", headerLines{}
	st.params.Reset()
	st.call = engine.Call{}
	st.ctx, st.span, st.route = requestContext{}, nil, nil
	s.states.Put(st)
}

// serveDynamicWith answers a request no fixed route takes, at c, from the
// dynamic operations of the current snapshot, through the pipeline, in st:
// match → authenticate → guard → policies → validate → invoke → filters →
// render (engine/pipeline.go). A refusal by the guard or a policy while the
// snapshot changed is retried once on the new one (retried).
func (s *Server) serveDynamicWith(c *fiber.Ctx, st *requestState, retried bool) error {
	st.c = c
	snap := s.endpoints.Snapshot()
	route, err := s.match(c, snap, &st.params)
	if err != nil {
		return err
	}
	st.route = route.Metrics
	if route.InteractionHeader != "" {
		playInteraction(c, route.InteractionHeader)
	}
	if route.Errors != nil {
		if err := s.serveRoute(c, st, snap, route, retried); err != nil {
			return s.renderRouteError(c, route.Errors, err)
		}
		return nil
	}
	return s.serveRoute(c, st, snap, route, retried)
}

// serveRoute runs the pipeline's steps after match for route, of snap.
func (s *Server) serveRoute(c *fiber.Ctx, st *requestState, snap *endpoints.Snapshot, route *endpoints.Route, retried bool) error {
	ctx := c.UserContext()
	if s.tracer != nil {
		tracing.NameRequest(ctx, c.Method(), route.Endpoint.ServedPath(route.Operation), route.Operation.ID)
	}
	guarded, span := tracing.Start(ctx, tracing.SpanGuard, trace.SpanKindInternal)
	principal, err := s.authenticate(guarded, route, st)
	if err == nil {
		st.call = engine.Call{OperationID: route.Operation.ID, BankID: route.BankID(&st.params), Principal: principal,
			Path: &st.params, HTTP: HTTPRequest(c)}
		err = s.admit(guarded, route, &st.call)
	}
	tracing.End(span, err)
	if err != nil {
		if s.endpoints.Snapshot() != snap && !retried {
			// The document was replaced or deleted, and its roles with it,
			// while this request was being checked: answer as the current
			// snapshot does (a 404 for a deleted route, not a 403).
			st.params.Reset()
			return s.serveDynamicWith(c, st, true)
		}
		return err
	}
	if len(route.DateTimeQuery) > 0 {
		normaliseDateTimes(c, route.DateTimeQuery, route.DateTimes)
	}
	if route.Window != nil && st.call.Consent != nil {
		clampWindow(c, route.Window, st.call.Consent)
	}
	_, span = tracing.Start(ctx, tracing.SpanValidate, trace.SpanKindInternal)
	st.call.Body, err = s.validate(route, st)
	if tracing.End(span, err); err != nil {
		return err
	}
	// Copied only now: a request refused earlier pays nothing for it.
	st.call.Prefer = strings.Clone(st.header.fields[fieldPrefer].get(&c.Request().Header, "Prefer"))
	st.call.CorrelationID = st.cid
	reply, err := route.Invoker.Invoke(ctx, &st.call)
	if err != nil {
		return err
	}
	if reply, err = s.filter(ctx, route, &st.call, reply); err != nil {
		return err
	}
	return render(c, reply)
}

// match finds the operation of the snapshot served at c's method and path,
// filling params; no match is a 405 naming the allowed methods, or a 404.
func (s *Server) match(c *fiber.Ctx, snap *endpoints.Snapshot, params *router.Params) (*endpoints.Route, error) {
	route, ok, allow := snap.Routes.Match(c.Method(), c.Path(), params)
	if ok {
		return route, nil
	}
	allow = s.fixedAllow(c.Method(), c.Path(), allow)
	if allow != "" {
		c.Set(fiber.HeaderAllow, allow)
		return nil, engine.Errorf(http.StatusMethodNotAllowed, engine.CodeMethodNotAllowed,
			"%s is not allowed on this path; allowed: %s", c.Method(), allow)
	}
	return nil, engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no operation is served at this path")
}

// authenticate returns the caller of a route that needs one (nil for a
// public route), or a 401.
func (s *Server) authenticate(ctx context.Context, route *endpoints.Route, st *requestState) (*engine.Principal, error) {
	if route.Rule.Public {
		return nil, nil
	}
	return s.gate.Authenticate(ctx, (*requestCredentials)(st))
}

// admit runs the guard (the route's rule at its bank), then the server's
// policies, then the route's own.
func (s *Server) admit(ctx context.Context, route *endpoints.Route, call *engine.Call) error {
	if err := Guard(ctx, s.gate, call.Principal, &route.Rule, call.BankID); err != nil {
		return err
	}
	if err := s.hooks.Allow(ctx, call); err != nil {
		return err
	}
	return route.Hooks.Allow(ctx, call)
}

// validate bounds the body and checks the request against the operation,
// returning the decoded body.
func (s *Server) validate(route *endpoints.Route, st *requestState) (any, error) {
	if len(st.c.Request().Body()) > s.maxBody {
		return nil, engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodePayloadTooLarge,
			"the request body is larger than %d bytes", s.maxBody)
	}
	return route.Operation.ValidateWithin((*fiberRequest)(st), s.patternBudget)
}

// filter runs the route's response filters, then the server's, on reply.
func (s *Server) filter(ctx context.Context, route *endpoints.Route, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
	reply, err := route.Hooks.Filter(ctx, call, reply)
	if err != nil {
		return nil, err
	}
	return s.hooks.Filter(ctx, call, reply)
}

// render writes reply as the answer.
func render(c *fiber.Ctx, reply *engine.Reply) error {
	c.Status(reply.Status)
	if reply.RetryAfter > 0 {
		setRetryAfter(c, reply.RetryAfter)
	}
	for k, v := range reply.Headers {
		c.Set(k, v)
	}
	if reply.ContentType != "" {
		c.Response().Header.SetContentType(reply.ContentType)
	}
	if reply.Body != nil {
		return c.Send(reply.Body)
	}
	return nil
}
