package dynapi_test

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

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/storetest"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// eventsCrashEnv tells TestEventsCrashChild its data directory and the
// receiver's URL, tab-separated; eventsCrashRuns is how many times
// TestEventsCrash kills it.
const (
	eventsCrashEnv  = "DYNAPI_EVENTS_ENGINE_CRASH"
	eventsCrashRuns = 20
)

// TestEventsCrashChild is the server TestEventsCrash kills: subscribed at
// first start to the parent's receiver, it creates entity records over
// HTTP until killed, printing "ack {record id}" once each 201 arrived.
func TestEventsCrashChild(t *testing.T) {
	dir, url, ok := strings.Cut(os.Getenv(eventsCrashEnv), "\t")
	if !ok {
		t.Skip("run by TestEventsCrash")
	}
	inst := enginetest.New(t, enginetest.InDir(dir))
	subs, err := inst.Events.Subscriptions(context.Background(), events.OwnerBank, events.KindWebhook)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) == 0 {
		if _, err := inst.Events.Subscribe(context.Background(), audit.Actor{UserID: "crash"}, events.NewSubscription{
			Kind: events.KindWebhook, URL: url, EventTypes: []string{events.TypeRecordCreated}},
			events.Pointers{URL: "/url", EventTypes: "/event_types"}); err != nil {
			t.Fatal(err)
		}
		inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"CrashNote": {"required": ["n"], "properties": {"n": {"type": "integer", "example": 1}}}}`)
	}
	for k := 0; ; k++ {
		r := inst.Admin().Post(t, "/entities/CrashNote", []byte(fmt.Sprintf(`{"n": %d}`, k)))
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		fmt.Println("ack", r.JSON(t)["crash_note"].(map[string]any)["crash_note_id"])
	}
}

// TestEventsCrash kills a server with SIGKILL while it creates entity
// records (each committed with its record.created event) and delivers them
// to a slow receiver, so that a kill lands between a commit and its
// delivery; after each kill the server starts again on the same data, and
// every record whose creation was acknowledged reaches the receiver.
func TestEventsCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	var mu sync.Mutex
	got := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Data struct{ ID string } `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		time.Sleep(20 * time.Millisecond) // slower than the child writes
		mu.Lock()
		got[b.Data.ID]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	acked := map[string]bool{}
	pending := 0 // acknowledged, not yet delivered when the child died
	for run := range eventsCrashRuns {
		storetest.KillChild(t, storetest.Crash{Child: "TestEventsCrashChild", Env: eventsCrashEnv + "=" + dir + "\t" + rcv.URL,
			After: 3 + run%5, Limit: time.Minute, Jitter: 50 * time.Millisecond, Timeout: 2 * time.Minute}, func(line string) bool {
			id, ok := strings.CutPrefix(line, "ack ")
			if ok {
				acked[id] = true
			}
			return ok
		})
		mu.Lock()
		for id := range acked {
			if got[id] == 0 {
				pending++
			}
		}
		mu.Unlock()
		// Deliveries claimed when the child died are due again once their
		// lease (2 minutes) ends: the restarted engine's clock is past it.
		inst := enginetest.New(t, enginetest.InDir(dir))
		inst.Clock.Advance(3 * time.Minute)
		inst.Events.Kick()
		deadline := time.Now().Add(30 * time.Second)
		for missing := len(acked); missing > 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			missing = 0
			for id := range acked {
				if got[id] == 0 {
					missing++
				}
			}
			mu.Unlock()
		}
		mu.Lock()
		for id := range acked {
			if got[id] == 0 {
				t.Errorf("run %d: record %s was acknowledged and its event never delivered", run, id)
			}
		}
		mu.Unlock()
		inst.Close(t)
		if t.Failed() {
			return
		}
	}
	if pending == 0 {
		t.Fatal("no kill landed between a commit and its delivery")
	}
	t.Logf("%d runs, %d records acknowledged, %d of them delivered only after a restart, every event delivered", eventsCrashRuns, len(acked), pending)
}
