package connector

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine/tracing"
)

// traceCall starts the span of a call of method through inv, when the
// call is traced; connector names inv's connector when inv does not say
// (the mapped connector and obp_mock, whose answers are not checked, and
// a dynamic operation's own host).
func traceCall(ctx context.Context, inv Invoker, method, connector string) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, tracing.SpanConnector, trace.SpanKindInternal)
	if span.IsRecording() {
		switch v := inv.(type) {
		case checked:
			connector = v.connector
		case operationVia:
			connector = v.name
		}
		span.SetAttributes(tracing.Connector.String(connector), tracing.Method.String(method))
	}
	return ctx, span
}
