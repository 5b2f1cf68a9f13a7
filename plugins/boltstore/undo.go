package boltstore

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// undoOp is one entry of a tx's undo log: what to restore so that the
// transaction is as it was before the logged fn touched it.
type undoOp struct {
	kind   undoKind
	bucket string
	key    string
	value  []byte // the key's previous value (kind undoKey, existed)
	had    bool   // the key existed (kind undoKey)
	seq    uint64 // the previous bucket sequence (kind undoSeq)
}

type undoKind uint8

const (
	undoKey    undoKind = iota // restore value, or delete the key
	undoSeq                    // restore the bucket's sequence
	undoBucket                 // delete the bucket fn created
)

// logBucket records that fn is about to create bucket name.
func (t *tx) logBucket(name string) {
	if t.logged && t.btx.Bucket([]byte(name)) == nil {
		t.log = append(t.log, undoOp{kind: undoBucket, bucket: name})
	}
}

// logKey records key's value in b before fn writes it.
func (t *tx) logKey(b *bolt.Bucket, bucket, key string) {
	if !t.logged {
		return
	}
	op := undoOp{kind: undoKey, bucket: bucket, key: key}
	if k, v := b.Cursor().Seek([]byte(key)); k != nil && string(k) == key {
		// The slice may point into the memory map, which a growing
		// transaction remaps: keep a copy.
		op.had, op.value = true, bytes.Clone(v)
	}
	t.log = append(t.log, op)
}

// logSeq records b's sequence before fn increments it.
func (t *tx) logSeq(b *bolt.Bucket, bucket string) {
	if t.logged {
		t.log = append(t.log, undoOp{kind: undoSeq, bucket: bucket, seq: b.Sequence()})
	}
}

// undo reverts, newest first, every write the logged fn made, leaving the
// shared transaction as the fns before it left it.
func (t *tx) undo() error {
	for i := len(t.log) - 1; i >= 0; i-- {
		op := &t.log[i]
		if op.kind == undoBucket {
			if err := t.btx.DeleteBucket([]byte(op.bucket)); err != nil {
				return fmt.Errorf("undo bucket %q: %w", op.bucket, err)
			}
			continue
		}
		b := t.btx.Bucket([]byte(op.bucket))
		if b == nil {
			return fmt.Errorf("undo in bucket %q: the bucket is gone", op.bucket)
		}
		var err error
		switch {
		case op.kind == undoSeq:
			err = b.SetSequence(op.seq)
		case op.had:
			if op.value == nil {
				op.value = []byte{}
			}
			err = b.Put([]byte(op.key), op.value)
		default:
			err = b.Delete([]byte(op.key))
		}
		if err != nil {
			return fmt.Errorf("undo in bucket %q: %w", op.bucket, err)
		}
	}
	t.log = nil
	return nil
}
