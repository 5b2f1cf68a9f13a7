// Package storetest is the conformance suite for engine.Store. Every Store
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) engine.Store {
//			s, err := mystore.Open(filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite checks only what the engine.Store contract promises, so a store
// that passes it can replace any other. It depends on nothing but the
// standard library and engine.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// Run runs the conformance suite against the stores returned by open.
//
// open is called once per subtest with that subtest's t and must return a
// new, empty, open store. Run closes every store it gets (through
// t.Cleanup, accepting engine.ErrStoreClosed for stores a subtest already
// closed), so open must not close it; open may register its own cleanups,
// such as removing files, which run after the store is closed.
//
// Run calls View and Update from many goroutines; run it with -race.
func Run(t *testing.T, open func(t *testing.T) engine.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s engine.Store)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"MissingBucket", testMissingBucket},
		{"Scan", testScan},
		{"ScanStop", testScanStop},
		{"ScanLarge", testScanLarge},
		{"ScanFrom", testScanFrom},
		{"ScanReverse", testScanReverse},
		{"ScanErrStop", testScanErrStop},
		{"ScanFromInsideUpdate", testScanFromInsideUpdate},
		{"UpdateRollback", testUpdateRollback},
		{"ViewReadOnly", testViewReadOnly},
		{"ValuesCopied", testValuesCopied},
		{"NextSequence", testNextSequence},
		{"Concurrent", testConcurrent},
		{"ConcurrentFailures", testConcurrentFailures},
		{"ContextDone", testContextDone},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil Store")
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil && !errors.Is(err, engine.ErrStoreClosed) {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// ctx is the context for calls that are not about cancellation.
func ctx(t *testing.T) context.Context { return t.Context() }

func update(t *testing.T, s engine.Store, fn func(engine.Tx) error) {
	t.Helper()
	if err := s.Update(ctx(t), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s engine.Store, fn func(engine.Tx) error) {
	t.Helper()
	if err := s.View(ctx(t), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func put(t *testing.T, s engine.Store, bucket string, kv ...string) {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatal("put: odd key/value list")
	}
	update(t, s, func(tx engine.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(bucket, kv[i], []byte(kv[i+1])); err != nil {
				return fmt.Errorf("Put(%q, %q): %w", bucket, kv[i], err)
			}
		}
		return nil
	})
}

// get reads one key in its own View and returns a copy of the value.
func get(t *testing.T, s engine.Store, bucket, key string) ([]byte, error) {
	t.Helper()
	var out []byte
	var gerr error
	view(t, s, func(tx engine.Tx) error {
		v, err := tx.Get(bucket, key)
		out, gerr = bytes.Clone(v), err
		return nil
	})
	return out, gerr
}

func wantValue(t *testing.T, s engine.Store, bucket, key, want string) {
	t.Helper()
	v, err := get(t, s, bucket, key)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v; want %q", bucket, key, err, want)
	}
	if string(v) != want {
		t.Fatalf("Get(%q, %q) = %q; want %q", bucket, key, v, want)
	}
}

func wantMissing(t *testing.T, s engine.Store, bucket, key string) {
	t.Helper()
	v, err := get(t, s, bucket, key)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("Get(%q, %q) = %q, %v; want engine.ErrNotFound", bucket, key, v, err)
	}
}

type kv struct{ k, v string }

// sliceError is an error type that == cannot compare (it panics), as some
// validation error types are; stores must pass it through untouched.
type sliceError []error

func (e sliceError) Error() string   { return fmt.Sprint([]error(e)) }
func (e sliceError) Unwrap() []error { return e }

// scanFn is the signature shared by Tx.Scan, Tx.ScanFrom and Tx.ScanReverse.
type scanFn func(tx engine.Tx) func(bucket, from string, fn func(string, []byte) error) error

var (
	byPrefix  scanFn = func(tx engine.Tx) func(string, string, func(string, []byte) error) error { return tx.Scan }
	byFrom    scanFn = func(tx engine.Tx) func(string, string, func(string, []byte) error) error { return tx.ScanFrom }
	byReverse scanFn = func(tx engine.Tx) func(string, string, func(string, []byte) error) error { return tx.ScanReverse }
)

// keys returns the keys a scan reports, in order, in its own View.
func keys(t *testing.T, s engine.Store, scan scanFn, bucket, from string) []string {
	t.Helper()
	var out []string
	view(t, s, func(tx engine.Tx) error {
		return scan(tx)(bucket, from, func(k string, v []byte) error {
			if string(v) != "v"+k {
				t.Errorf("key %q has value %q; want %q", k, v, "v"+k)
			}
			out = append(out, k)
			return nil
		})
	})
	return out
}

