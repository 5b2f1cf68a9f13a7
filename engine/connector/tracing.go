package connector

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine/tracing"
)

// traceCall starts the span of a call of method through inv, when the
// call is traced; connector names inv's connector when inv does not say
// (a built-in method's default, a dynamic operation's own host).
func traceCall(ctx context.Context, inv Invoker, method, connector string) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, tracing.SpanConnector, trace.SpanKindInternal)
	if span.IsRecording() {
		switch v := inv.(type) {
		case checked:
			connector = v.connector
		case named:
			connector = v.connector
		case operationVia:
			connector = v.name
		}
		span.SetAttributes(tracing.Connector.String(connector), tracing.Method.String(method))
	}
	return ctx, span
}

// named is an invoker a routing prepared through a connector whose
// answers are trusted (mapped, obp_mock), with the connector's name, for
// traces.
type named struct {
	inv       Invoker
	connector string
}

// ReadsArgs implements ArgsReader for the invoker named wraps.
func (n named) ReadsArgs() bool { return readsArgs(n.inv) }

// Invoke implements Invoker.
func (n named) Invoke(ctx context.Context, req *Request) (*Result, error) {
	return n.inv.Invoke(ctx, req)
}
