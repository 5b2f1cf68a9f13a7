package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/storetest"
)

// open opens a fresh store in a test directory and closes it at the end.
func open(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "data", "dynapi.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, engine.ErrStoreClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	// The production configuration: fsync on every commit.
	storetest.Run(t, func(t *testing.T) engine.Store {
		s, err := Open(filepath.Join(t.TempDir(), "data", "dynapi.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "dynapi.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var seq uint64
	err = s.Update(t.Context(), func(tx engine.Tx) error {
		for i := range 100 {
			if err := tx.Put("records", fmt.Sprintf("r%03d", i), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		if err := tx.Put("empty", "k", nil); err != nil {
			return err
		}
		seq, err = tx.NextSequence("records")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx engine.Tx) error { return tx.Delete("records", "r050") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	err = s.Update(t.Context(), func(tx engine.Tx) error {
		n := 0
		if err := tx.Scan("records", "", func(k string, v []byte) error {
			var i int
			if _, err := fmt.Sscanf(k, "r%d", &i); err != nil || string(v) != fmt.Sprint(i) {
				t.Errorf("%s = %q after reopen", k, v)
			}
			n++
			return nil
		}); err != nil {
			return err
		}
		if n != 99 {
			t.Errorf("%d records after reopen; want 99", n)
		}
		if _, err := tx.Get("records", "r050"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("deleted key after reopen: %v; want ErrNotFound", err)
		}
		if v, err := tx.Get("empty", "k"); err != nil || len(v) != 0 {
			t.Errorf("empty value after reopen = %q, %v", v, err)
		}
		next, err := tx.NextSequence("records")
		if err == nil && next <= seq {
			t.Errorf("NextSequence after reopen = %d; want > %d", next, seq)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	root := t.TempDir()
	path := filepath.Join(root, "data", "sub", "dynapi.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q; want %q", s.Path(), path)
	}
	for _, c := range []struct {
		path string
		dir  bool
	}{
		{filepath.Join(root, "data"), true},
		{filepath.Join(root, "data", "sub"), true},
		{path, false},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() != c.dir {
			t.Fatalf("%s: IsDir = %v", c.path, fi.IsDir())
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v; want no group or other access", c.path, perm)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "dynapi.db")
	first, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	tests := []struct {
		name    string
		timeout time.Duration
		min     time.Duration
		max     time.Duration
	}{
		{"negative fails at once", -1, 0, 500 * time.Millisecond},
		{"short timeout", 150 * time.Millisecond, 50 * time.Millisecond, 2 * time.Second},
		{"default timeout", 0, DefaultTimeout / 2, DefaultTimeout + 2*time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s, err := Open(path, Options{Timeout: tc.timeout})
			took := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("second Open of a locked file succeeded")
			}
			if !errors.Is(err, berrors.ErrTimeout) {
				t.Fatalf("err = %v; want bbolt ErrTimeout", err)
			}
			if want := "boltstore: open " + path + ": timeout"; err.Error() != want {
				t.Errorf("err = %q; want %q", err, want)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("Open gave up after %v; want between %v and %v", took, tc.min, tc.max)
			}
		})
	}

	// The first store still works, and the lock goes with Close.
	if err := first.Update(t.Context(), func(tx engine.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := Open(path, Options{Timeout: -1})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	second.Close()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a bolt file ", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(notDir, "dynapi.db"), // parent is a file
		garbage,
	} {
		s, err := Open(path, Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
			continue
		}
		if !strings.HasPrefix(err.Error(), "boltstore: open "+path+": ") || errors.Unwrap(err) == nil {
			t.Errorf("Open(%q) = %q; want a wrapped error naming the file", path, err)
		}
	}
}

func TestTxErrorsWrapped(t *testing.T) {
	s := open(t, Options{NoSync: true})
	tests := []struct {
		name string
		op   func(tx engine.Tx) error
		want error
	}{
		{"empty key", func(tx engine.Tx) error { return tx.Put("b", "", []byte("v")) }, berrors.ErrKeyRequired},
		{"key too large", func(tx engine.Tx) error { return tx.Put("b", strings.Repeat("k", bolt.MaxKeySize+1), nil) }, berrors.ErrKeyTooLarge},
		{"empty bucket name", func(tx engine.Tx) error { return tx.Put("", "k", []byte("v")) }, berrors.ErrBucketNameRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opErr error
			err := s.Update(t.Context(), func(tx engine.Tx) error {
				opErr = tc.op(tx)
				return opErr
			})
			if !errors.Is(opErr, tc.want) || !strings.HasPrefix(opErr.Error(), "boltstore: ") {
				t.Fatalf("op error = %v; want a boltstore error wrapping %v", opErr, tc.want)
			}
			if err != opErr {
				t.Fatalf("Update = %v; want fn's error %v unchanged", err, opErr)
			}
		})
	}
}

// TestClosedUnderneath covers a bbolt "database not open" reaching a call
// that passed the closed check, as when Close races with it.
func TestClosedUnderneath(t *testing.T) {
	s := open(t, Options{NoSync: true})
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	fn := func(engine.Tx) error { t.Error("fn ran on a closed database"); return nil }
	for name, err := range map[string]error{
		"View":   s.View(t.Context(), fn),
		"Update": s.Update(t.Context(), fn),
	} {
		if !errors.Is(err, engine.ErrStoreClosed) || !strings.HasPrefix(err.Error(), "boltstore: ") {
			t.Errorf("%s = %v; want a boltstore error wrapping engine.ErrStoreClosed", name, err)
		}
	}
}

func TestUpdateWaitHonoursContext(t *testing.T) {
	s := open(t, Options{NoSync: true})
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Update(context.Background(), func(tx engine.Tx) error {
			if err := tx.Put("b", "k", []byte("first")); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	// A second writer gives up when its deadline passes, without running fn.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := s.Update(ctx, func(engine.Tx) error {
		t.Error("fn ran although the writer lock was held")
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update waiting for the lock = %v; want context.DeadlineExceeded", err)
	}

	// Readers are not blocked by the writer and do not see its writes.
	err = s.View(t.Context(), func(tx engine.Tx) error {
		if _, err := tx.Get("b", "k"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("View saw uncommitted write: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx engine.Tx) error { return tx.Put("b", "k2", nil) }); err != nil {
		t.Fatalf("Update after the lock was released: %v", err)
	}
}

func TestCancelDuringUpdateRollsBack(t *testing.T) {
	s := open(t, Options{NoSync: true})
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(tx engine.Tx) error {
		if err := tx.Put("b", "k", []byte("v")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update = %v; want context.Canceled", err)
	}
	err = s.View(t.Context(), func(tx engine.Tx) error {
		if _, err := tx.Get("b", "k"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("write of a cancelled Update is visible: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScanHonoursContext(t *testing.T) {
	s := open(t, Options{NoSync: true})
	err := s.Update(t.Context(), func(tx engine.Tx) error {
		for i := range 3 * ctxCheckEvery {
			if err := tx.Put("b", fmt.Sprintf("k%04d", i), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	seen := 0
	err = s.View(ctx, func(tx engine.Tx) error {
		return tx.Scan("b", "", func(string, []byte) error {
			if seen++; seen == 10 {
				cancel()
			}
			return nil
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("View = %v; want context.Canceled", err)
	}
	if seen >= 3*ctxCheckEvery {
		t.Fatalf("Scan visited all %d keys after cancel", seen)
	}
}

func TestPanicRollsBack(t *testing.T) {
	s := open(t, Options{NoSync: true})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v; want the panic to propagate", r)
			}
		}()
		_ = s.Update(t.Context(), func(tx engine.Tx) error {
			if err := tx.Put("b", "k", []byte("v")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	err := s.Update(ctx, func(tx engine.Tx) error {
		if _, err := tx.Get("b", "k"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("write of a panicking Update is visible: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update after a panic: %v (writer lock not released?)", err)
	}
}

func TestTxAfterCallback(t *testing.T) {
	s := open(t, Options{NoSync: true})
	var kept engine.Tx
	if err := s.Update(t.Context(), func(tx engine.Tx) error {
		kept = tx
		return tx.Put("b", "k", []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	ops := map[string]error{}
	_, ops["Get"] = kept.Get("b", "k")
	ops["Put"] = kept.Put("b", "k", nil)
	ops["Delete"] = kept.Delete("b", "k")
	ops["Scan"] = kept.Scan("b", "", func(string, []byte) error { return nil })
	ops["ScanFrom"] = kept.ScanFrom("b", "", func(string, []byte) error { return nil })
	ops["ScanReverse"] = kept.ScanReverse("b", "", func(string, []byte) error { return nil })
	_, ops["NextSequence"] = kept.NextSequence("b")
	for op, err := range ops {
		if !errors.Is(err, errTxDone) {
			t.Errorf("%s after the callback = %v; want %v", op, err, errTxDone)
		}
	}
}

// TestScanWhileWriting checks that fn may write to the bucket being
// scanned, in every scan direction: every key present at the start is
// visited exactly once, in order.
func TestScanWhileWriting(t *testing.T) {
	const n = 1000
	writes := []struct {
		name  string
		write func(tx engine.Tx, k string) error
		left  int
	}{
		{"delete each", func(tx engine.Tx, k string) error { return tx.Delete("b", k) }, 0},
		{"overwrite each", func(tx engine.Tx, k string) error { return tx.Put("b", k, []byte("new value, longer than before")) }, n},
		{"insert before each", func(tx engine.Tx, k string) error { return tx.Put("b", "a"+k, nil) }, 2 * n},
		{"insert after each", func(tx engine.Tx, k string) error { return tx.Put("b", "z"+k, nil) }, 2 * n},
		{"delete and reinsert", func(tx engine.Tx, k string) error {
			if err := tx.Delete("b", k); err != nil {
				return err
			}
			return tx.Put("b", k, nil)
		}, n},
	}
	scans := []struct {
		name string
		scan func(tx engine.Tx, fn func(string, []byte) error) error
		key  func(i int) string // the i-th key visited
	}{
		{"Scan", func(tx engine.Tx, fn func(string, []byte) error) error { return tx.Scan("b", "k", fn) },
			func(i int) string { return fmt.Sprintf("k%04d", i) }},
		{"ScanFrom", func(tx engine.Tx, fn func(string, []byte) error) error {
			return tx.ScanFrom("b", "k", func(k string, v []byte) error {
				if !strings.HasPrefix(k, "k") {
					return engine.ErrStop
				}
				return fn(k, v)
			})
		}, func(i int) string { return fmt.Sprintf("k%04d", i) }},
		{"ScanReverse", func(tx engine.Tx, fn func(string, []byte) error) error {
			return tx.ScanReverse("b", "k9999", func(k string, v []byte) error {
				if !strings.HasPrefix(k, "k") {
					return engine.ErrStop
				}
				return fn(k, v)
			})
		}, func(i int) string { return fmt.Sprintf("k%04d", n-1-i) }},
	}
	for _, sc := range scans {
		for _, tc := range writes {
			t.Run(sc.name+"/"+tc.name, func(t *testing.T) {
				s := open(t, Options{NoSync: true})
				err := s.Update(t.Context(), func(tx engine.Tx) error {
					for i := range n {
						if err := tx.Put("b", fmt.Sprintf("k%04d", i), []byte("v")); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				err = s.Update(t.Context(), func(tx engine.Tx) error {
					i := 0
					err := sc.scan(tx, func(k string, _ []byte) error {
						if want := sc.key(i); k != want {
							return fmt.Errorf("visit %d: key %q; want %q", i, k, want)
						}
						i++
						return tc.write(tx, k)
					})
					if err == nil && i != n {
						err = fmt.Errorf("visited %d keys; want %d", i, n)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				left := 0
				err = s.View(t.Context(), func(tx engine.Tx) error {
					return tx.Scan("b", "", func(string, []byte) error { left++; return nil })
				})
				if err != nil || left != tc.left {
					t.Fatalf("%d keys left, err %v; want %d", left, err, tc.left)
				}
			})
		}
	}
}

// TestScanReverseOverEmptiedPages covers reverse scans in a write
// transaction whose deletes emptied whole leaf pages, which bbolt's cursor
// does not step over backwards until the commit rebalances the tree.
func TestScanReverseOverEmptiedPages(t *testing.T) {
	const n = 4000
	value := []byte(strings.Repeat("v", 200)) // about 15 keys per page
	key := func(i int) string { return fmt.Sprintf("k%05d", i) }
	tests := []struct {
		name    string
		deleted func(i int) bool
	}{
		{"middle ranges", func(i int) bool { return i >= 1000 && i < 2000 || i >= 2500 && i < 3000 }},
		{"tail", func(i int) bool { return i >= 100 }},
		{"head", func(i int) bool { return i < 3900 }},
		{"all but one", func(i int) bool { return i != 1234 }},
		{"all", func(int) bool { return true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, Options{NoSync: true})
			err := s.Update(t.Context(), func(tx engine.Tx) error {
				for i := range n {
					if err := tx.Put("b", key(i), value); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Update(t.Context(), func(tx engine.Tx) error {
				var want []string
				for i := n - 1; i >= 0; i-- {
					if tc.deleted(i) {
						if err := tx.Delete("b", key(i)); err != nil {
							return err
						}
					} else {
						want = append(want, key(i))
					}
				}
				for _, from := range []string{"", key(n - 1), key(2999), key(1500), key(1000), key(500), key(0)} {
					var got []string
					if err := tx.ScanReverse("b", from, func(k string, _ []byte) error {
						got = append(got, k)
						return nil
					}); err != nil {
						return err
					}
					w := want
					for len(w) > 0 && from != "" && w[0] > from {
						w = w[1:]
					}
					if len(got) != len(w) || (len(w) > 0 && (got[0] != w[0] || got[len(got)-1] != w[len(w)-1])) {
						t.Errorf("ScanReverse(%q) = %d keys (%v...); want %d", from, len(got), got[:min(3, len(got))], len(w))
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
