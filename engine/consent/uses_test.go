package consent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// usesService is a Service on store whose use log has opts.
func usesService(t *testing.T, store engine.Store, opts useLogOptions) *Service {
	t.Helper()
	s := NewService(store, audit.New(store, nil), nil)
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.uses = newUseLog(store, opts)
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

var epoch = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// use is the i-th use of a test, at epoch plus i seconds.
func use(i int) Use {
	return Use{At: epoch.Add(time.Duration(i) * time.Second), OperationID: "GetAccounts", Method: "GET", Path: fmt.Sprintf("/accounts/%d", i), Status: 200}
}

func paths(uses []Use) string {
	var out []string
	for _, u := range uses {
		out = append(out, strings.TrimPrefix(u.Path, "/accounts/"))
	}
	return strings.Join(out, ",")
}

// TestRecentUses: the last MaxRecentUses uses of a consent, newest first
// by their time whatever order they were noted in, each field bounded.
func TestRecentUses(t *testing.T) {
	store := authtest.OpenStore(t, "")
	s := usesService(t, store, useLogOptions{})
	for _, tc := range []struct {
		name  string
		order []int
		want  string
	}{
		{"in order", []int{1, 2, 3}, "3,2,1"},
		{"out of order", []int{5, 1, 3}, "5,3,1"},
		{"more than kept", func() []int {
			var all []int
			for i := range 25 {
				all = append(all, i)
			}
			return all
		}(), "24,23,22,21,20,19,18,17,16,15,14,13,12,11,10,9,8,7,6,5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "consent-" + tc.name
			for _, i := range tc.order {
				s.NoteUse(id, use(i))
			}
			if got := paths(s.RecentUses(t.Context(), id)); got != tc.want {
				t.Errorf("uses %s; want %s", got, tc.want)
			}
		})
	}
	t.Run("bounded fields", func(t *testing.T) {
		long := use(1)
		long.Path = "/" + strings.Repeat("p", 2000)
		s.NoteUse("long", long)
		if got := s.RecentUses(t.Context(), "long"); len(got) != 1 || len(got[0].Path) != 512 {
			t.Errorf("a long path kept as %d bytes; want 512", len(got[0].Path))
		}
	})
	if got := s.RecentUses(t.Context(), "never-used"); len(got) != 0 {
		t.Errorf("uses of a consent never used: %v", got)
	}
}

// TestUsesBoundedConsents: past maxConsents in memory, the least recently
// used consents are stored and forgotten, and read back from the store.
func TestUsesBoundedConsents(t *testing.T) {
	store := authtest.OpenStore(t, "")
	s := usesService(t, store, useLogOptions{maxConsents: 10})
	for i := range 25 {
		s.NoteUse(fmt.Sprintf("c%02d", i), use(i))
	}
	if got := paths(s.RecentUses(t.Context(), "c00")); got != "0" {
		t.Errorf("the first consent's uses, forgotten in memory: %q; want 0 from the store", got)
	}
	s.uses.mu.Lock()
	held := len(s.uses.byID)
	s.uses.mu.Unlock()
	if held > 10 {
		t.Errorf("%d consents in memory; want at most 10", held)
	}
	s.NoteUse("c00", use(30))
	if got := paths(s.RecentUses(t.Context(), "c00")); got != "30,0" {
		t.Errorf("a forgotten consent used again: %q; want 30,0", got)
	}
}

// TestUsesSurviveRestart: Close stores the uses, so a service started
// again on the store reads them, and keeps adding to them.
func TestUsesSurviveRestart(t *testing.T) {
	store := authtest.OpenStore(t, "")
	first := usesService(t, store, useLogOptions{})
	for i := range MaxRecentUses {
		first.NoteUse("c", use(i))
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	first.NoteUse("c", use(99)) // after Close: dropped
	again := usesService(t, store, useLogOptions{})
	if got := again.RecentUses(t.Context(), "c"); len(got) != MaxRecentUses || got[0].Path != "/accounts/19" {
		t.Fatalf("after a restart: %s", paths(got))
	}
	again.NoteUse("c", use(20))
	if got := again.RecentUses(t.Context(), "c"); len(got) != MaxRecentUses || got[0].Path != "/accounts/20" || got[MaxRecentUses-1].Path != "/accounts/1" {
		t.Errorf("a use after the restart: %s", paths(got))
	}
}

// TestUsesStoredPeriodically: without Close, the worker stores the uses
// every flushEvery.
func TestUsesStoredPeriodically(t *testing.T) {
	store := authtest.OpenStore(t, "")
	s := usesService(t, store, useLogOptions{flushEvery: 10 * time.Millisecond})
	s.NoteUse("c", use(1))
	deadline := time.Now().Add(5 * time.Second)
	for {
		var stored *[]Use
		err := store.View(t.Context(), func(tx engine.Tx) error {
			var err error
			stored, err = kvjson.Get[[]Use](tx, usesBucket, "c")
			return err
		})
		if err == nil && len(*stored) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not stored after 5s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNoteUseAllocatesNothing: NoteUse, on every call under a consent,
// only queues the use.
func TestNoteUseAllocatesNothing(t *testing.T) {
	s := usesService(t, authtest.OpenStore(t, ""), useLogOptions{})
	u := use(1)
	if n := testing.AllocsPerRun(1000, func() { s.NoteUse("c", u) }); n != 0 {
		t.Errorf("NoteUse allocates %v times; want 0", n)
	}
}

func BenchmarkNoteUse(b *testing.B) {
	store := authtest.OpenStore(b, "")
	s := NewService(store, audit.New(store, nil), nil)
	defer func() { _ = s.Close(b.Context()) }()
	u := use(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.NoteUse("c", u)
		}
	})
}
