package viewtx_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/accesstest"
)

// TestUpdateAppliesAfterCommit: what a transaction registers runs only
// once it has committed, Reveal's before OnCommit's before Retract's
// whatever the order registered, and a package's Local state is one per
// transaction; a failed transaction runs nothing and keeps its error.
func TestUpdateAppliesAfterCommit(t *testing.T) {
	w := viewtx.NewWriter(accesstest.Store(t))
	type state struct{ n int }
	key := new(int)
	var ran []string
	err := w.Update(t.Context(), func(tx *viewtx.Tx) error {
		tx.Retract(func() { ran = append(ran, "retract") })
		tx.OnCommit(func() { ran = append(ran, "commit") })
		tx.Reveal(func() { ran = append(ran, "reveal") })
		for range 3 {
			viewtx.Local(tx, key, func() *state {
				tx.Reveal(func() { ran = append(ran, "local") })
				return &state{}
			}).n++
		}
		if got := viewtx.Local(tx, key, func() *state { return nil }).n; got != 3 {
			t.Errorf("local state %d, want 3", got)
		}
		if len(ran) != 0 {
			t.Error("view changes ran before the commit")
		}
		return tx.Put("b", "k", []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"reveal", "local", "commit", "retract"}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}

	ran = nil
	boom := errors.New("boom")
	err = w.Update(t.Context(), func(tx *viewtx.Tx) error {
		tx.Reveal(func() { ran = append(ran, "reveal") })
		tx.OnCommit(func() { ran = append(ran, "commit") })
		if err := tx.Put("b", "k2", []byte("v")); err != nil {
			return err
		}
		return boom
	})
	var e *engine.Error
	if !errors.Is(err, boom) || !errors.As(err, &e) || e.Status != 500 {
		t.Fatalf("err %v, want an internal error caused by boom", err)
	}
	if len(ran) != 0 {
		t.Fatalf("a rolled-back transaction ran %v", ran)
	}
	err = w.View(t.Context(), func(tx engine.Tx) error {
		if _, err := tx.Get("b", "k2"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("rolled-back write: %v", err)
		}
		_, err := tx.Get("b", "k")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// An *engine.Error passes as it is.
	refused := engine.NewError(409, engine.CodeConflict, "no")
	if err := w.Update(t.Context(), func(*viewtx.Tx) error { return refused }); err != refused {
		t.Fatalf("err %v, want the *engine.Error itself", err)
	}
}
