package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/dynapi/dynapi/engine"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options configures Open. The zero value is the production configuration.
type Options struct {
	// Timeout is how long Open waits for the exclusive file lock held by
	// another process (or another Store in this one) before failing with an
	// error wrapping bbolt's ErrTimeout. Zero means DefaultTimeout; a
	// negative value means try once and do not wait.
	Timeout time.Duration

	// NoSync skips fsync on commit, so a committed Update can be lost or
	// half-applied by a crash or power loss. For tests only: never set it in
	// production.
	NoSync bool
}

// Store is an engine.Store backed by one bbolt file. Create it with Open.
type Store struct {
	db     *bolt.DB
	path   string
	closed atomic.Bool
	// reqs queues Update calls for the committer goroutine (commit.go);
	// quit tells it to stop, and stopped is closed once it has.
	reqs    chan *request
	quit    chan struct{}
	stopped chan struct{}
	// onQueued, when set, is called each time an Update's request is in
	// reqs; tests use it to queue Updates in a known order. Nil otherwise.
	onQueued func()
}

var _ engine.Store = (*Store)(nil)

// errTxDone reports use of a Tx after its callback returned.
var errTxDone = errors.New("boltstore: transaction used after its callback returned")

// ctxCheckEvery is how many keys Scan visits between context checks.
const ctxCheckEvery = 256

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		// bbolt treats 0 as "wait forever"; any negative value fails after
		// the first attempt.
		timeout = -1
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: timeout,
		NoSync:  opts.NoSync,
		// Nothing reads bbolt's statistics; keeping them costs every
		// transaction a lock and a dozen counters.
		NoStatistics: true,
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, reqs: make(chan *request, queueLen),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	go s.commitLoop()
	return s, nil
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// View runs fn in a read-only transaction on a consistent snapshot. It
// returns ctx.Err() without running fn if ctx is already done, and
// engine.ErrStoreClosed after Close; otherwise it returns fn's error
// unchanged. Byte slices handed out by the Tx point into the memory-mapped
// file: they are valid only inside fn and must not be modified.
func (s *Store) View(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return engine.ErrStoreClosed
	}
	var fnErr error
	err := s.db.View(func(btx *bolt.Tx) error {
		tx := &tx{ctx: ctx, btx: btx}
		defer tx.end()
		fnErr = fn(tx)
		return fnErr
	})
	if fnErr != nil {
		// bbolt returns fn's error as is. Do not compare errors with ==: a
		// caller's error type need not be comparable.
		return fnErr
	}
	return s.wrap("view", err)
}

// Update runs fn in a read-write transaction and commits it, durably, when
// fn returns nil: Update returns nil only after the commit's fsyncs. fn runs
// at most once. If fn returns an error, or panics, or ctx ends before fn
// starts or while it runs, nothing fn wrote is committed and Update returns
// fn's error unchanged, re-panics, or returns ctx.Err(). Byte slices handed
// out by the Tx are valid only inside fn and must not be modified.
//
// Concurrent Updates share commits (see "Group commit" in the package
// documentation): fn may run on another goroutine, after and before fns of
// other callers in the same transaction, and sees their writes as if they
// had committed just before it. A failing fn is undone alone and never
// changes another's outcome; only a failing commit (an I/O error) fails
// every fn that shared it.
func (s *Store) Update(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return engine.ErrStoreClosed
	}
	return s.update(ctx, fn)
}

// Close waits for running transactions to finish, then releases the file
// and its lock. Later calls to View, Update or Close return
// engine.ErrStoreClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return engine.ErrStoreClosed
	}
	close(s.quit)
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.path, err)
	}
	return nil
}

// wrap adds context to an error that came from bbolt rather than from fn.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("boltstore: %s %s: %w", op, s.path, engine.ErrStoreClosed)
	default:
		return fmt.Errorf("boltstore: %s %s: %w", op, s.path, err)
	}
}

