package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Keys of the log attributes LogHandler adds.
const (
	LogCorrelationID = "correlation_id"
	LogTraceID       = "trace_id"
	LogSpanID        = "span_id"
)

// CorrelationKey is the context key of a request's correlation id, a
// string. WithCorrelationID sets it; the HTTP edge answers it from its
// pooled request context instead, so that no request allocates for it.
type CorrelationKey struct{}

// WithCorrelationID returns ctx carrying correlation id id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, CorrelationKey{}, id)
}

// CorrelationIDOf is the correlation id ctx carries, or "".
func CorrelationIDOf(ctx context.Context) string {
	id, _ := ctx.Value(CorrelationKey{}).(string)
	return id
}

// LogHandler returns h adding to every record logged with a context the
// correlation id (unless the record has one), trace id and span id that
// context carries. Records logged without a context (slog's methods
// without Context) pass as they are.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{next: h} }

// logHandler is LogHandler's handler.
type logHandler struct{ next slog.Handler }

// Enabled implements slog.Handler.
func (h *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, r)
	}
	if id := CorrelationIDOf(ctx); id != "" && !hasAttr(r, LogCorrelationID) {
		r.AddAttrs(slog.String(LogCorrelationID, id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String(LogTraceID, sc.TraceID().String()), slog.String(LogSpanID, sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

// hasAttr tells whether r has a top-level attribute named key.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// WithAttrs implements slog.Handler.
func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name)}
}
