package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
)

// Store returns s with each transaction of a traced call in a span of its
// own (SpanStoreView, SpanStoreUpdate); a transaction outside one costs a
// context lookup.
func Store(s engine.Store) engine.Store { return &tracedStore{Store: s} }

// tracedStore is Store's store.
type tracedStore struct{ engine.Store }

// View implements engine.Store.
func (s *tracedStore) View(ctx context.Context, fn func(engine.Tx) error) error {
	ctx, span := Start(ctx, SpanStoreView, trace.SpanKindInternal)
	err := s.Store.View(ctx, fn)
	End(span, err)
	return err
}

// Update implements engine.Store.
func (s *tracedStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	ctx, span := Start(ctx, SpanStoreUpdate, trace.SpanKindInternal)
	err := s.Store.Update(ctx, fn)
	End(span, err)
	return err
}
