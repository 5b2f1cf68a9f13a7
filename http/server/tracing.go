package server

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/tracecarrier"
)

// requestContext is the context a request's pipeline passes on
// (c.UserContext): its correlation id, for log lines
// (tracing.CorrelationKey), over the background. It lives in the pooled
// requestState, so no request allocates for it; like the fiber.Ctx it is
// valid only while the request is served.
type requestContext struct {
	context.Context
	cid string
}

// Value implements context.Context.
func (r *requestContext) Value(key any) any {
	if _, ok := key.(tracing.CorrelationKey); ok {
		return r.cid
	}
	return r.Context.Value(key)
}

// beginContext puts the request's context on c: st's correlation id and,
// when tracing is on, the request's span (the child of the caller's when
// the request has a traceparent), kept in st for endTrace.
func (s *Server) beginContext(c *fiber.Ctx, st *requestState) {
	st.ctx = requestContext{Context: context.Background(), cid: st.cid}
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
