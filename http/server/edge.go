package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/router"
	"github.com/dynapi/dynapi/http/netguard"
)

// EdgeConfig bounds what a client can hold at the HTTP edge: connections,
// the time it takes to send a request, idle time, header size. Zero values
// take the defaults.
type EdgeConfig struct {
	// MaxConns caps open connections in total (default
	// netguard.DefaultMaxConns: three quarters of the descriptor limit, at
	// most 10,000); MaxConnsPerIP per client address (default 256). A
	// connection over a cap is closed as soon as it is accepted.
	MaxConns      int
	MaxConnsPerIP int
	// HeaderTimeout is how long the request line and header may take to
	// arrive (default 5s).
	HeaderTimeout time.Duration
	// MinBodyRate is the average rate, in bytes per second, a request body
	// must arrive at: its deadline is HeaderTimeout plus its length at this
	// rate (default 8 KiB/s).
	MinBodyRate int
	// IdleTimeout closes a keep-alive connection waiting this long for its
	// next request (default 60s).
	IdleTimeout time.Duration
	// WriteTimeout bounds writing one response, so a client that stops
	// reading cannot hold it (default 60s).
	WriteTimeout time.Duration
	// MaxHeaderBytes bounds the header fields of a request (default 16
	// KiB); larger ones are a 431. The request line may add up to 4 KiB.
	MaxHeaderBytes int
	// TrustedProxies are the peers whose ClientIPHeader names the client
	// (default none); ClientIPHeader defaults to X-Forwarded-For.
	TrustedProxies []netip.Prefix
	ClientIPHeader string
}

// Defaults for EdgeConfig's zero values.
const (
	DefaultHeaderTimeout  = 5 * time.Second
	DefaultMinBodyRate    = 8 << 10 // bytes per second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 60 * time.Second
	DefaultMaxHeaderBytes = 16 << 10
	// requestLineAllowance is read buffer room for the request line
	// beside MaxHeaderBytes of header fields.
	requestLineAllowance = 4 << 10
)

