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

// maxLinger bounds how long the committer waits for the callers of the
// last commit to come back before it starts the next one.
const maxLinger = 5 * time.Millisecond

// commitLoop is the committer: it runs until Close, taking every request
// queued at once into one transaction.
//
// Callers finished by a commit usually come back soon with their next
// Update (a server answering and reading the next request). Were the next
// batch started at once, it would hold only the callers that queued during
// the commit, and the returning ones would wait for the commit after:
// concurrent writers would split into two groups taking turns, each commit
// carrying half of them. So the committer lingers until as many requests
// are queued as the last batch finished plus those queued when it did, or
// until half the last commit's duration (at most maxLinger) has passed, or
// the batch is full: under load every writer joins one batch and batches
// grow; a lone writer that does not come back costs at most the linger.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	timer := time.NewTimer(maxLinger)
	timer.Stop()
	var (
		want   int           // requests expected: the last batch and those queued behind it
		linger time.Duration // how long to wait for them
	)
	for {
		select {
		case <-s.quit:
			return
		case r := <-s.reqs:
			batch = s.gather(append(batch[:0], r), want, linger, timer)
			start := time.Now()
			s.commit(batch)
			linger = min(time.Since(start)/2, maxLinger)
			want = len(batch) + len(s.reqs)
			clear(batch)
		}
	}
}

// gather adds the queued requests to batch, then waits for more until it
// holds want, linger has passed or Close began. It never exceeds maxBatch.
func (s *Store) gather(batch []*request, want int, linger time.Duration, timer *time.Timer) []*request {
	want = min(want, maxBatch)
queued:
	for len(batch) < maxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		default:
			break queued
		}
	}
	if len(batch) >= want || linger <= 0 {
		return batch
	}
	timer.Reset(linger)
	defer timer.Stop()
	for len(batch) < want {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-s.quit:
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