// scan returns the keys and copied values Scan reports, in order.
func scan(t *testing.T, s engine.Store, bucket, prefix string) []kv {
	t.Helper()
	var out []kv
	view(t, s, func(tx engine.Tx) error {
		return tx.Scan(bucket, prefix, func(k string, v []byte) error {
			out = append(out, kv{k, string(v)})
			return nil
		})
	})
	return out
}

func testGetPutDelete(t *testing.T, s engine.Store) {
	wantMissing(t, s, "b", "k")

	binary := string([]byte{0, 1, 0xfe, 0xff, 0})
	steps := []struct {
		name   string
		op     func(tx engine.Tx) error
		bucket string
		key    string
		want   string // value after op; "" with missing
		miss   bool
	}{
		{"put", func(tx engine.Tx) error { return tx.Put("b", "k", []byte("v1")) }, "b", "k", "v1", false},
		{"overwrite", func(tx engine.Tx) error { return tx.Put("b", "k", []byte("v2")) }, "b", "k", "v2", false},
		{"same key other bucket untouched", func(tx engine.Tx) error { return tx.Put("b2", "k", []byte("other")) }, "b", "k", "v2", false},
		{"empty value", func(tx engine.Tx) error { return tx.Put("b", "empty", []byte{}) }, "b", "empty", "", false},
		{"nil value", func(tx engine.Tx) error { return tx.Put("b", "nil", nil) }, "b", "nil", "", false},
		{"binary key and value", func(tx engine.Tx) error { return tx.Put("b", binary, []byte(binary)) }, "b", binary, binary, false},
		{"missing key in existing bucket", func(tx engine.Tx) error { return nil }, "b", "nope", "", true},
		{"delete", func(tx engine.Tx) error { return tx.Delete("b", "k") }, "b", "k", "", true},
		{"delete missing key", func(tx engine.Tx) error { return tx.Delete("b", "k") }, "b", "k", "", true},
		{"delete in missing bucket", func(tx engine.Tx) error { return tx.Delete("nobucket", "k") }, "nobucket", "k", "", true},
		{"other bucket survives delete", func(tx engine.Tx) error { return nil }, "b2", "k", "other", false},
		{"put after delete", func(tx engine.Tx) error { return tx.Put("b", "k", []byte("v3")) }, "b", "k", "v3", false},
	}
	for _, st := range steps {
		if err := s.Update(ctx(t), st.op); err != nil {
			t.Fatalf("%s: Update: %v", st.name, err)
		}
		if st.miss {
			wantMissing(t, s, st.bucket, st.key)
		} else {
			wantValue(t, s, st.bucket, st.key, st.want)
		}
	}

	// Writes are visible to later reads in the same transaction.
	update(t, s, func(tx engine.Tx) error {
		if err := tx.Put("b", "rw", []byte("x")); err != nil {
			return err
		}
		v, err := tx.Get("b", "rw")
		if err != nil || string(v) != "x" {
			t.Errorf("Get after Put in same Update = %q, %v; want \"x\"", v, err)
		}
		if err := tx.Delete("b", "rw"); err != nil {
			return err
		}
		if v, err := tx.Get("b", "rw"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("Get after Delete in same Update = %q, %v; want ErrNotFound", v, err)
		}
		return nil
	})

	// Large values round-trip.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	update(t, s, func(tx engine.Tx) error { return tx.Put("big", "k", big) })
	v, err := get(t, s, "big", "k")
	if err != nil || !bytes.Equal(v, big) {
		t.Fatalf("Get of 1 MiB value: len %d, err %v; want the value back", len(v), err)
	}
}

func testMissingBucket(t *testing.T, s engine.Store) {
	put(t, s, "exists", "k", "v")
	view(t, s, func(tx engine.Tx) error {
		if v, err := tx.Get("missing", "k"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("Get in missing bucket = %q, %v; want ErrNotFound", v, err)
		}
		count := func(string, []byte) error { t.Error("fn called for a missing bucket"); return nil }
		for name, scan := range map[string]func(string, string, func(string, []byte) error) error{
			"Scan": tx.Scan, "ScanFrom": tx.ScanFrom, "ScanReverse": tx.ScanReverse,
		} {
			for _, from := range []string{"", "k"} {
				if err := scan("missing", from, count); err != nil {
					t.Errorf("%s(missing bucket, %q) = %v; want nil", name, from, err)
				}
			}
		}
		return nil
	})
	// A Delete in a missing bucket is not an error and writes nothing visible.
	update(t, s, func(tx engine.Tx) error { return tx.Delete("missing", "k") })
	if got := scan(t, s, "missing", ""); len(got) != 0 {
		t.Fatalf("Scan of missing bucket after Delete = %v; want nothing", got)
	}
}

