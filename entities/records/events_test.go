package records

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/outboxtest"
)

// eventClock is the fixed time of the events of these tests.
var eventClock = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// openEmitting returns a record store that emits events at eventClock,
// on a fresh bbolt file, with o's other settings.
func openEmitting(t testing.TB, o Options) *Store {
	t.Helper()
	o.Events, o.Now = true, func() time.Time { return eventClock }
	return openWith(t, o)
}

// eventData decodes the data of a record event.
func eventData(t *testing.T, ev events.Event) recordEvent {
	t.Helper()
	var d recordEvent
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("data of %s %s: %v", ev.Type, ev.Subject, err)
	}
	return d
}

// TestCascadeEmitsEachDeletion deletes a customer with cascade: the
// customer, the offer referencing it, the application and the personal
// wish referencing the offer each get a record.deleted event, in the
// transaction that deletes them, after their record.created.
func TestCascadeEmitsEachDeletion(t *testing.T) {
	s := openEmitting(t, Options{})
	ctx := context.Background()
	cust, offer, app, wish := customerSchema("b1"), offerSchema("b1"), applicationSchema("b1"), wishSchema("b1")
	mustCreate(t, s, cust, "", map[string]any{"customer_id": "c1", "name": "Ann", "age": 40})
	mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o1", "name": "Home", "customer_id": "c1"})
	mustCreate(t, s, app, "", map[string]any{"application_id": "a1", "status": "new", "loan_offer_id": "o1"})
	mustCreate(t, s, wish, "u1", map[string]any{"wish_id": "w1", "note": "soon", "loan_offer_id": "o1"})
	if err := s.Delete(ctx, cust, "", "c1", true, nil); err != nil {
		t.Fatal(err)
	}
	got := outboxtest.Read(t, s.db)
	want := []struct{ typ, subject, owner string }{
		{events.TypeRecordCreated, "banks/b1/entities/Customer/records/c1", ""},
		{events.TypeRecordCreated, "banks/b1/entities/LoanOffer/records/o1", ""},
		{events.TypeRecordCreated, "banks/b1/entities/Application/records/a1", ""},
		{events.TypeRecordCreated, "banks/b1/entities/Wish/records/w1", "u1"},
		{events.TypeRecordDeleted, "banks/b1/entities/Customer/records/c1", ""},
		{events.TypeRecordDeleted, "banks/b1/entities/LoanOffer/records/o1", ""},
	}
	if len(got) != 8 {
		t.Fatalf("%d events, want 8 (4 created, 4 deleted): %+v", len(got), got)
	}
	deleted := map[string]bool{}
	for i, ev := range got {
		if ev.BankID != "b1" || ev.ConsumerID != "" || !ev.OccurredAt.Equal(eventClock) {
			t.Errorf("event %d: bank %q consumer %q at %v", i, ev.BankID, ev.ConsumerID, ev.OccurredAt)
		}
		d := eventData(t, ev)
		if i < len(want) && (ev.Type != want[i].typ || ev.Subject != want[i].subject || d.Owner != want[i].owner) {
			t.Errorf("event %d: %s %s owner %q, want %s %s owner %q", i, ev.Type, ev.Subject, d.Owner, want[i].typ, want[i].subject, want[i].owner)
		}
		switch ev.Type {
		case events.TypeRecordCreated:
			if ev.Seq != 1 || len(d.Record) == 0 {
				t.Errorf("created %s: seq %d, record %s", ev.Subject, ev.Seq, d.Record)
			}
		case events.TypeRecordDeleted:
			if ev.Seq != 2 || d.Record != nil {
				t.Errorf("deleted %s: seq %d, record %s", ev.Subject, ev.Seq, d.Record)
			}
			deleted[ev.Subject] = true
		}
	}
	if !deleted["banks/b1/entities/Application/records/a1"] || !deleted["banks/b1/entities/Wish/records/w1"] {
		t.Errorf("the cascade's deletions of a1 and w1 were not all reported: %v", deleted)
	}
}

