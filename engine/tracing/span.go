package tracing

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
)

// none is the span of a context without one: it does nothing.
var none = trace.SpanFromContext(context.Background())

// Start starts a span named name, of kind, as a child of the span in ctx
// when that one records, and returns the context carrying it. Otherwise
// it returns ctx itself and a span that does nothing, at no cost: callers
// set attributes only when the span records (span.IsRecording), so that
// nothing is built for a span that is dropped.
func Start(ctx context.Context, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, none
	}
	return tracerOf(parent.TracerProvider()).Start(ctx, name, trace.WithSpanKind(kind))
}

// StartRoot is Start for work that may have no request (an event
// delivery): without a recording span in ctx it starts a new trace with
// tracer, unless tracer is nil.
func StartRoot(ctx context.Context, tracer trace.Tracer, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	if tracer == nil || trace.SpanFromContext(ctx).IsRecording() {
		return Start(ctx, name, kind)
	}
	return tracer.Start(ctx, name, trace.WithSpanKind(kind))
}

// End ends span, marked failed when err is not nil, with its code when it
// is an engine.Error. The error's message is not recorded: it may quote a caller's
// input.
func End(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		code := ""
		if e := (*engine.Error)(nil); errors.As(err, &e) {
			code = e.Code
			span.SetAttributes(ErrorCode.String(code))
		}
		span.SetStatus(codes.Error, code)
	}
	span.End()
}

// cachedTracer is the engine's tracer of one provider.
type cachedTracer struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
}

// lastTracer keeps the tracer of the provider last asked for: a process
// has one provider, and asking the SDK's for its tracer takes a lock.
var lastTracer atomic.Pointer[cachedTracer]

// tracerOf is the engine's tracer of provider p.
func tracerOf(p trace.TracerProvider) trace.Tracer {
	if c := lastTracer.Load(); c != nil && c.provider == p {
		return c.tracer
	}
	t := p.Tracer(ScopeName)
	lastTracer.Store(&cachedTracer{provider: p, tracer: t})
	return t
}