func testScan(t *testing.T, s engine.Store) {
	// Inserted out of order; byte order is "a" < "a/" < "a/1" < "a/10" <
	// "a/2" < "ab" < "a\xff" < "b" (bytes, not runes: 'b' < 0xff).
	put(t, s, "s",
		"b", "vb",
		"a/2", "v2",
		"ab", "vab",
		"a/10", "v10",
		"a", "va",
		"a\xff", "vff",
		"a/1", "v1",
		"a/", "vslash",
	)
	put(t, s, "other", "a/1", "not me")
	all := []kv{{"a", "va"}, {"a/", "vslash"}, {"a/1", "v1"}, {"a/10", "v10"}, {"a/2", "v2"}, {"ab", "vab"}, {"a\xff", "vff"}, {"b", "vb"}}
	tests := []struct {
		prefix string
		want   []kv
	}{
		{"", all},
		{"a", all[:7]},
		{"a/", all[1:5]},
		{"a/1", all[2:4]},
		{"a/10", all[3:4]},
		{"a/100", nil},
		{"a\xff", all[6:7]},
		{"ab", all[5:6]},
		{"b", all[7:]},
		{"c", nil},
		{"\x00", nil},
	}
	for _, tc := range tests {
		got := scan(t, s, "s", tc.prefix)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Scan(prefix %q) = %q; want %q", tc.prefix, got, tc.want)
		}
	}

	// Scan inside an Update sees that transaction's writes and deletes.
	update(t, s, func(tx engine.Tx) error {
		if err := tx.Put("s", "a/15", []byte("v15")); err != nil {
			return err
		}
		if err := tx.Delete("s", "a/2"); err != nil {
			return err
		}
		var keys []string
		if err := tx.Scan("s", "a/", func(k string, _ []byte) error {
			keys = append(keys, k)
			return nil
		}); err != nil {
			return err
		}
		if want := "[a/ a/1 a/10 a/15]"; fmt.Sprint(keys) != want {
			t.Errorf("Scan inside Update = %v; want %s", keys, want)
		}
		return nil
	})
	if got, want := fmt.Sprint(scan(t, s, "s", "a/")), "[{a/ vslash} {a/1 v1} {a/10 v10} {a/15 v15}]"; got != want {
		t.Errorf("Scan after Update = %s; want %s", got, want)
	}
}

func testScanStop(t *testing.T, s engine.Store) {
	put(t, s, "s", "k1", "1", "k2", "2", "k3", "3", "k4", "4")
	stop := errors.New("stop here")
	tests := []struct {
		name    string
		stopAt  int // stop after this many calls
		wantErr error
	}{
		{"first", 1, stop},
		{"middle", 2, stop},
		{"last", 4, stop},
		{"wrapped", 3, fmt.Errorf("wrapped: %w", stop)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := s.View(ctx(t), func(tx engine.Tx) error {
				return tx.Scan("s", "k", func(string, []byte) error {
					calls++
					if calls == tc.stopAt {
						return tc.wantErr
					}
					return nil
				})
			})
			if !errors.Is(err, stop) {
				t.Fatalf("View error = %v; want the error fn returned (%v)", err, tc.wantErr)
			}
			if calls != tc.stopAt {
				t.Fatalf("fn called %d times; want %d (Scan must stop at the first error)", calls, tc.stopAt)
			}
		})
	}
}