// TestRefusedWritesEmitNothing: a write the store refuses leaves the
// outbox as it was.
func TestRefusedWritesEmitNothing(t *testing.T) {
	s := openEmitting(t, Options{Quota: Quota{Records: 3, Bytes: -1}})
	ctx := context.Background()
	cust, offer := customerSchema("b1"), offerSchema("b1")
	mustCreate(t, s, cust, "", map[string]any{"customer_id": "c1", "name": "Ann", "age": 40})
	mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o1", "name": "Home", "customer_id": "c1"})
	for range 3 { // u9's quota
		if _, err := s.Create(ctx, cust, "", "u9", map[string]any{"name": "q"}); err != nil {
			t.Fatal(err)
		}
	}
	stale := IfMatch{`"stale"`}
	for _, tc := range []struct {
		name   string
		write  func() error
		status int
	}{
		{"a value of the wrong kind", func() error {
			_, err := s.Create(ctx, cust, "", "", map[string]any{"customer_id": "c2", "age": "old"})
			return err
		}, http.StatusBadRequest},
		{"a taken primary key", func() error {
			_, err := s.Create(ctx, cust, "", "", map[string]any{"customer_id": "c1"})
			return err
		}, http.StatusConflict},
		{"a reference to nothing", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"loan_offer_id": "o2", "customer_id": "nobody"})
			return err
		}, http.StatusBadRequest},
		{"past the quota", func() error {
			_, err := s.Create(ctx, cust, "", "u9", map[string]any{"name": "one too many"})
			return err
		}, http.StatusTooManyRequests},
		{"a replace whose If-Match fails", func() error {
			_, err := s.Replace(ctx, cust, "", "c1", map[string]any{"name": "Bo"}, stale)
			return err
		}, http.StatusPreconditionFailed},
		{"an update whose change fails", func() error {
			_, err := s.Update(ctx, cust, "", "c1", nil, func(map[string]any) (map[string]any, error) {
				return nil, engine.Errorf(http.StatusUnprocessableEntity, "no", "refused")
			})
			return err
		}, http.StatusUnprocessableEntity},
		{"a delete of a referenced record", func() error { return s.Delete(ctx, cust, "", "c1", false, nil) }, http.StatusConflict},
		{"a delete whose If-Match fails", func() error { return s.Delete(ctx, offer, "", "o1", false, stale) }, http.StatusPreconditionFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := outboxtest.Read(t, s.db)
			err := tc.write()
			var e *engine.Error
			if !errors.As(err, &e) || e.Status != tc.status {
				t.Fatalf("got %v, want a %d", err, tc.status)
			}
			if after := outboxtest.Read(t, s.db); len(after) != len(before) {
				t.Errorf("%d events for a refused write: %+v", len(after)-len(before), after[len(before):])
			}
		})
	}
}

// TestBulkWritesEmitNothing: migrating, reindexing or deleting every
// record of an entity is a change of the entity, not of its records.
func TestBulkWritesEmitNothing(t *testing.T) {
	s := openEmitting(t, Options{})
	ctx := context.Background()
	cust := customerSchema("b1")
	mustCreate(t, s, cust, "", map[string]any{"customer_id": "c1", "name": "Ann", "age": 40})
	for _, tc := range []struct {
		name string
		bulk func() (int, error)
	}{
		{"ReplaceAll", func() (int, error) {
			return s.ReplaceAll(ctx, cust, func(m map[string]any) (map[string]any, error) { m["name"] = "Bo"; return m, nil })
		}},
		{"Reindex", func() (int, error) { return s.Reindex(ctx, cust) }},
		{"DeleteAll", func() (int, error) { return s.DeleteAll(ctx, cust) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, err := tc.bulk(); err != nil || n != 1 {
				t.Fatalf("%s: %d records, %v", tc.name, n, err)
			}
			if got := outboxtest.Read(t, s.db); len(got) != 1 {
				t.Errorf("%d events, want only the record.created: %+v", len(got), got)
			}
		})
	}
}

// TestEventsAreOptional: a store without Options.Events writes no event.
func TestEventsAreOptional(t *testing.T) {
	s, db := open(t)
	mustCreate(t, s, customerSchema(""), "", map[string]any{"customer_id": "c1", "name": "Ann"})
	if got := outboxtest.Read(t, db); len(got) != 0 {
		t.Errorf("%d events from a store without Events: %+v", len(got), got)
	}
}

// TestLargeRecordLeftOut: the event of a record larger than
// events.MaxDataBytes names it but leaves it out.
func TestLargeRecordLeftOut(t *testing.T) {
	s := openEmitting(t, Options{})
	cust := customerSchema("")
	for _, tc := range []struct {
		id      string
		size    int
		omitted bool
	}{
		{"small", events.MaxDataBytes - 100, false},
		{"large", events.MaxDataBytes + 1, true},
	} {
		t.Run(tc.id, func(t *testing.T) {
			mustCreate(t, s, cust, "", map[string]any{"customer_id": tc.id, "name": strings.Repeat("n", tc.size)})
			got := outboxtest.Under(t, s.db, RecordSubject("", "Customer", tc.id))
			if len(got) != 1 {
				t.Fatalf("%d events", len(got))
			}
			d := eventData(t, got[0])
			if d.RecordOmitted != tc.omitted || (d.Record == nil) != tc.omitted || d.ID != tc.id || got[0].Subject != "entities/Customer/records/"+tc.id {
				t.Errorf("event %s: omitted %v, record of %d bytes", got[0].Subject, d.RecordOmitted, len(d.Record))
			}
		})
	}
}
