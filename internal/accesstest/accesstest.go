// Package accesstest holds what the tests of engine/identity, engine/authz
// and engine/access share: a bolt store in a temporary directory and
// checks of structured errors and stored keys (their fake clock is
// authtest.Clock).
package accesstest

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// GoodPassword satisfies the default password policy.
const GoodPassword = "correct horse battery 9"

// Store returns a fresh bolt store in a temporary directory, closed when
// the test ends.
func Store(t testing.TB) engine.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "access.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// WantErr fails unless err is an *engine.Error with status and code.
func WantErr(t *testing.T, err error, status int, code string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *engine.Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

// ViolationCodes returns the codes of e's violations, sorted.
func ViolationCodes(e *engine.Error) []string {
	var out []string
	for _, v := range e.Violations {
		out = append(out, v.Code)
	}
	slices.Sort(out)
	return out
}

// Count returns the number of keys in bucket.
func Count(t testing.TB, store engine.Store, bucket string) int {
	t.Helper()
	n := 0
	err := store.View(t.Context(), func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(string, []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Actions returns the actions of log's first 1000 entries, oldest first.
func Actions(t testing.TB, log *audit.Log) []string {
	t.Helper()
	entries, _, err := log.List(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}
