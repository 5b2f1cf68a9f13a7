package engine

import (
	"context"
	"errors"
)

// Store sentinels, matched with errors.Is.
var (
	// ErrNotFound reports that a key or bucket does not exist.
	ErrNotFound = errors.New("engine: not found")
	// ErrConflict reports that a write would break a uniqueness rule.
	ErrConflict = errors.New("engine: conflict")
	// ErrStoreClosed reports use of a store after Close.
	ErrStoreClosed = errors.New("engine: store closed")
	// ErrStop, returned by a Scan, ScanFrom or ScanReverse callback (possibly
	// wrapped), ends the scan early without error: the scan returns nil.
	ErrStop = errors.New("engine: stop")
)

// Store is durable, transactional key-value storage. Keys live in named
// buckets. Every Update is atomic and durable when it returns nil: a crash
// at any point leaves either all or none of its writes. Implementations are
// safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn returns
	// nil and rolled back otherwise. fn runs at most once per call, so it
	// may keep what it reads or assigns. A store may let concurrent Updates
	// share one commit (group commit); then an Update that returns nil is
	// still durable, and one whose fn fails still writes nothing and never
	// changes another's outcome.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store; later calls return ErrStoreClosed.
	Close() error
}

// Tx is a transaction handed to Store.View or Store.Update. It is valid only
// inside that callback and must not be shared between goroutines. Byte
// slices it returns are valid only inside the callback; copy them to keep.
//
// Keys are ordered by their bytes. The scans (Scan, ScanFrom, ScanReverse)
// call fn for one key at a time until fn returns an error or keys run out:
// an error that is ErrStop (errors.Is) ends the scan and the scan returns
// nil; any other error is returned unchanged. A missing bucket scans
// nothing. Whether fn may write to the bucket being scanned is up to the
// implementation; portable callers collect keys first and write after.
type Tx interface {
	// Get returns the value under key in bucket, or ErrNotFound.
	Get(bucket, key string) ([]byte, error)
	// Put stores value under key in bucket, creating the bucket if needed.
	Put(bucket, key string, value []byte) error
	// Delete removes key from bucket; a missing key is not an error.
	Delete(bucket, key string) error
	// Scan calls fn for each key in bucket starting with prefix, in
	// ascending key order.
	Scan(bucket, prefix string, fn func(key string, value []byte) error) error
	// ScanFrom calls fn for each key in bucket that is >= from, in ascending
	// key order; from "" starts at the first key.
	ScanFrom(bucket, from string, fn func(key string, value []byte) error) error
	// ScanReverse calls fn for each key in bucket that is <= from, in
	// descending key order; from "" starts at the last key.
	ScanReverse(bucket, from string, fn func(key string, value []byte) error) error
	// NextSequence returns the next value of bucket's monotonic counter.
	NextSequence(bucket string) (uint64, error)
}