func testScanLarge(t *testing.T, s engine.Store) {
	const n = 2000
	// Insert in a scrambled order across two transactions.
	for half := range 2 {
		update(t, s, func(tx engine.Tx) error {
			for i := range n {
				j := (i * 7919) % n
				if j%2 != half {
					continue
				}
				k := fmt.Sprintf("key/%05d", j)
				if err := tx.Put("big", k, []byte(k)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	got := scan(t, s, "big", "key/")
	if len(got) != n {
		t.Fatalf("Scan returned %d keys; want %d", len(got), n)
	}
	for i, e := range got {
		if want := fmt.Sprintf("key/%05d", i); e.k != want || e.v != want {
			t.Fatalf("Scan entry %d = %q=%q; want %q", i, e.k, e.v, want)
		}
	}
	if got := scan(t, s, "big", "key/019"); len(got) != 100 {
		t.Fatalf("Scan(prefix key/019) returned %d keys; want 100", len(got))
	}
}

func testUpdateRollback(t *testing.T, s engine.Store) {
	put(t, s, "b", "keep", "old", "gone", "still here")
	var seqBefore uint64
	update(t, s, func(tx engine.Tx) error {
		var err error
		seqBefore, err = tx.NextSequence("b")
		return err
	})

	fail := errors.New("business rule failed")
	tests := []struct {
		name string
		ret  func(error) error
	}{
		{"plain", func(err error) error { return err }},
		{"wrapped", func(err error) error { return fmt.Errorf("handler: %w", err) }},
		{"engine error", func(err error) error { return errors.Join(engine.ErrConflict, err) }},
		{"non-comparable error type", func(err error) error { return sliceError{err} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(ctx(t), func(tx engine.Tx) error {
				for _, op := range []error{
					tx.Put("b", "keep", []byte("new")),
					tx.Put("b", "added", []byte("x")),
					tx.Put("newbucket", "k", []byte("x")),
					tx.Delete("b", "gone"),
				} {
					if op != nil {
						t.Errorf("write inside Update: %v", op)
					}
				}
				if _, err := tx.NextSequence("b"); err != nil {
					t.Errorf("NextSequence inside Update: %v", err)
				}
				return tc.ret(fail)
			})
			if !errors.Is(err, fail) {
				t.Fatalf("Update = %v; want the error fn returned", err)
			}
			wantValue(t, s, "b", "keep", "old")
			wantValue(t, s, "b", "gone", "still here")
			wantMissing(t, s, "b", "added")
			wantMissing(t, s, "newbucket", "k")
			if got := scan(t, s, "newbucket", ""); len(got) != 0 {
				t.Fatalf("rolled-back bucket scans %v; want nothing", got)
			}
			if got := scan(t, s, "b", ""); fmt.Sprint(got) != "[{gone still here} {keep old}]" {
				t.Fatalf("Scan after rollback = %v", got)
			}
		})
	}

	// The counter keeps increasing after rollbacks.
	update(t, s, func(tx engine.Tx) error {
		seq, err := tx.NextSequence("b")
		if err == nil && seq <= seqBefore {
			t.Errorf("NextSequence after rollback = %d; want > %d", seq, seqBefore)
		}
		return err
	})

	// An error from View is returned too.
	if err := s.View(ctx(t), func(engine.Tx) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("View = %v; want the error fn returned", err)
	}
	// The store still works.
	put(t, s, "b", "after", "ok")
	wantValue(t, s, "b", "after", "ok")
}

func testViewReadOnly(t *testing.T, s engine.Store) {
	put(t, s, "b", "k", "v")
	tests := []struct {
		name string
		op   func(tx engine.Tx) error
	}{
		{"Put existing bucket", func(tx engine.Tx) error { return tx.Put("b", "new", []byte("x")) }},
		{"Put new bucket", func(tx engine.Tx) error { return tx.Put("nb", "new", []byte("x")) }},
		{"Delete", func(tx engine.Tx) error { return tx.Delete("b", "k") }},
		{"Delete missing bucket", func(tx engine.Tx) error { return tx.Delete("nb", "k") }},
		{"NextSequence", func(tx engine.Tx) error { _, err := tx.NextSequence("b"); return err }},
		{"NextSequence new bucket", func(tx engine.Tx) error { _, err := tx.NextSequence("nb"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opErr error
			_ = s.View(ctx(t), func(tx engine.Tx) error {
				opErr = tc.op(tx)
				return nil
			})
			if opErr == nil {
				t.Errorf("%s inside View succeeded; want an error (View is read-only)", tc.name)
			}
			wantValue(t, s, "b", "k", "v")
			wantMissing(t, s, "b", "new")
			wantMissing(t, s, "nb", "new")
		})
	}
}

func testValuesCopied(t *testing.T, s engine.Store) {
	buf := []byte("original")
	update(t, s, func(tx engine.Tx) error {
		if err := tx.Put("b", "k", buf); err != nil {
			return err
		}
		copy(buf, "MUTATED!") // before commit
		v, err := tx.Get("b", "k")
		if err != nil || string(v) != "original" {
			t.Errorf("Get in same Update after caller mutated its slice = %q, %v; want \"original\"", v, err)
		}
		return nil
	})
	wantValue(t, s, "b", "k", "original")
	copy(buf, "changed.") // after commit
	wantValue(t, s, "b", "k", "original")

	// Each Put keeps its own copy of what the slice held at that moment.
	buf2 := []byte("abc")
	update(t, s, func(tx engine.Tx) error {
		if err := tx.Put("b", "k2", buf2); err != nil {
			return err
		}
		buf2[0] = 'X'
		return tx.Put("b", "k3", buf2)
	})
	buf2[0] = 'Y'
	wantValue(t, s, "b", "k2", "abc")
	wantValue(t, s, "b", "k3", "Xbc")
}

func testNextSequence(t *testing.T, s engine.Store) {
	var last uint64
	next := func(tx engine.Tx, bucket string, prev *uint64) error {
		seq, err := tx.NextSequence(bucket)
		if err != nil {
			return err
		}
		if seq <= *prev {
			t.Errorf("NextSequence(%q) = %d after %d; want strictly increasing", bucket, seq, *prev)
		}
		*prev = seq
		return nil
	}
	// Within one transaction, on a bucket that does not exist yet.
	update(t, s, func(tx engine.Tx) error {
		for range 5 {
			if err := next(tx, "seq", &last); err != nil {
				return err
			}
		}
		return nil
	})
	// Across transactions.
	for range 5 {
		update(t, s, func(tx engine.Tx) error { return next(tx, "seq", &last) })
	}
	// Buckets have their own counters, each increasing.
	var other uint64
	update(t, s, func(tx engine.Tx) error {
		for range 3 {
			if err := next(tx, "other", &other); err != nil {
				return err
			}
			if err := next(tx, "seq", &last); err != nil {
				return err
			}
		}
		return nil
	})
	// The counter is not a key: it does not show in Scan or disturb keys.
	put(t, s, "seq", "k", "v")
	update(t, s, func(tx engine.Tx) error { return next(tx, "seq", &last) })
	if got := scan(t, s, "seq", ""); fmt.Sprint(got) != "[{k v}]" {
		t.Fatalf("Scan of bucket with a counter = %q; want only [{k v}]", got)
	}
	wantValue(t, s, "seq", "k", "v")
}

func testConcurrent(t *testing.T, s engine.Store) {
	const (
		writers = 8
		perW    = 25
		readers = 4
	)
	put(t, s, "c", "n", "0")
	put(t, s, "mirror", "n", "0")

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		seqs     = map[uint64]bool{}
		done     = make(chan struct{})
		errs     = make(chan error, writers+readers)
		readerWG sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range perW {
				var seq uint64
				err := s.Update(t.Context(), func(tx engine.Tx) error {
					v, err := tx.Get("c", "n")
					if err != nil {
						return err
					}
					var n int
					if _, err := fmt.Sscan(string(v), &n); err != nil {
						return err
					}
					next := []byte(fmt.Sprint(n + 1))
					if err := tx.Put("c", "n", next); err != nil {
						return err
					}
					if err := tx.Put("mirror", "n", next); err != nil {
						return err
					}
					if err := tx.Put("w", fmt.Sprintf("%d/%03d", w, i), next); err != nil {
						return err
					}
					seq, err = tx.NextSequence("ids")
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d Update %d: %w", w, i, err)
					return
				}
				mu.Lock()
				if seqs[seq] {
					mu.Unlock()
					errs <- fmt.Errorf("NextSequence returned %d twice", seq)
					return
				}
				seqs[seq] = true
				mu.Unlock()
			}
		})
	}
	for r := range readers {
		readerWG.Go(func() {
			prev := -1
			for reads := 0; ; reads++ {
				select {
				case <-done:
					if reads > 0 {
						return
					}
				default:
				}
				err := s.View(t.Context(), func(tx engine.Tx) error {
					a, err := tx.Get("c", "n")
					if err != nil {
						return err
					}
					b, err := tx.Get("mirror", "n")
					if err != nil {
						return err
					}
					if !bytes.Equal(a, b) {
						return fmt.Errorf("view saw c/n=%s but mirror/n=%s: not a consistent snapshot", a, b)
					}
					var n int
					if _, err := fmt.Sscan(string(a), &n); err != nil {
						return err
					}
					if n < prev {
						return fmt.Errorf("counter went back from %d to %d", prev, n)
					}
					prev = n
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readerWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	wantValue(t, s, "c", "n", fmt.Sprint(writers*perW))
	wantValue(t, s, "mirror", "n", fmt.Sprint(writers*perW))
	if got := scan(t, s, "w", ""); len(got) != writers*perW {
		t.Fatalf("%d per-writer keys; want %d", len(got), writers*perW)
	}
	if len(seqs) != writers*perW {
		t.Fatalf("%d distinct sequence numbers; want %d", len(seqs), writers*perW)
	}
}

// testConcurrentFailures runs many concurrent Updates of which some fail
// after writing (new keys, an overwrite, a delete, a sequence increment, a
// new bucket). Each fn must run exactly once; each failing Update returns
// its own error and leaves nothing behind; every other Update commits
// whatever the failures around it; and no View ever sees a failed write.
// A store that shares one commit among concurrent Updates (group commit)
// must still isolate them this way.
func testConcurrentFailures(t *testing.T, s engine.Store) {
	const (
		writers = 16
		perW    = 20
	)
	put(t, s, "keep", "k", "kept")
	put(t, s, "n", "count", "0")

	failing := func(w, i int) bool { return (w+i)%3 == 0 }
	type outcome struct {
		calls int
		seq   uint64
		err   error
	}
	var (
		wg       sync.WaitGroup
		outcomes [writers][perW]outcome
		done     = make(chan struct{})
		readErr  = make(chan error, 1)
	)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			err := s.View(t.Context(), func(tx engine.Tx) error {
				if v, err := tx.Get("keep", "k"); err != nil || string(v) != "kept" {
					return fmt.Errorf("keep/k = %q, %v while failing Updates overwrite it", v, err)
				}
				n, err := tx.Get("n", "count")
				if err != nil {
					return err
				}
				ok := 0
				if err := tx.Scan("ok", "", func(string, []byte) error { ok++; return nil }); err != nil {
					return err
				}
				if string(n) != fmt.Sprint(ok) {
					return fmt.Errorf("snapshot has count %s but %d committed keys", n, ok)
				}
				return tx.Scan("failed", "", func(k string, _ []byte) error {
					return fmt.Errorf("a failed Update's key %q is visible", k)
				})
			})
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for i := range perW {
				o := &outcomes[w][i]
				fail := failing(w, i)
				o.err = s.Update(t.Context(), func(tx engine.Tx) error {
					o.calls++
					v, err := tx.Get("n", "count")
					if err != nil {
						return err
					}
					var n int
					if _, err := fmt.Sscan(string(v), &n); err != nil {
						return err
					}
					if err := tx.Put("n", "count", []byte(fmt.Sprint(n+1))); err != nil {
						return err
					}
					if o.seq, err = tx.NextSequence("ids"); err != nil {
						return err
					}
					key := fmt.Sprintf("%02d/%02d", w, i)
					if !fail {
						return tx.Put("ok", key, []byte(key))
					}
					for _, err := range []error{
						tx.Put("failed", key, []byte(key)),
						tx.Put("keep", "k", []byte("overwritten by "+key)),
						tx.Delete("n", "count"),
						tx.Put(fmt.Sprintf("bucket-%s", key), "k", nil),
					} {
						if err != nil {
							return err
						}
					}
					return failure{w, i}
				})
			}
		})
	}
	wg.Wait()
	close(done)
	if err := <-readErr; err != nil {
		t.Error(err)
	}

	succeeded := 0
	seqs := map[uint64]bool{}
	for w := range writers {
		for i := range perW {
			o := outcomes[w][i]
			if o.calls != 1 {
				t.Errorf("Update %d/%d ran its fn %d times; want once", w, i, o.calls)
			}
			key := fmt.Sprintf("%02d/%02d", w, i)
			if failing(w, i) {
				if want := (failure{w, i}); !errors.Is(o.err, want) {
					t.Errorf("failing Update %s = %v; want its own error %v", key, o.err, want)
				}
				wantMissing(t, s, "failed", key)
				if got := scan(t, s, "bucket-"+key, ""); len(got) != 0 {
					t.Errorf("bucket of failed Update %s holds %v", key, got)
				}
				continue
			}
			if o.err != nil {
				t.Errorf("Update %s = %v; want nil (only other Updates failed)", key, o.err)
				continue
			}
			succeeded++
			wantValue(t, s, "ok", key, key)
			if seqs[o.seq] {
				t.Errorf("NextSequence returned %d to two committed Updates", o.seq)
			}
			seqs[o.seq] = true
		}
	}
	wantValue(t, s, "n", "count", fmt.Sprint(succeeded))
	wantValue(t, s, "keep", "k", "kept")
	if got := scan(t, s, "ok", ""); len(got) != succeeded {
		t.Errorf("%d committed keys; want %d", len(got), succeeded)
	}
}

// failure is the error of one failing Update in testConcurrentFailures;
// comparable, so errors.Is tells whose it is.
type failure struct{ w, i int }

func (f failure) Error() string { return fmt.Sprintf("update %d/%d fails on purpose", f.w, f.i) }

func testContextDone(t *testing.T, s engine.Store) {
	put(t, s, "b", "k", "v")
	tests := []struct {
		name string
		ctx  func() context.Context
		want error
	}{
		{"canceled", func() context.Context {
			c, cancel := context.WithCancel(context.Background())
			cancel()
			return c
		}, context.Canceled},
		{"deadline exceeded", func() context.Context {
			c, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			t.Cleanup(cancel)
			return c
		}, context.DeadlineExceeded},
		{"canceled with cause", func() context.Context {
			c, cancel := context.WithCancelCause(context.Background())
			cancel(errors.New("client went away"))
			return c
		}, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.ctx()
			err := s.Update(c, func(tx engine.Tx) error {
				return tx.Put("b", "k", []byte("written"))
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("Update with done context = %v; want %v", err, tc.want)
			}
			err = s.View(c, func(tx engine.Tx) error { return nil })
			if !errors.Is(err, tc.want) {
				t.Errorf("View with done context = %v; want %v", err, tc.want)
			}
			wantValue(t, s, "b", "k", "v")
		})
	}
}

func testClosed(t *testing.T, s engine.Store) {
	put(t, s, "b", "k", "v")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	fn := func(engine.Tx) error { called = true; return nil }
	if err := s.View(ctx(t), fn); !errors.Is(err, engine.ErrStoreClosed) {
		t.Errorf("View after Close = %v; want engine.ErrStoreClosed", err)
	}
	if err := s.Update(ctx(t), fn); !errors.Is(err, engine.ErrStoreClosed) {
		t.Errorf("Update after Close = %v; want engine.ErrStoreClosed", err)
	}
	if err := s.Close(); !errors.Is(err, engine.ErrStoreClosed) {
		t.Errorf("second Close = %v; want engine.ErrStoreClosed", err)
	}
	if called {
		t.Errorf("fn ran on a closed store")
	}
}

// orderedKeys are put by testScanFrom and testScanReverse, each with value
// "v"+key, in byte order ("a" < "a\x00" < "a/1" < "a\xff" < "b" < "b/1"
// < "c\xff\xff").
var orderedKeys = []string{"a", "a\x00", "a/1", "a\xff", "b", "b/1", "c\xff\xff"}

func putOrdered(t *testing.T, s engine.Store) {
	t.Helper()
	var kv []string
	for i := len(orderedKeys) - 1; i >= 0; i-- { // out of order
		kv = append(kv, orderedKeys[i], "v"+orderedKeys[i])
	}
	put(t, s, "s", kv...)
	put(t, s, "other", "a", "x", "zz", "x") // not in "s"
}

func testScanFrom(t *testing.T, s engine.Store) {
	putOrdered(t, s)
	all := orderedKeys
	tests := []struct {
		from string
		want []string
	}{
		{"", all},
		{"\x00", all},
		{"a", all},             // exact first key
		{"a\x00", all[1:]},     // exact key, not a prefix match
		{"a\x00\x00", all[2:]}, // between keys
		{"a/", all[2:]},
		{"a/1", all[2:]},
		{"a/10", all[3:]},
		{"b", all[4:]},
		{"b/0", all[5:]},
		{"c", all[6:]},
		{"c\xff\xff", all[6:]}, // exact last key
		{"c\xff\xff\x00", nil}, // just beyond the end
		{"d", nil},             // far beyond the end
		{"\xff", nil},
	}
	for _, tc := range tests {
		if got := keys(t, s, byFrom, "s", tc.from); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("ScanFrom(%q) = %q; want %q", tc.from, got, tc.want)
		}
	}

	// Large bucket: every start point yields exactly the keys from there on.
	const n = 1500
	update(t, s, func(tx engine.Tx) error {
		for i := range n {
			k := fmt.Sprintf("k%05d", (i*7919)%n*2) // even numbers, scrambled
			if err := tx.Put("big", k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, start := range []int{0, 1, 2, 999, 1000, 2997, 2998, 2999, 5000} {
		got := keys(t, s, byFrom, "big", fmt.Sprintf("k%05d", start))
		first := (start + 1) / 2 // first even number >= start, halved
		if want := max(n-first, 0); len(got) != want {
			t.Errorf("ScanFrom(k%05d) returned %d keys; want %d", start, len(got), want)
			continue
		}
		for i, k := range got {
			if want := fmt.Sprintf("k%05d", (first+i)*2); k != want {
				t.Errorf("ScanFrom(k%05d) key %d = %q; want %q", start, i, k, want)
				break
			}
		}
	}
}

func testScanReverse(t *testing.T, s engine.Store) {
	putOrdered(t, s)
	rev := slices.Clone(orderedKeys)
	slices.Reverse(rev)
	// rev: c\xff\xff, b/1, b, a\xff, a/1, a\x00, a
	tests := []struct {
		from string
		want []string
	}{
		{"", rev},     // from the last key
		{"\xff", rev}, // beyond the end
		{"d", rev},
		{"c\xff\xff\x00", rev},
		{"c\xff\xff", rev}, // exact last key
		{"c\xff", rev[1:]}, // between keys
		{"c", rev[1:]},
		{"b/1", rev[1:]},
		{"b/0", rev[2:]},
		{"b", rev[2:]},
		{"a\xff", rev[3:]},
		{"a/2", rev[4:]},
		{"a/1", rev[4:]},
		{"a/", rev[5:]},
		{"a\x00", rev[5:]},
		{"a\x00\x00", rev[5:]},
		{"a", rev[6:]}, // exact first key
		{"\x00", nil},  // before the first key
		{"Z", nil},
	}
	for _, tc := range tests {
		if got := keys(t, s, byReverse, "s", tc.from); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("ScanReverse(%q) = %q; want %q", tc.from, got, tc.want)
		}
	}

	// Large bucket, across pages.
	const n = 1500
	update(t, s, func(tx engine.Tx) error {
		for i := range n {
			k := fmt.Sprintf("k%05d", (i*7919)%n)
			if err := tx.Put("big", k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, from := range []string{"", "k01499", "k01000", "k00000", "k000005", "k"} {
		got := keys(t, s, byReverse, "big", from)
		want := n
		if from != "" {
			want = 0
			for i := range n {
				if fmt.Sprintf("k%05d", i) <= from {
					want++
				}
			}
		}
		if len(got) != want {
			t.Errorf("ScanReverse(%q) returned %d keys; want %d", from, len(got), want)
			continue
		}
		for i, k := range got {
			if w := fmt.Sprintf("k%05d", want-1-i); k != w {
				t.Errorf("ScanReverse(%q) key %d = %q; want %q", from, i, k, w)
				break
			}
		}
	}
}

func testScanErrStop(t *testing.T, s engine.Store) {
	put(t, s, "s", "k1", "vk1", "k2", "vk2", "k3", "vk3", "k4", "vk4")
	if engine.ErrStop.Error() != "engine: stop" {
		t.Errorf("ErrStop = %q; want \"engine: stop\"", engine.ErrStop)
	}
	scans := []struct {
		name string
		scan scanFn
		from string
		want []string // keys in order, before any stop
	}{
		{"Scan", byPrefix, "k", []string{"k1", "k2", "k3", "k4"}},
		{"ScanFrom", byFrom, "k2", []string{"k2", "k3", "k4"}},
		{"ScanReverse", byReverse, "", []string{"k4", "k3", "k2", "k1"}},
	}
	stops := []struct {
		name   string
		stopAt int
		err    error
	}{
		{"first", 1, engine.ErrStop},
		{"second", 2, engine.ErrStop},
		{"last", 3, engine.ErrStop},
		{"wrapped", 2, fmt.Errorf("enough: %w", engine.ErrStop)},
		{"joined", 2, errors.Join(errors.New("page full"), engine.ErrStop)},
	}
	for _, sc := range scans {
		for _, st := range stops {
			t.Run(sc.name+"/"+st.name, func(t *testing.T) {
				var seen []string
				var scanErr error
				view(t, s, func(tx engine.Tx) error {
					scanErr = sc.scan(tx)("s", sc.from, func(k string, _ []byte) error {
						seen = append(seen, k)
						if len(seen) == st.stopAt {
							return st.err
						}
						return nil
					})
					return nil
				})
				if scanErr != nil {
					t.Fatalf("scan stopped with %v = %v; want nil", st.err, scanErr)
				}
				if want := sc.want[:min(st.stopAt, len(sc.want))]; !slices.Equal(seen, want) {
					t.Fatalf("fn saw %q; want %q (the scan must stop at ErrStop)", seen, want)
				}
			})
		}
		// Other errors still come back unchanged, and stop the scan.
		t.Run(sc.name+"/other error", func(t *testing.T) {
			fail := errors.New("fail")
			calls := 0
			err := s.View(ctx(t), func(tx engine.Tx) error {
				return sc.scan(tx)("s", sc.from, func(string, []byte) error { calls++; return fail })
			})
			if !errors.Is(err, fail) || calls != 1 {
				t.Fatalf("scan = %v after %d calls; want %v after 1", err, calls, fail)
			}
		})
		// A scan stopped by ErrStop leaves its transaction usable: an
		// Update commits.
		t.Run(sc.name+"/update commits", func(t *testing.T) {
			update(t, s, func(tx engine.Tx) error {
				if err := sc.scan(tx)("s", sc.from, func(string, []byte) error { return engine.ErrStop }); err != nil {
					return err
				}
				return tx.Put("after-stop", sc.name, []byte("ok"))
			})
			wantValue(t, s, "after-stop", sc.name, "ok")
		})
	}
}

// testScanFromInsideUpdate checks that ScanFrom and ScanReverse see the
// transaction's own writes and deletes.
func testScanFromInsideUpdate(t *testing.T, s engine.Store) {
	put(t, s, "s", "k1", "vk1", "k3", "vk3", "k5", "vk5")
	update(t, s, func(tx engine.Tx) error {
		if err := tx.Put("s", "k4", []byte("vk4")); err != nil {
			return err
		}
		if err := tx.Delete("s", "k5"); err != nil {
			return err
		}
		var fwd, rev []string
		if err := tx.ScanFrom("s", "k2", func(k string, _ []byte) error { fwd = append(fwd, k); return nil }); err != nil {
			return err
		}
		if err := tx.ScanReverse("s", "k4", func(k string, _ []byte) error { rev = append(rev, k); return nil }); err != nil {
			return err
		}
		if want := []string{"k3", "k4"}; !slices.Equal(fwd, want) {
			t.Errorf("ScanFrom inside Update = %q; want %q", fwd, want)
		}
		if want := []string{"k4", "k3", "k1"}; !slices.Equal(rev, want) {
			t.Errorf("ScanReverse inside Update = %q; want %q", rev, want)
		}
		return nil
	})
}
