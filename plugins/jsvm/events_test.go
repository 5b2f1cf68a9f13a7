package jsvm

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// emitted records what Options.Emit was given, failing with fail when set.
type emitted struct {
	mu    sync.Mutex
	calls [][]*events.Event
	fail  error
}

func (r *emitted) emit(_ context.Context, evs []*events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, evs)
	return r.fail
}

// TestEventsEmit: a method's events are written together once it
// returns, each with the call's bank, consumer and correlation id; a
// method that fails writes none.
func TestEventsEmit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		timeout  time.Duration
		writes   int    // events written, in one Emit
		data     string // of the first
		status   int    // of the failed call, 0 for success
		contains string // in the result or the error
	}{
		{"emitted and returned", `events.emit("order.shipped", "orders/1", {id: 1}); events.emit("order.paid", "orders/1"); return "ok"`,
			0, 2, `{"id":1}`, 0, "ok"},
		{"from an async method", `await Promise.resolve(); events.emit("order.shipped", "orders/1", [1, "a"]); return 1`,
			0, 1, `[1,"a"]`, 0, ""},
		{"none emitted", `return 1`, 0, 0, "", 0, ""},
		{"emitted then thrown", `events.emit("order.shipped", "orders/1", 1); throw new Error("boom")`,
			0, 0, "", http.StatusInternalServerError, "boom"},
		{"emitted then rejected with a client error", `events.emit("order.shipped", "orders/1"); throw {status: 409, message: "taken"}`,
			0, 0, "", http.StatusConflict, "taken"},
		{"emitted then timed out", `events.emit("order.shipped", "orders/1"); for (;;) {}`,
			50 * time.Millisecond, 0, "", http.StatusGatewayTimeout, "deadline"},
		{"a bad event caught", `try { events.emit("Order Shipped!", "", 1) } catch (e) { return e.message }`,
			0, 0, "", 0, "events.emit: the event cannot be emitted: type (format): an event type is 1 to 64 lower-case words"},
		{"the subject named", `try { events.emit("order.shipped", "") } catch (e) { return e.message }`,
			0, 0, "", 0, "subject (length): an event subject is 1 to 256 bytes"},
		{"an engine type refused", `try { events.emit("consent.created", "consents/1") } catch (e) { return e.message }`,
			0, 0, "", 0, "type (reserved): event types under consent., payment., transaction., record. are the engine's own"},
		{"data too large", `try { events.emit("a.b", "s", "x".repeat(17000)) } catch (e) { return e.message }`,
			0, 0, "", 0, "data (max_bytes): an event's data is at most 16384 bytes"},
		{"a type that is not a string", `try { events.emit(1, "s") } catch (e) { return e.message }`,
			0, 0, "", 0, "type must be a string"},
		{"a bad event not caught", `events.emit("order.shipped", "orders/1"); events.emit("record.created", "x"); return 1`,
			0, 0, "", http.StatusInternalServerError, "engine's own"},
		{"the 16 a call may emit", `for (let i = 0; i < 16; i++) events.emit("n.i", "s/" + i, i); return 1`,
			0, 16, "0", 0, ""},
		{"the 17th refused", `for (let i = 0; i < 16; i++) events.emit("n.i", "s/" + i);
			try { events.emit("n.i", "s/16") } catch (e) { return e.message }`,
			0, 16, "", 0, "a call emits at most 16 events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &emitted{}
			e := New(Options{Emit: rec.emit})
			timeout := cmp.Or(tc.timeout, testDeadline)
			res, err := compile(t, e, "ship", tc.body, timeout).Invoke(context.Background(), request())
			if tc.status != 0 {
				ee := asError(t, err, tc.status, failures[tc.status])
				if !strings.Contains(ee.Message, tc.contains) {
					t.Errorf("error %q does not contain %q", ee.Message, tc.contains)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if s, _ := value(res).(string); !strings.Contains(s, tc.contains) {
				t.Errorf("result %q does not contain %q", s, tc.contains)
			}
			switch {
			case tc.writes == 0 && len(rec.calls) != 0:
				t.Fatalf("%d writes of events, want none: %v", len(rec.calls), rec.calls)
			case tc.writes == 0:
				return
			case len(rec.calls) != 1 || len(rec.calls[0]) != tc.writes:
				t.Fatalf("writes %v, want one of %d events", rec.calls, tc.writes)
			}
			for _, ev := range rec.calls[0] {
				if ev.BankID != "bank-1" || ev.ConsumerID != "consumer-1" || ev.CorrelationID != "corr-1" || ev.ID != "" {
					t.Errorf("event %+v", ev)
				}
			}
			if got := string(rec.calls[0][0].Data); got != tc.data {
				t.Errorf("data %q, want %q", got, tc.data)
			}
		})
	}
}

// failures are the codes of the failed calls of TestEventsEmit.
var failures = map[int]string{http.StatusInternalServerError: engine.CodeScriptFailed,
	http.StatusConflict: codeScriptError, http.StatusGatewayTimeout: engine.CodeScriptTimeout}

// TestEventsEmitUnavailable: without Options.Emit, events.emit throws;
// a failed write fails the call.
func TestEventsEmitUnavailable(t *testing.T) {
	v := mustRun(t, New(Options{}), `try { events.emit("a.b", "s") } catch (e) { return e.message }`, request())
	if v != "events.emit: events are not available" {
		t.Errorf("got %v", v)
	}
	rec := &emitted{fail: errors.New("disk full")}
	_, err := run(t, New(Options{Emit: rec.emit}), `events.emit("a.b", "s"); return 1`, request())
	asError(t, err, http.StatusInternalServerError, engine.CodeInternal)
}
