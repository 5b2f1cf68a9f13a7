package boltstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dynapi/dynapi/engine"
)

// Group commit: Update hands its fn to one committer goroutine per Store,
// which runs every fn queued at that moment, one after the other, in one
// bbolt transaction and commits them with one pair of fsyncs. Each fn runs
// exactly once. A fn that fails (error, panic, or its context ending while
// it ran) is undone inside the shared transaction from the undo log its tx
// kept (see undo.go), so it never affects the others; a fn that runs first
// in a transaction keeps no log, since rolling back the whole transaction
// undoes it alone. Callers are told nil only after the shared commit.

// maxBatch bounds how many fns share one transaction, so that one commit
// stays short when the queue is long.
const maxBatch = 256

// queueLen is how many Updates may wait for the committer before callers
// block on sending (still honouring their context).
const queueLen = 1024

// Request states: waiting in the queue, taken by the committer (it will
// finish it), or abandoned by its caller (the committer skips it).
const (
	reqWaiting int32 = iota
	reqTaken
	reqAbandoned
)

// request is one Update waiting for the committer.
type request struct {
	ctx   context.Context
	fn    func(engine.Tx) error
	state atomic.Int32
	done  chan struct{} // closed by finish
	err   error
	panic *panicValue // set if fn panicked
}

// panicValue carries a panic from fn to its caller, which re-panics.
type panicValue struct{ v any }

func (r *request) finish(err error) {
	r.err = err
	close(r.done)
}

// update queues fn for the committer and waits for its outcome.
func (s *Store) update(ctx context.Context, fn func(engine.Tx) error) error {
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case s.reqs <- r:
		if s.onQueued != nil {
			s.onQueued()
		}
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopped:
		return engine.ErrStoreClosed
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		// Until the committer takes it, the caller may still give up.
		if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
			return ctx.Err()
		}
		<-r.done
	case <-s.stopped:
		if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
			return engine.ErrStoreClosed
		}
		<-r.done
	}
	if r.panic != nil {
		panic(r.panic.v)
	}
	return r.err
}

// Gathering: a commit waits for more requests while they keep coming, at
// most quietGap after the last one and maxLinger in all.
const (
	// quietGap is how long the committer waits for a next request before
	// it commits what it holds.
	quietGap = 200 * time.Microsecond
	// maxLinger bounds how long the committer gathers one batch.
	maxLinger = 5 * time.Millisecond
)

// commitLoop is the committer: it runs until Close, taking the queued
// requests into one transaction.
//
// Callers finished by a commit usually come back soon with their next
// Update (a server answering and reading the next request), one after the
// other as the CPU serves them. Were the next batch started with only what
// is queued at once, it would hold the one or two callers that made it so
// far, and every other would wait for the commit after: concurrent writers
// would split into many small commits, each paying the fsyncs. So the
// committer keeps gathering while requests keep arriving, each within
// quietGap of the one before, up to maxLinger or a full batch: under load
// every writer joins one batch; a lone writer costs at most quietGap.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	timer := time.NewTimer(quietGap)
	timer.Stop()
	for {
		select {
		case <-s.quit:
			return
		case r := <-s.reqs:
			batch = s.gather(append(batch[:0], r), timer)
			s.commit(batch)
			clear(batch)
		}
	}
}

// gather adds requests to batch while they come, each within quietGap of
// the one before, until maxLinger has passed, the batch is full or Close
// began.
func (s *Store) gather(batch []*request, timer *time.Timer) []*request {
	deadline := time.Now().Add(maxLinger)
	for len(batch) < maxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
			continue
		default:
		}
		wait := min(quietGap, time.Until(deadline))
		if wait <= 0 {
			return batch
		}
		timer.Reset(wait)
		select {
		case r := <-s.reqs:
			timer.Stop()
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-s.quit:
			timer.Stop()
			return batch
		}
	}
	return batch
}

// commit runs batch in one write transaction and commits the fns that
// succeeded; it finishes every request it takes.
func (s *Store) commit(batch []*request) {
	var (
		btx *bolt.Tx
		ok  []*request // fns that succeeded in btx, waiting for its commit
	)
	for _, r := range batch {
		if !r.state.CompareAndSwap(reqWaiting, reqTaken) {
			continue // its caller gave up
		}
		if err := r.ctx.Err(); err != nil {
			r.finish(err)
			continue
		}
		if btx == nil {
			var err error
			if btx, err = s.db.Begin(true); err != nil {
				r.finish(s.wrap("commit", err))
				continue
			}
		}
		t := &tx{ctx: r.ctx, btx: btx, logged: len(ok) > 0}
		err := run(t, r)
		if err == nil && r.panic == nil {
			ok = append(ok, r)
			continue
		}
		if len(ok) == 0 {
			// fn was alone in btx: dropping btx undoes exactly it.
			_ = btx.Rollback()
			btx = nil
		} else if uerr := t.undo(); uerr != nil {
			// The shared transaction is in an unknown state: give it up.
			// Nothing of it is written, so every fn in it fails.
			_ = btx.Rollback()
			btx = nil
			for _, o := range ok {
				o.finish(fmt.Errorf("boltstore: commit %s: a failed change sharing the transaction could not be undone: %w", s.path, uerr))
			}
			ok = ok[:0]
		}
		r.finish(err)
	}
	if btx == nil {
		return
	}
	if len(ok) == 0 {
		_ = btx.Rollback()
		return
	}
	err := s.wrap("commit", btx.Commit())
	for _, o := range ok {
		o.finish(err)
	}
}

// run calls r.fn on t and returns its error, or the context's error if the
// caller gave up while fn ran (so that a change whose outcome nobody will
// learn is not committed). A panic is recovered into r.panic.
func run(t *tx, r *request) (err error) {
	defer t.end()
	defer func() {
		if v := recover(); v != nil {
			r.panic = &panicValue{v}
		}
	}()
	if err = r.fn(t); err != nil {
		return err
	}
	return r.ctx.Err()
}
