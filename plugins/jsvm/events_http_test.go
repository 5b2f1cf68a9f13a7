package jsvm_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/eventstest"
)

// TestScriptEventsOverHTTP: a bank's script answering getAccounts emits
// order.shipped; the bank's webhook receives it with the bank, the calling
// consumer and the call's correlation id. A script that emits and then
// throws leaves nothing, and an engine type is refused in the script.
func TestScriptEventsOverHTTP(t *testing.T) {
	e := enginetest.New(t)
	rec := eventstest.Record(t, e)
	e.CreateBank(t, "b1")
	consumer, ok := e.Access.Identity.ConsumerByKey(enginetest.ConsumerKey)
	if !ok {
		t.Fatal("no test consumer")
	}
	const answer = `return [];`
	id := e.CreateScript(t, "getAccounts", `events.emit("order.shipped", "orders/o-1", {order: "o-1", bank: ctx.bankId});`+answer, 0)
	r := e.Admin().Get(t, "/banks/b1/accounts")
	if r.Status != http.StatusOK {
		t.Fatalf("get accounts: %d %s", r.Status, r.Body)
	}
	got := rec.Under(t, "orders/")
	if len(got) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(got), got)
	}
	ev := got[0]
	if ev.Type != "order.shipped" || ev.Subject != "orders/o-1" || ev.Seq != 1 || ev.BankID != "b1" ||
		ev.ConsumerID != consumer.ID || ev.CorrelationID != r.Header.Get("X-Correlation-Id") || ev.CorrelationID == "" ||
		!ev.OccurredAt.Equal(e.Clock.Now()) {
		t.Errorf("event %+v; consumer %s, correlation id %q", ev, consumer.ID, r.Header.Get("X-Correlation-Id"))
	}
	var data map[string]string
	if err := json.Unmarshal(ev.Data, &data); err != nil || data["order"] != "o-1" || data["bank"] != "b1" {
		t.Errorf("data %s: %v", ev.Data, err)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		says       string // in the answer
	}{
		{"emitted, then thrown", `events.emit("order.shipped", "orders/o-1"); throw new Error("core banking said no");`,
			http.StatusInternalServerError, "core banking said no"},
		{"an engine type", `try { events.emit("consent.created", "consents/c-1") } catch (e) {
			throw {status: 409, message: e.message} }` + answer,
			http.StatusConflict, "type (reserved)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.Admin().Send(t, enginetest.JSONRequest(t, http.MethodPut, "/admin/v1/connector-methods/"+id,
				map[string]any{"method_body": tc.body, "programming_lang": "js"})); r.Status != http.StatusOK {
				t.Fatalf("update script: %d %s", r.Status, r.Body)
			}
			before := len(rec.Under(t, ""))
			r := e.Admin().Get(t, "/banks/b1/accounts")
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.says) {
				t.Fatalf("get accounts: %d %s, want %d saying %q", r.Status, r.Body, tc.status, tc.says)
			}
			if after := rec.Under(t, ""); len(after) != before {
				t.Errorf("%d events written: %+v", len(after)-before, after[before:])
			}
		})
	}
}