// withDefaults fills zero values.
func (e EdgeConfig) withDefaults() EdgeConfig {
	if e.HeaderTimeout <= 0 {
		e.HeaderTimeout = DefaultHeaderTimeout
	}
	if e.MinBodyRate <= 0 {
		e.MinBodyRate = DefaultMinBodyRate
	}
	if e.IdleTimeout <= 0 {
		e.IdleTimeout = DefaultIdleTimeout
	}
	if e.WriteTimeout <= 0 {
		e.WriteTimeout = DefaultWriteTimeout
	}
	if e.MaxHeaderBytes <= 0 {
		e.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return e
}

// bodyDeadline gives each request's body, once its header is in, the time
// its length takes at the minimum rate on top of the header timeout: a
// read deadline on the connection, which endBodyDeadline clears once the
// body is in. A chunked body, whose length is unknown, gets the time of the
// largest body accepted. A request without a body keeps the header
// timeout, which costs nothing. fasthttp calls it for every request
// (Server.HeaderReceived).
func (s *Server) bodyDeadline(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	n := h.ContentLength()
	switch {
	case n == -1 || n > s.bodyLimit:
		n = s.bodyLimit
	case n <= 0:
		return fasthttp.RequestConfig{}
	}
	return fasthttp.RequestConfig{ReadTimeout: s.edge.HeaderTimeout +
		time.Duration(int64(n)*int64(time.Second)/int64(s.edge.MinBodyRate))}
}

// endBodyDeadline clears the read deadline bodyDeadline set, once the
// body is read, so the connection's own timeouts hold again (the idle one
// from its answer on).
func endBodyDeadline(c *fiber.Ctx) {
	if n := c.Request().Header.ContentLength(); n == -1 || n > 0 {
		if conn, ok := c.Context().Conn().(*netguard.Conn); ok {
			_ = conn.SetReadDeadline(time.Time{})
		}
	}
}

// front is the first handler of every request: it reads the header once
// (scanHeader) into the request's pooled state, gives the request its
// correlation id, refuses ambiguous requests, dispatches the request and
// renders its error. A panic anywhere below becomes a logged 500. The
// state goes back to the pool only when the request returns: after a
// panic it may still be referenced, so it is left to the garbage
// collector.
func (s *Server) front(c *fiber.Ctx) (err error) {
	st := s.states.Get().(*requestState)
	st.c, st.header = c, scanRequest(&c.Request().Header)
	st.cid = s.ids.set(c, st.header.fields[fieldCorrelationID])
	s.beginContext(c, st)
	endBodyDeadline(c)
	start := s.metrics.Start(c.Context().Time())
	defer func() {
		if v := recover(); v != nil {
			err = s.recovered(c, v)
			s.observe(c, st, start)
			endTrace(c, st)
			return
		}
		s.observe(c, st, start)
		endTrace(c, st)
		s.release(st)
	}()
	if err := s.refuseAmbiguous(c, &st.header); err != nil {
		return s.errorHandler(c, err)
	}
	if err := s.dispatch(c, st); err != nil {
		return s.errorHandler(c, err)
	}
	return nil
}

// dispatch sends a request a fixed route serves on through fiber's router
// (which fills its parameters), with st on the request (stateOf), and every
// other straight to the dynamic operations, without routing it twice.
func (s *Server) dispatch(c *fiber.Ctx, st *requestState) error {
	if _, ok, _ := s.fixed.Match(c.Method(), c.Path(), nil); ok {
		c.Locals(stateKey{}, st)
		return c.Next()
	}
	return s.serveDynamicWith(c, st, false)
}

// observe records the request at c, started at start (metrics.Set.Start),
// in the metrics: under the route that answered it (st.route), else as
// unmatched, with the status of its answer.
func (s *Server) observe(c *fiber.Ctx, st *requestState, start time.Duration) {
	if s.metrics == nil {
		return
	}
	route := st.route
	if route == nil {
		route = s.unmatched
	}
	route.Observe(c.Method(), c.Response().StatusCode(), start)
}

// routeOf names the route that answered c, for logs: a fixed route's
// path, or the template of the operation c matches in the current snapshot.
func (s *Server) routeOf(c *fiber.Ctx) string {
	fixed := c.Route().Path
	if fixed != "/" || s.endpoints == nil {
		return fixed
	}
	var params router.Params
	if route, ok, _ := s.endpoints.Snapshot().Routes.Match(c.Method(), c.Path(), &params); ok {
		return route.Endpoint.ServedPath(route.Operation)
	}
	return fixed
}

// recovered logs a handler's panic with the correlation id, route, client,
// panic value and stack, and answers a 500 that shows none of them. The
// response is started afresh: the handler may have written part of one.
func (s *Server) recovered(c *fiber.Ctx, v any) error {
	cid := correlationID(c)
	s.log.ErrorContext(c.UserContext(), "handler panicked", "correlation_id", cid, "method", c.Method(), "path", c.Path(),
		"route", s.routeOf(c), "client_addr", clientAddr(c), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	c.Response().Reset()
	c.Set(HeaderCorrelationID, cid)
	return writeProblem(c, engine.Internal(nil), cid)
}

// refuseAmbiguous refuses what different HTTP implementations could read
// differently: a path that normalises to another route, a body whose
// length two headers give, two credentials, header fields over the limit;
// and a body in a content coding. lines is the request's header, scanned.
func (s *Server) refuseAmbiguous(c *fiber.Ctx, lines *headerLines) error {
	h := &c.Request().Header
	if len(h.RawHeaders()) > s.edge.MaxHeaderBytes {
		return engine.Errorf(http.StatusRequestHeaderFieldsTooLarge, engine.CodeHeaderTooLarge,
			"the request header fields are larger than %d bytes", s.edge.MaxHeaderBytes)
	}
	hasBody := h.ContentLength() != -2
	if hasBody && lines.ambiguousFraming() {
		c.Context().SetConnectionClose()
		return engine.NewError(http.StatusBadRequest, engine.CodeAmbiguousFraming,
			"the body length is ambiguous: send one Content-Length, or Transfer-Encoding: chunked alone")
	}
	if unsafePath(c.Path()) {
		return engine.NewError(http.StatusBadRequest, engine.CodeInvalidPath,
			`the path holds a "." or ".." segment, or an encoded slash or backslash`)
	}
	if err := guard.OneCredential(lines.credentials); err != nil {
		return err
	}
	if hasBody && lines.contentCoded {
		// Bodies are read as they come, never decompressed, since a few
		// hundred kilobytes of gzip can stand for gigabytes.
		const msg = "content codings are not accepted: send the body uncompressed, without Content-Encoding"
		return engine.NewError(http.StatusUnsupportedMediaType, engine.CodeUnsupportedMediaType, msg,
			engine.Violation{Location: "header", Pointer: "/Content-Encoding", Code: "unsupported", Message: msg})
	}
	return nil
}

// unsafePath reports whether a raw request path holds a dot segment ("."
// or "..", with any dot percent-encoded) or an encoded slash or backslash
// (%2F, %5C) or a backslash: a server or proxy that normalises or decodes
// paths would route it elsewhere than the raw path says. Segments that
// merely contain dots (".well-known", "v1.2") are fine.
func unsafePath(p string) bool {
	if strings.IndexByte(p, '\\') >= 0 {
		return true
	}
	pct := strings.IndexByte(p, '%')
	if pct < 0 && strings.IndexByte(p, '.') < 0 {
		return false
	}
	for i := pct; i >= 0 && i+2 < len(p); {
		if (p[i+1] == '2' && p[i+2]|0x20 == 'f') || (p[i+1] == '5' && p[i+2]|0x20 == 'c') {
			return true
		}
		j := strings.IndexByte(p[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	for start := 0; start < len(p); {
		end := strings.IndexByte(p[start:], '/')
		if end < 0 {
			end = len(p)
		} else {
			end += start
		}
		if dotSegment(p[start:end]) {
			return true
		}
		start = end + 1
	}
	return false
}

// dotSegment reports whether seg is "." or "..", each dot plain or
// percent-encoded.
func dotSegment(seg string) bool {
	if len(seg) == 0 || len(seg) > len("%2e%2e") {
		return false
	}
	dots := 0
	for i := 0; i < len(seg); {
		switch {
		case seg[i] == '.':
			i++
		case i+2 < len(seg) && seg[i] == '%' && seg[i+1] == '2' && (seg[i+2]|0x20) == 'e':
			i += 3
		default:
			return false
		}
		dots++
	}
	return dots <= 2
}