// tx adapts a bbolt transaction to engine.Tx.
type tx struct {
	ctx    context.Context
	btx    *bolt.Tx
	done   bool
	writes uint64 // count of Put and Delete calls, for Scan
	// logged says whether writes go to the undo log, because fn shares its
	// transaction with fns that ran before it (see undo.go).
	logged bool
	log    []undoOp
}

func (t *tx) end() { t.done = true }

// bucket returns bucket name, or nil if it does not exist.
func (t *tx) bucket(name string) (*bolt.Bucket, error) {
	if t.done {
		return nil, errTxDone
	}
	return t.btx.Bucket([]byte(name)), nil
}

// writable returns bucket name for writing, creating it if needed.
func (t *tx) writable(op, name string) (*bolt.Bucket, error) {
	if t.done {
		return nil, errTxDone
	}
	if !t.btx.Writable() {
		return nil, fmt.Errorf("boltstore: %s in bucket %q: %w", op, name, berrors.ErrTxNotWritable)
	}
	t.logBucket(name)
	b, err := t.btx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("boltstore: %s: create bucket %q: %w", op, name, err)
	}
	return b, nil
}

// Get returns the value under key, or engine.ErrNotFound. The slice is
// valid only inside the transaction's callback and must not be modified.
func (t *tx) Get(bucket, key string) ([]byte, error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, engine.ErrNotFound
	}
	// A cursor tells a stored empty value from a missing key, which
	// Bucket.Get (nil for both) does not.
	k, v := b.Cursor().Seek([]byte(key))
	if k == nil || string(k) != key {
		return nil, engine.ErrNotFound
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Put stores a copy of value under key, creating the bucket if needed.
func (t *tx) Put(bucket, key string, value []byte) error {
	b, err := t.writable("put", bucket)
	if err != nil {
		return err
	}
	// bbolt keeps the slice until commit; copy it so the caller may reuse it.
	v := make([]byte, len(value))
	copy(v, value)
	t.logKey(b, bucket, key)
	if err := b.Put([]byte(key), v); err != nil {
		return fmt.Errorf("boltstore: put in bucket %q: %w", bucket, err)
	}
	t.writes++
	return nil
}

// Delete removes key; a missing key or bucket is not an error.
func (t *tx) Delete(bucket, key string) error {
	if t.done {
		return errTxDone
	}
	if !t.btx.Writable() {
		return fmt.Errorf("boltstore: delete in bucket %q: %w", bucket, berrors.ErrTxNotWritable)
	}
	b := t.btx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	t.logKey(b, bucket, key)
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("boltstore: delete in bucket %q: %w", bucket, err)
	}
	t.writes++
	return nil
}

// Scan calls fn for each key with prefix, in byte order. fn may Put and
// Delete, in this bucket too: Scan then carries on after the last key it
// reported, and sees keys fn added beyond it. A callback error wrapping
// engine.ErrStop ends Scan with nil. Scan stops with ctx.Err() if the
// transaction's context ends.
func (t *tx) Scan(bucket, prefix string, fn func(key string, value []byte) error) error {
	p := []byte(prefix)
	return t.walk(bucket, false,
		func(c *bolt.Cursor) ([]byte, []byte, error) { k, v := c.Seek(p); return k, v, nil },
		func(k []byte) bool { return bytes.HasPrefix(k, p) },
		fn)
}

// ScanFrom calls fn for each key >= from, in byte order, like Scan.
func (t *tx) ScanFrom(bucket, from string, fn func(key string, value []byte) error) error {
	f := []byte(from)
	return t.walk(bucket, false,
		func(c *bolt.Cursor) ([]byte, []byte, error) { k, v := c.Seek(f); return k, v, nil },
		nil, fn)
}

// ScanReverse calls fn for each key <= from ("" from the last key), in
// descending byte order, like Scan: fn may write, and ScanReverse then
// carries on before the last key it reported.
func (t *tx) ScanReverse(bucket, from string, fn func(key string, value []byte) error) error {
	return t.walk(bucket, true,
		func(c *bolt.Cursor) ([]byte, []byte, error) {
			if from == "" {
				k, v := last(c)
				return k, v, nil
			}
			return seekAtOrBefore(c, from, false)
		},
		nil, fn)
}

