package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/tracecarrier"
)

// requestContext is the context a request's pipeline passes on
// (c.UserContext): a background context (no deadline, never cancelled)
// that answers the request's correlation id, for log lines
// (tracing.CorrelationKey). It lives in the pooled requestState, so no
// request allocates for it; like the fiber.Ctx it is valid only while the
// request is served. Its methods other than Value read nothing, so that
// a goroutine still holding it when the state is reused (a watchdog
// checking Err) sees a context that is never done.
type requestContext struct {
	cid string
}

// Deadline implements context.Context: none.
func (*requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context: never closed.
func (*requestContext) Done() <-chan struct{} { return nil }

// Err implements context.Context: never done.
func (*requestContext) Err() error { return nil }

// Value implements context.Context.
func (r *requestContext) Value(key any) any {
	if _, ok := key.(tracing.CorrelationKey); ok {
		return r.cid
	}
	return nil
}

// beginContext puts the request's context on c: st's correlation id and,
// when tracing is on, the request's span (the child of the caller's when
// the request has a traceparent), kept in st for endTrace.
func (s *Server) beginContext(c *fiber.Ctx, st *requestState) {
	st.ctx = requestContext{cid: st.cid}
	if s.tracer == nil {
		c.SetUserContext(&st.ctx)
		return
	}
	ctx, span := tracing.StartRequest(&st.ctx, s.tracer, tracecarrier.Of(&c.Request().Header), c.Method())
	st.span = span
	c.SetUserContext(ctx)
}

// endTrace ends the request's span, if any, with the answer's status.
func endTrace(c *fiber.Ctx, st *requestState) {
	if st.span != nil {
		tracing.EndRequest(st.span, c.Response().StatusCode(), st.cid)
	}
}
