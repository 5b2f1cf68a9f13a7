// Package outboxtest reads the event outbox of a store in tests: what
// events.Emit wrote, in emission order.
package outboxtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// Bucket is the outbox bucket events.Emit writes to.
const Bucket = "event_outbox"

// Read returns every event in s's outbox, in emission order.
func Read(t testing.TB, s engine.Store) []events.Event {
	t.Helper()
	var out []events.Event
	err := s.View(context.Background(), func(tx engine.Tx) error {
		return tx.Scan(Bucket, "", func(_ string, v []byte) error {
			var ev events.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			out = append(out, ev)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read the event outbox: %v", err)
	}
	return out
}

// Under returns the events of s's outbox whose subject starts with
// prefix, in emission order.
func Under(t testing.TB, s engine.Store, prefix string) []events.Event {
	t.Helper()
	var out []events.Event
	for _, ev := range Read(t, s) {
		if strings.HasPrefix(ev.Subject, prefix) {
			out = append(out, ev)
		}
	}
	return out
}
