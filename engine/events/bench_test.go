package events_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// BenchmarkThroughput measures events per second from the outbox to a
// loopback webhook receiver: b.N events are committed (a hundred per
// transaction, as a busy engine's group commits do), then the worker fans
// them out and delivers every one, signed, through the egress client.
func BenchmarkThroughput(b *testing.B) {
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	h := open(b, b.TempDir(), events.Options{Parallel: 64})
	h.webhook(b, rcv.URL)
	ctx := context.Background()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(100, b.N-done)
		if err := h.store.Update(ctx, func(tx engine.Tx) error {
			for i := range n {
				ev := &events.Event{Type: "order.shipped", Subject: fmt.Sprintf("orders/%d", done+i), Data: []byte(`{"amount":"10.00"}`)}
				if err := events.Emit(tx, ev, h.clock.Now()); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	for got.Load() < int64(b.N) {
		if _, err := h.svc.Drain(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
