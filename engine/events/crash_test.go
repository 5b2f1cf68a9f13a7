package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/storetest"
)

// crashEnv tells TestOutboxCrashChild its data directory and the
// receiver's URL, tab-separated; crashRuns is how many times
// TestOutboxCrash kills it.
const (
	crashEnv  = "DYNAPI_EVENTS_CRASH"
	crashRuns = 20
)

// TestOutboxCrashChild is the process TestOutboxCrash kills: its worker
// delivers to the parent's receiver while it commits events one by one,
// printing "ack {id}" once each is committed.
func TestOutboxCrashChild(t *testing.T) {
	dir, url, ok := strings.Cut(os.Getenv(crashEnv), "\t")
	if !ok {
		t.Skip("run by TestOutboxCrash")
	}
	h := open(t, dir, events.Options{PollInterval: time.Millisecond})
	if subs, err := h.svc.Subscriptions(context.Background(), events.OwnerAll, ""); err != nil {
		t.Fatal(err)
	} else if len(subs) == 0 {
		h.webhook(t, url)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.svc.Run(ctx)
	for k := 0; ; k++ {
		id := fmt.Sprintf("%d-%d", time.Now().UnixNano(), k)
		h.emit(t, &events.Event{ID: id, Type: "order.shipped", Subject: "orders/" + id})
		h.svc.Kick()
		fmt.Println("ack", id)
	}
}

// TestOutboxCrash kills a process with SIGKILL while it commits events and
// delivers them, crashRuns times on the same store, and after each kill
// starts again and delivers: every event whose commit was acknowledged
// reaches the receiver (at least once), none is lost.
func TestOutboxCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	var mu sync.Mutex
	got := map[string]int{}
	rcv := httptest.NewServer(recordIDs(&mu, got))
	defer rcv.Close()
	acked := map[string]bool{}
	for run := range crashRuns {
		n := storetest.KillChild(t, storetest.Crash{Child: "TestOutboxCrashChild",
			Env: crashEnv + "=" + dir + "\t" + rcv.URL, After: 5 + run, Limit: 20 * time.Second,
			Jitter: 20 * time.Millisecond, Timeout: time.Minute}, func(line string) bool {
			id, ok := strings.CutPrefix(line, "ack ")
			if ok {
				acked[id] = true
			}
			return ok
		})
		if n == 0 {
			t.Fatalf("run %d acknowledged nothing", run)
		}
		// Restart: deliveries claimed when the child died are due again
		// once their lease ends.
		h := open(t, dir, events.Options{})
		h.clock.Advance(3 * time.Minute)
		h.drain(t)
		if err := h.store.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for id := range acked {
			if got[id] == 0 {
				t.Errorf("run %d: event %s was committed and never delivered", run, id)
			}
		}
		mu.Unlock()
		if t.Failed() {
			return
		}
	}
	t.Logf("%d runs, %d events committed, all delivered", crashRuns, len(acked))
}

// recordIDs counts the deliveries of each event id.
func recordIDs(mu *sync.Mutex, got map[string]int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ ID string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		got[b.ID]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
}
