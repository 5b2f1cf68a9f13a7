package events

import (
	"context"

	"github.com/dynapi/dynapi/engine"
)

// NewWake makes the channel that wakes a worker (Options.Wake) when a
// write that may have emitted events commits (WakeOnCommit).
func NewWake() chan struct{} { return make(chan struct{}, 1) }

// WakeOnCommit returns store with its Update waking the worker listening
// on wake once the write is committed, so that events are delivered in
// milliseconds rather than at the worker's next poll. The changes that
// emit events are given this store; waking never blocks.
func WakeOnCommit(store engine.Store, wake chan<- struct{}) engine.Store {
	return &wakingStore{Store: store, wake: wake}
}

// wakingStore is WakeOnCommit's store.
type wakingStore struct {
	engine.Store
	wake chan<- struct{}
}

// Update implements engine.Store.
func (w *wakingStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	err := w.Store.Update(ctx, fn)
	if err == nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return err
}
