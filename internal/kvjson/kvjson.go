// Package kvjson reads and writes JSON values in an engine.Tx and pages
// through a bucket in key order, for the packages that keep their records
// in an engine.Store.
package kvjson

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dynapi/dynapi/engine"
)

// Get reads and decodes bucket/key; engine.ErrNotFound when missing.
func Get[T any](tx engine.Tx, bucket, key string) (*T, error) {
	v, err := tx.Get(bucket, key)
	if err != nil {
		return nil, err
	}
	var out T
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("decode %s/%q: %w", bucket, key, err)
	}
	return &out, nil
}

// Put encodes v under bucket/key.
func Put(tx engine.Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%q: %w", bucket, key, err)
	}
	return tx.Put(bucket, key, b)
}

// Exists reports whether bucket/key exists.
func Exists(tx engine.Tx, bucket, key string) (bool, error) {
	_, err := tx.Get(bucket, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, engine.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// Decode decodes a stored JSON value.
func Decode[T any](v []byte) (*T, error) {
	var out T
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &out, nil
}

// ErrStop ends a Scan early; callers treat it as success.
var ErrStop = errors.New("kvjson: stop scan")

// ScanAfter calls fn, in key order, for the keys of bucket greater than
// after, without visiting the keys before it: every key's bytes must be in
// alphabet, which is sorted. The keys above after are its extensions,
// then, position by position from the last, those sharing a shorter prefix
// of after followed by a greater byte; each such group is one prefix scan.
func ScanAfter(tx engine.Tx, bucket, after, alphabet string, fn func(k string, v []byte) error) error {
	if after == "" {
		return tx.Scan(bucket, "", fn)
	}
	err := tx.Scan(bucket, after, func(k string, v []byte) error {
		if k == after {
			return nil
		}
		return fn(k, v)
	})
	if err != nil {
		return err
	}
	for i := len(after) - 1; i >= 0; i-- {
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] <= after[i] {
				continue
			}
			if err := tx.Scan(bucket, after[:i]+alphabet[j:j+1], fn); err != nil {
				return err
			}
		}
	}
	return nil
}
