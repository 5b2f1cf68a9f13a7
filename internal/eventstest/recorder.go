// Package eventstest receives, in tests, the events a running engine
// delivers: a loopback receiver subscribed as the bank's systems to every
// event, so tests see events as a receiver does, after the outbox and the
// worker.
package eventstest

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// Recorder keeps the events its webhook received, each once (by event
// id).
type Recorder struct {
	inst *enginetest.Engine
	mu   sync.Mutex
	got  map[string]events.Event
}

// Record subscribes a loopback receiver to every event inst delivers.
func Record(t testing.TB, inst *enginetest.Engine) *Recorder {
	t.Helper()
	r := &Recorder{inst: inst, got: map[string]events.Event{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var b struct {
			Type          string          `json:"type"`
			Timestamp     time.Time       `json:"timestamp"`
			ID            string          `json:"id"`
			Subject       string          `json:"subject"`
			Seq           uint64          `json:"seq"`
			BankID        string          `json:"bank_id"`
			ConsumerID    string          `json:"consumer_id"`
			CorrelationID string          `json:"correlation_id"`
			Data          json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(req.Body).Decode(&b); err != nil {
			t.Errorf("a webhook body that is not JSON: %v", err)
		}
		r.mu.Lock()
		r.got[b.ID] = events.Event{ID: b.ID, Type: b.Type, Subject: b.Subject, Seq: b.Seq, BankID: b.BankID,
			ConsumerID: b.ConsumerID, OccurredAt: b.Timestamp, CorrelationID: b.CorrelationID, Data: b.Data}
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	if _, err := inst.Events.Subscribe(context.Background(), audit.Actor{UserID: "test"}, events.NewSubscription{
		Kind: events.KindWebhook, URL: srv.URL}, events.Pointers{URL: "/url", EventTypes: "/event_types"}); err != nil {
		t.Fatalf("subscribe the recorder: %v", err)
	}
	return r
}

// Under returns the events received whose subject starts with prefix,
// after delivering everything committed so far, ordered by subject and
// sequence.
func (r *Recorder) Under(t testing.TB, prefix string) []events.Event {
	t.Helper()
	if _, err := r.inst.Events.Drain(context.Background()); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Event
	for _, ev := range r.got {
		if strings.HasPrefix(ev.Subject, prefix) {
			out = append(out, ev)
		}
	}
	slices.SortFunc(out, func(a, b events.Event) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Seq, b.Seq))
	})
	return out
}
