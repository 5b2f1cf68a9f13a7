// Package tracing is the one place of the engine's OpenTelemetry traces
// and of what its log lines learn from a request: the tracer, the span
// names and attribute keys, the W3C trace context propagator, the set-up
// from the standard OTEL_* environment variables, a store that traces its
// transactions, and a slog.Handler that adds the request's correlation
// id, trace id and span id to every line.
//
// Spans are children of the span in the context they are started from
// (Start): when that context has no recording span, which is always the
// case with tracing off, Start returns the context as it is and a span
// that does nothing, without allocating. Only the HTTP edge starts a
// request's span (StartRequest) and only outbound calls that have no
// request (event deliveries) start a trace of their own (StartRoot).
//
// Span attributes never carry ids of customers, tokens, request paths or
// bodies: route templates, operation ids, connector and method names,
// back end host names, status codes and the correlation id only.
package tracing
