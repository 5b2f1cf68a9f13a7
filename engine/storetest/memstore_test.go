package storetest_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/storetest"
)

// memStore is a deliberately simple reference Store: one RWMutex, and each
// Update works on a copy of the state that replaces it on success. It exists
// to check that the suite itself passes a correct implementation.
type memStore struct {
	mu      sync.RWMutex
	closed  bool
	buckets map[string]*memBucket
}

type memBucket struct {
	seq  uint64
	keys map[string][]byte
}

type memTx struct {
	writable bool
	buckets  map[string]*memBucket
}

var errReadOnly = errors.New("memstore: read-only transaction")

func (s *memStore) View(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return engine.ErrStoreClosed
	}
	return fn(&memTx{buckets: s.buckets})
}

func (s *memStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return engine.ErrStoreClosed
	}
	work := make(map[string]*memBucket, len(s.buckets))
	for name, b := range s.buckets {
		work[name] = &memBucket{seq: b.seq, keys: maps.Clone(b.keys)}
	}
	if err := fn(&memTx{writable: true, buckets: work}); err != nil {
		return err
	}
	s.buckets = work
	return nil
}

func (s *memStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return engine.ErrStoreClosed
	}
	s.closed = true
	return nil
}

func (tx *memTx) bucket(name string, create bool) *memBucket {
	b := tx.buckets[name]
	if b == nil && create {
		b = &memBucket{keys: map[string][]byte{}}
		tx.buckets[name] = b
	}
	return b
}

func (tx *memTx) Get(bucket, key string) ([]byte, error) {
	if b := tx.bucket(bucket, false); b != nil {
		if v, ok := b.keys[key]; ok {
			return v, nil
		}
	}
	return nil, engine.ErrNotFound
}

func (tx *memTx) Put(bucket, key string, value []byte) error {
	if !tx.writable {
		return errReadOnly
	}
	tx.bucket(bucket, true).keys[key] = append([]byte{}, value...)
	return nil
}

func (tx *memTx) Delete(bucket, key string) error {
	if !tx.writable {
		return errReadOnly
	}
	if b := tx.bucket(bucket, false); b != nil {
		delete(b.keys, key)
	}
	return nil
}

func (tx *memTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	return tx.walk(bucket, false, func(k string) (bool, bool) {
		return strings.HasPrefix(k, prefix), k > prefix
	}, fn)
}

func (tx *memTx) ScanFrom(bucket, from string, fn func(string, []byte) error) error {
	return tx.walk(bucket, false, func(k string) (bool, bool) { return k >= from, false }, fn)
}

func (tx *memTx) ScanReverse(bucket, from string, fn func(string, []byte) error) error {
	return tx.walk(bucket, true, func(k string) (bool, bool) { return from == "" || k <= from, false }, fn)
}

// walk calls fn for the keys of bucket that match accepts, in ascending or
// (reverse) descending order, stopping early when accepts reports past; it
// works on the keys present when it starts.
func (tx *memTx) walk(bucket string, reverse bool, accepts func(k string) (match, past bool), fn func(string, []byte) error) error {
	b := tx.bucket(bucket, false)
	if b == nil {
		return nil
	}
	keys := slices.Sorted(maps.Keys(b.keys))
	if reverse {
		slices.Reverse(keys)
	}
	for _, k := range keys {
		match, past := accepts(k)
		if past && !match {
			break
		}
		v, ok := b.keys[k]
		if !match || !ok {
			continue
		}
		if err := fn(k, v); err != nil {
			if errors.Is(err, engine.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (tx *memTx) NextSequence(bucket string) (uint64, error) {
	if !tx.writable {
		return 0, errReadOnly
	}
	b := tx.bucket(bucket, true)
	b.seq++
	return b.seq, nil
}

var _ engine.Store = (*memStore)(nil)

// TestReference runs the suite against memStore.
func TestReference(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store {
		return &memStore{buckets: map[string]*memBucket{}}
	})
}