// seekAtOrBefore positions c on the last key <= key (< key if strict).
func seekAtOrBefore(c *bolt.Cursor, key string, strict bool) ([]byte, []byte, error) {
	k, v := c.Seek([]byte(key))
	if k == nil {
		// Every key is below key.
		k, v = last(c)
		return k, v, nil
	}
	if !strict && string(k) == key {
		return k, v, nil
	}
	return prev(c, k)
}

// Deletes in a write transaction can leave leaves with no keys until the
// commit rebalances the tree. Cursor.Next and Cursor.Seek step over them,
// but Cursor.Prev takes one for the start of the bucket, and Cursor.Last
// loops forever when every leaf is empty. last and prev work around both.

// last positions c on the last key, or returns nil if the bucket is empty.
func last(c *bolt.Cursor) ([]byte, []byte) {
	if k, _ := c.First(); k == nil {
		return nil, nil
	}
	return c.Last()
}

// prev moves c from key cur, which it is on, to the key before it.
func prev(c *bolt.Cursor, cur []byte) ([]byte, []byte, error) {
	if k, v := c.Prev(); k != nil {
		return k, v, nil
	}
	// The start of the bucket, or an emptied leaf?
	if first, _ := c.First(); first == nil || bytes.Compare(first, cur) >= 0 {
		return nil, nil, nil
	}
	// Keys below cur exist: go back to cur and step over empty leaves. Each
	// step moves back at least one leaf and a key below cur lies ahead, so
	// this ends; the bound only guards against a change in bbolt.
	cur = bytes.Clone(cur)
	c.Seek(cur)
	for range maxEmptySteps {
		if k, v := c.Prev(); k != nil && bytes.Compare(k, cur) < 0 {
			return k, v, nil
		}
	}
	return nil, nil, errCursorLost
}

// maxEmptySteps bounds prev's walk over empty leaves.
const maxEmptySteps = 1 << 24

// errCursorLost reports that prev found no way back: a bbolt cursor
// behaving in a way this package does not expect.
var errCursorLost = errors.New("boltstore: reverse scan lost its place among emptied pages")

// walk calls fn for each key from the one first positions the cursor on,
// forward (or backward if reverse), while in (nil: always) accepts the key.
func (t *tx) walk(bucket string, reverse bool, first func(*bolt.Cursor) ([]byte, []byte, error),
	in func([]byte) bool, fn func(key string, value []byte) error) error {
	b, err := t.bucket(bucket)
	if err != nil || b == nil {
		return err
	}
	c := b.Cursor()
	k, v, err := first(c)
	n := 0
	for ; err == nil && k != nil && (in == nil || in(k)); n++ {
		if n%ctxCheckEvery == ctxCheckEvery-1 {
			if err := t.ctx.Err(); err != nil {
				return err
			}
		}
		if v == nil {
			v = []byte{}
		}
		key := string(k)
		before := t.writes
		if err := fn(key, v); err != nil {
			if errors.Is(err, engine.ErrStop) {
				return nil
			}
			return err
		}
		if t.done {
			return errTxDone
		}
		switch {
		case t.writes == before && reverse:
			k, v, err = prev(c, k)
		case t.writes == before:
			k, v = c.Next()
		case reverse:
			// fn wrote: bbolt cursors are not valid across writes, so find
			// our place again.
			k, v, err = seekAtOrBefore(c, key, true)
		default:
			k, v = c.Seek([]byte(key))
			if k != nil && string(k) == key {
				k, v = c.Next()
			}
		}
	}
	return err
}

// NextSequence increments and returns the bucket's counter, creating the
// bucket if needed. The first value is 1. A rolled-back Update rolls its
// increments back too.
func (t *tx) NextSequence(bucket string) (uint64, error) {
	b, err := t.writable("next sequence", bucket)
	if err != nil {
		return 0, err
	}
	t.logSeq(b, bucket)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("boltstore: next sequence in bucket %q: %w", bucket, err)
	}
	return seq, nil
}
