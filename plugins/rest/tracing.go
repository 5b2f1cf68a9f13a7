package rest

import (
	"context"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"

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
