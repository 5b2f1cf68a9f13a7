package rest

import (
	"context"
	"errors"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/tracecarrier"
)

// traceAttempt starts the client span of one attempt, when the call is
// traced, and writes the trace context (traceparent, tracestate) into the
// request, so that the back end's spans join the caller's trace.
func (inv *invoker) traceAttempt(ctx context.Context, req *fasthttp.Request, out *outgoing) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, out.method, trace.SpanKindClient)
	if span.IsRecording() {
		span.SetAttributes(tracing.HTTPMethod.String(out.method), tracing.ServerAddress.String(inv.url.backend),
			tracing.Method.String(inv.m.Name))
	}
	tracing.Inject(ctx, tracecarrier.Of(&req.Header))
	return ctx, span
}

// answered is the status the back end answered an attempt with, 0 when
// none arrived (the attempt's error is a timeout or an unreachable back
// end): fasthttp reads a missing status as 200.
func answered(resp *fasthttp.Response, err error) int {
	var e *engine.Error
	if errors.As(err, &e) && (e.Code == engine.CodeBackendTimeout || e.Code == engine.CodeBackendUnreachable) {
		return 0
	}
	return resp.StatusCode()
}
