package tracing

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Propagator reads and writes the W3C trace context (traceparent,
// tracestate): from incoming requests, into outbound ones.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Inject writes the trace context of ctx's span into carrier; it writes
// nothing when ctx has none.
func Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		Propagator.Inject(ctx, carrier)
	}
}

// StartRequest starts the server span of a request with tracer, as the
// child of the caller's span when carrier (the request's header) has a
// valid traceparent. It is named after the method until NameRequest names
// its route.
func StartRequest(ctx context.Context, tracer trace.Tracer, carrier propagation.TextMapCarrier, method string) (context.Context, trace.Span) {
	ctx = Propagator.Extract(ctx, carrier)
	return tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(HTTPMethod.String(method)))
}

// NameRequest names the request span in ctx after the route that serves
// it, "<method> <template>", and sets its route attribute and, for a
// dynamic operation, its operation id ("" for a fixed route).
func NameRequest(ctx context.Context, method, template, operationID string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetName(method + " " + template)
	span.SetAttributes(HTTPRoute.String(template))
	if operationID != "" {
		span.SetAttributes(OperationID.String(operationID))
	}
}

// EndRequest ends a request span with the answer's status and the
// request's correlation id; a 5xx marks it failed.
func EndRequest(span trace.Span, status int, correlationID string) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(HTTPStatusCode.Int(status), CorrelationID.String(correlationID))
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// EndClient ends an outbound HTTP span with the status its peer answered
// (0: none arrived) or the error of the attempt.
func EndClient(span trace.Span, status int, err error) {
	if !span.IsRecording() {
		return
	}
	if status > 0 {
		span.SetAttributes(HTTPStatusCode.Int(status))
	}
	if err == nil && status >= 400 {
		span.SetStatus(codes.Error, "")
	}
	End(span, err)
}
