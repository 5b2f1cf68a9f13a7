package recordapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/eventstest"
)

// TestRecordWritesEmitEvents creates, replaces, merges and deletes a
// record over HTTP, at system level and at a bank: each write delivers
// one event to the bank's webhook, numbered 1, 2, 3, 4 for the record, carrying the
// record as stored (none once deleted), for the bank's systems only; the
// writes the API refuses leave none.
func TestRecordWritesEmitEvents(t *testing.T) {
	e := enginetest.New(t)
	rec := eventstest.Record(t, e)
	e.CreateBank(t, "b1")
	e.GrantAdmin(t, "b1", "CanCreateBankLevelDynamicEntity")
	const def = `{"Offer": {"required": ["amount"], "properties": {"amount": {"type": "integer", "example": 1}}}}`
	e.CreateEntity(t, "/admin/v1/dynamic-entities", def)
	e.CreateEntity(t, "/admin/v1/banks/b1/dynamic-entities", def)
	admin := e.Admin()
	for _, tc := range []struct{ name, path, bank, subject string }{
		{"system level", "/entities/Offer", "", "entities/Offer/records/"},
		{"bank level", "/banks/b1/entities/Offer", "b1", "banks/b1/entities/Offer/records/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.PostJSON(t, tc.path, map[string]any{"amount": 1})
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			id, _ := r.JSON(t)["offer"].(map[string]any)["offer_id"].(string)
			one := tc.path + "/" + id
			etag := r.Header.Get("ETag")
			write := func(method, body string, header map[string]string, status int) {
				t.Helper()
				h := enginetest.JSONHeader()
				for k, v := range header {
					h[k] = v
				}
				req := enginetest.Request{Method: method, Path: one, Header: h}
				if body != "" {
					req.Body = []byte(body)
				}
				if r := admin.Send(t, req); r.Status != status {
					t.Fatalf("%s %s: %d, want %d: %s", method, one, r.Status, status, r.Body)
				}
			}
			write(http.MethodPut, `{"amount": 2}`, map[string]string{"If-Match": etag}, http.StatusOK)
			// Refused: a stale If-Match, a body the definition refuses.
			write(http.MethodPut, `{"amount": 9}`, map[string]string{"If-Match": etag}, http.StatusPreconditionFailed)
			write(http.MethodPatch, `{"amount": "many"}`, nil, http.StatusBadRequest)
			write(http.MethodPatch, `{"amount": 3}`, nil, http.StatusOK)
			write(http.MethodDelete, "", nil, http.StatusNoContent)

			got := rec.Under(t, tc.subject)
			want := []struct {
				typ    string
				amount float64 // 0: no record
			}{
				{events.TypeRecordCreated, 1}, {events.TypeRecordUpdated, 2},
				{events.TypeRecordUpdated, 3}, {events.TypeRecordDeleted, 0},
			}
			if len(got) != len(want) {
				t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
			}
			for i, ev := range got {
				var data struct {
					Entity, ID string
					BankID     string `json:"bank_id"`
					Record     map[string]any
				}
				if err := json.Unmarshal(ev.Data, &data); err != nil {
					t.Fatalf("event %d data: %v", i, err)
				}
				amount, _ := data.Record["amount"].(float64)
				if ev.Type != want[i].typ || ev.Seq != uint64(i+1) || ev.Subject != tc.subject+id || amount != want[i].amount {
					t.Errorf("event %d: %s #%d %s amount %v, want %s #%d %s amount %v",
						i, ev.Type, ev.Seq, ev.Subject, amount, want[i].typ, i+1, tc.subject+id, want[i].amount)
				}
				if data.Entity != "Offer" || data.ID != id || data.BankID != tc.bank || ev.BankID != tc.bank {
					t.Errorf("event %d names %+v in bank %q", i, data, ev.BankID)
				}
				if ev.ConsumerID != "" || !ev.OccurredAt.Equal(e.Clock.Now()) || ev.ID == "" {
					t.Errorf("event %d: consumer %q, at %v (clock %v), id %q", i, ev.ConsumerID, ev.OccurredAt, e.Clock.Now(), ev.ID)
				}
			}
			if got[0].Data == nil || data(t, got[3])["record"] != nil {
				t.Errorf("a created record's event carries it, a deleted one's not: %s / %s", got[0].Data, got[3].Data)
			}
		})
	}
}

// data decodes an event's data as an object.
func data(t *testing.T, ev events.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatalf("%s data: %v", ev.Type, err)
	}
	return m
}
