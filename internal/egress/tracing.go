package egress

import (
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine/tracing"
)

// trace starts the client span of a delivery, the child of the call that
// makes it or else a trace of its own (Options.Tracer), and returns req
// carrying it, with the trace context (traceparent, tracestate) in a copy
// of its header, so that the receiver's spans join the trace.
func (c *Client) trace(req *http.Request) (*http.Request, trace.Span) {
	ctx, span := tracing.StartRoot(req.Context(), c.tracer, http.MethodPost, trace.SpanKindClient)
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return req, span
	}
	if span.IsRecording() {
		span.SetAttributes(tracing.HTTPMethod.String(http.MethodPost), tracing.ServerAddress.String(req.URL.Hostname()))
	}
	req = req.WithContext(ctx)
	req.Header = req.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	tracing.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return req, span
}
