package audit

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// newLog returns a log on a fresh bolt store.
func newLog(t *testing.T) (*Log, engine.Store) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "audit.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return New(st, nil), st
}

func TestScanAfterLargeSequences(t *testing.T) {
	l, store := newLog(t)
	seqs := []uint64{1, 9, 10, 11, 99, 100, 101, 1000, 123456789, 1<<64 - 1}
	err := store.Update(t.Context(), func(tx engine.Tx) error {
		for _, s := range seqs {
			if err := kvjson.Put(tx, bucket, key(s), Entry{Seq: s, Action: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, after := range append([]uint64{0}, seqs...) {
		page, _, err := l.List(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, p := range page {
			got = append(got, p.Seq)
		}
		if want := seqs[i:]; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("after %d: %v, want %v", after, got, want)
		}
	}
	// An after that is not a stored key.
	page, _, _ := l.List(t.Context(), 50, 1000)
	if len(page) != 6 || page[0].Seq != 99 {
		t.Fatalf("after 50: %v", page)
	}
}

// TestRecordRedactsAndRefusesEmptyAction: details under secret-looking
// keys never reach the log, at any depth, and an entry needs an action.
func TestRecordRedactsAndRefusesEmptyAction(t *testing.T) {
	l, _ := newLog(t)
	a := Actor{UserID: "u", ConsumerID: "c", CorrelationID: "corr", Address: "10.0.0.1"}
	if err := l.Record(t.Context(), a, "", "t", "", nil); err == nil {
		t.Fatal("an entry without action was recorded")
	}
	err := l.Record(t.Context(), a, "x.create", "t", "b1", map[string]any{
		"title": "x", "client_secret": "s3cr3t", "Token": "tok", "nested": map[string]any{"Password": "hunter2", "ok": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, next, err := l.List(t.Context(), 0, 0)
	if err != nil || next != 0 || len(list) != 1 {
		t.Fatalf("list %v %d %v", list, next, err)
	}
	e := list[0]
	if e.Seq != 1 || e.UserID != "u" || e.ConsumerID != "c" || e.CorrelationID != "corr" || e.Address != "10.0.0.1" ||
		e.Target != "t" || e.BankID != "b1" || e.At.IsZero() {
		t.Errorf("entry %+v", e)
	}
	if e.Details["title"] != "x" || e.Details["client_secret"] != "[redacted]" || e.Details["Token"] != "[redacted]" ||
		e.Details["nested"].(map[string]any)["Password"] != "[redacted]" {
		t.Errorf("details %v", e.Details)
	}
}
