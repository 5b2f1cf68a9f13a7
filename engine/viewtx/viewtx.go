// Package viewtx runs the read-write transactions of packages that keep
// in-memory views of their stored data (identity, authorisation, banks):
// one at a time, each applying what it changed to those views only once
// it has committed, so that every view advances in commit order and a
// change spanning several packages (a user deleted with its grants) is
// seen whole or not at all.
package viewtx

import (
	"context"
	"errors"
	"sync"

	"github.com/dynapi/dynapi/engine"
)

// Writer runs transactions on a store and applies their view changes. One
// Writer is shared by every package whose views a transaction may change.
// It is safe for concurrent use.
type Writer struct {
	store engine.Store
	mu    sync.Mutex // serialises transactions with the application of their view changes
}

// NewWriter returns a writer on store.
func NewWriter(store engine.Store) *Writer { return &Writer{store: store} }

// Tx is a read-write transaction of the writer's store, with what to do to
// the in-memory views once it commits. It is valid only inside
// Writer.Update's callback.
type Tx struct {
	engine.Tx
	reveal, committed, retract []func()
	local                      map[any]any
}

// Reveal runs fn once the transaction has committed, before the OnCommit
// hooks: fn makes what the transaction adds (grants, roles, users'
// standings) visible.
func (t *Tx) Reveal(fn func()) { t.reveal = append(t.reveal, fn) }

// OnCommit runs fn once the transaction has committed, after the views
// see what it adds and before they lose what it takes away: a change
// swaps its snapshot there, so no request finds a route served whose roles
// are not granted yet, or are gone already.
func (t *Tx) OnCommit(fn func()) { t.committed = append(t.committed, fn) }

// Retract runs fn once the transaction has committed, after the OnCommit
// hooks: fn removes from the views what the transaction takes away.
func (t *Tx) Retract(fn func()) { t.retract = append(t.retract, fn) }

// Local returns the value a package keeps in t under key, made by mk on
// its first use in t: what the transaction changed in that package's
// views, gathered so it is applied once, as a whole.
func Local[T any](t *Tx, key any, mk func() *T) *T {
	if v, ok := t.local[key]; ok {
		return v.(*T)
	}
	if t.local == nil {
		t.local = map[any]any{}
	}
	v := mk()
	t.local[key] = v
	return v
}

// Update runs fn in one read-write transaction and, once it commits, the
// view changes fn registered on tx: Reveal's, then OnCommit's, then
// Retract's, each in the order registered, while no other transaction of
// the writer runs. fn must not start another transaction of the writer:
// it would wait for this one. An error is returned as an *engine.Error: as
// it is when it is one, else an internal error keeping it as its cause.
func (w *Writer) Update(ctx context.Context, fn func(tx *Tx) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t *Tx
	err := w.store.Update(ctx, func(tx engine.Tx) error {
		t = &Tx{Tx: tx}
		return fn(t)
	})
	if err != nil {
		return wrap(err)
	}
	for _, list := range [...][]func(){t.reveal, t.committed, t.retract} {
		for _, f := range list {
			f()
		}
	}
	return nil
}

// Apply runs fn while no transaction of the writer runs, in order with
// their view changes: for a view changed outside a transaction (roles
// registered at start) or rebuilt from the store.
func (w *Writer) Apply(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
}

// View runs fn in a read transaction, returning its error like Update's.
func (w *Writer) View(ctx context.Context, fn func(tx engine.Tx) error) error {
	return wrap(w.store.View(ctx, fn))
}

// wrap returns err as an *engine.Error: as is when it is one, else an
// internal error keeping err as its cause (so errors.Is still sees
// context.Canceled and store sentinels).
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return e
	}
	return engine.Internal(err)
}
