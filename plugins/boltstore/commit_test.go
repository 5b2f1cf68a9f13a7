package boltstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// call is one Update for queued: fn under ctx (nil: the test's).
type call struct {
	ctx context.Context
	fn  func(engine.Tx) error
}

// queued holds the committer inside a first Update, queues the Updates of
// calls behind it, and releases it: they then run in one transaction. It
// returns each queued Update's result and what it panicked with.
func queued(t *testing.T, s *Store, calls []call) ([]error, []any) {
	t.Helper()
	holding, release := make(chan struct{}), make(chan struct{})
	// Each Update, the first included, says when its request is queued.
	inQueue := make(chan struct{}, len(calls)+1)
	s.onQueued = func() { inQueue <- struct{}{} }
	first := make(chan error, 1)
	go func() {
		first <- s.Update(context.Background(), func(tx engine.Tx) error {
			close(holding)
			<-release
			return tx.Put("b", "first", []byte("1"))
		})
	}()
	<-inQueue
	<-holding
	errs := make([]error, len(calls))
	panics := make([]any, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		if c.ctx == nil {
			c.ctx = t.Context()
		}
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			errs[i] = s.Update(c.ctx, c.fn)
		})
		// Queue them in order, so the transaction runs them in order.
		<-inQueue
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first Update: %v", err)
	}
	return errs, panics
}

// txID returns the bbolt transaction id behind tx.
func txID(etx engine.Tx) int { return etx.(*tx).btx.ID() }

func TestGroupCommitSharesTransaction(t *testing.T) {
	s := open(t, Options{})
	ids := make([]int, 5)
	var calls []call
	for i := range ids {
		calls = append(calls, call{fn: func(tx engine.Tx) error {
			ids[i] = txID(tx)
			return tx.Put("b", fmt.Sprint(i), []byte("v"))
		}})
	}
	errs, _ := queued(t, s, calls)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Fatalf("queued Updates ran in transactions %v; want one shared transaction", ids)
		}
		wantKey(t, s, fmt.Sprint(i), "v")
	}
}

// TestGroupCommitIsolatesFailures checks each way a fn can fail in the
// middle of a shared transaction: its writes are undone, the fns before
// and after it commit, and its caller alone learns the failure.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	fail := errors.New("rule broken")
	tests := []struct {
		name      string
		fn        func(cancel context.CancelFunc) func(engine.Tx) error
		wantErr   error
		wantPanic any
	}{
		{"error", func(context.CancelFunc) func(engine.Tx) error {
			return func(tx engine.Tx) error { return errors.Join(scribble(tx), fail) }
		}, fail, nil},
		{"panic", func(context.CancelFunc) func(engine.Tx) error {
			return func(tx engine.Tx) error {
				if err := scribble(tx); err != nil {
					return err
				}
				panic("boom")
			}
		}, nil, "boom"},
		{"context ends while fn runs", func(cancel context.CancelFunc) func(engine.Tx) error {
			return func(tx engine.Tx) error { err := scribble(tx); cancel(); return err }
		}, context.Canceled, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, Options{NoSync: true})
			if err := s.Update(t.Context(), func(tx engine.Tx) error {
				if err := tx.Put("b", "old", []byte("kept")); err != nil {
					return err
				}
				_, err := tx.NextSequence("b")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var ids, seqs [3]uint64
			writer := func(i int) func(engine.Tx) error {
				return func(tx engine.Tx) error {
					ids[i] = uint64(txID(tx))
					var err error
					if seqs[i], err = tx.NextSequence("b"); err != nil {
						return err
					}
					return tx.Put("b", fmt.Sprint("ok", i), []byte("v"))
				}
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			failing := tc.fn(cancel)
			errs, panics := queued(t, s, []call{
				{fn: writer(0)},
				{ctx: ctx, fn: func(tx engine.Tx) error { ids[1] = uint64(txID(tx)); return failing(tx) }},
				{fn: writer(2)},
			})
			if ids[0] != ids[1] || ids[1] != ids[2] {
				t.Fatalf("Updates ran in transactions %v; want one shared transaction", ids)
			}
			if errs[0] != nil || errs[2] != nil || panics[0] != nil || panics[2] != nil {
				t.Fatalf("Updates around the failing one = %v, %v (panics %v, %v); want nil", errs[0], errs[2], panics[0], panics[2])
			}
			if panics[1] != tc.wantPanic {
				t.Errorf("failing Update panicked with %v; want %v", panics[1], tc.wantPanic)
			}
			if tc.wantPanic == nil && !errors.Is(errs[1], tc.wantErr) {
				t.Errorf("failing Update = %v; want %v", errs[1], tc.wantErr)
			}
			// The failing fn's writes are gone, the others' stay.
			wantKey(t, s, "old", "kept")
			wantKey(t, s, "ok0", "v")
			wantKey(t, s, "ok2", "v")
			err := s.View(t.Context(), func(tx engine.Tx) error {
				if _, err := tx.Get("b", "new"); !errors.Is(err, engine.ErrNotFound) {
					return fmt.Errorf("b/new of the failed fn: %v; want not found", err)
				}
				if _, err := tx.Get("fresh", "k"); !errors.Is(err, engine.ErrNotFound) {
					return fmt.Errorf("bucket of the failed fn: %v; want not found", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Its sequence step is undone: the next fn got the next number.
			if seqs[0] != 2 || seqs[2] != 3 {
				t.Errorf("sequence numbers around the failed fn = %d, %d; want 2, 3", seqs[0], seqs[2])
			}
		})
	}
}

// scribble writes everything a failing fn could: an overwrite, a delete,
// a new key, a new bucket and a sequence step.
func scribble(tx engine.Tx) error {
	_, seqErr := tx.NextSequence("b")
	return errors.Join(
		tx.Put("b", "old", []byte("overwritten")),
		tx.Put("b", "new", []byte("x")),
		tx.Delete("b", "ok0"),
		tx.Put("fresh", "k", []byte("x")),
		seqErr,
	)
}

func wantKey(t *testing.T, s *Store, key, want string) {
	t.Helper()
	err := s.View(t.Context(), func(tx engine.Tx) error {
		v, err := tx.Get("b", key)
		if err != nil {
			return err
		}
		if string(v) != want {
			return fmt.Errorf("b/%s = %q; want %q", key, v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
