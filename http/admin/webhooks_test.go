package admin_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// onlyDelivery is the one delivery of webhook hookID, as the admin lists
// it.
func onlyDelivery(t *testing.T, inst *enginetest.Engine, hookID string) delivery {
	t.Helper()
	list := listDeliveries(t, inst.Admin(), "/admin/v1/event-deliveries?subscription_id="+hookID)
	if len(list) != 1 {
		t.Fatalf("%d deliveries to webhook %s, want 1: %+v", len(list), hookID, list)
	}
	return list[0]
}

// TestBankWebhookTakesRecordOnce: a bank's system registers a webhook for
// record events and gets the key that verifies it; a record created in an
// entity reaches it signed with that key, which the JWK Set lists too.
// The first attempt times out (the receiver answers too late, having
// taken it); the second, on the schedule, carries the same webhook-id and
// body, so the receiver, deduplicating by webhook-id, takes the record
// once.
func TestBankWebhookTakesRecordOnce(t *testing.T) {
	inst := hookEngine(t)
	rcv := newReceiver(t, func(n int) (int, time.Duration) {
		if n == 1 {
			return http.StatusNoContent, 2 * hookTimeout
		}
		return http.StatusNoContent, 0
	})
	hook := createHook(t, inst.Admin(), "/admin/v1/webhooks", map[string]any{"url": rcv.URL + "/hooks", "event_types": []string{"record.*"}})
	if hook.Status != "active" || hook.SignatureScheme != "v1a" || !strings.HasPrefix(hook.KeyID, "whk-") || hook.ConsumerID != "" {
		t.Fatalf("webhook %+v: want active, v1a, a whk- key id, the bank's", hook)
	}
	recordID := createOffer(t, inst, true)

	drain(t, inst)
	first := onlyDelivery(t, inst, hook.ID)
	if first.Status != "pending" || first.Attempts != 1 || first.LastError == "" || first.NextAttemptAt == nil {
		t.Fatalf("after a timed-out attempt: %+v, want pending with 1 attempt, its error and a next attempt", first)
	}
	if first.Payload != nil {
		t.Errorf("a list shows a payload: %q", *first.Payload)
	}
	inst.Clock.Advance(7 * time.Second) // the second attempt is due 5 s ± 20% later
	drain(t, inst)
	enginetest.WaitUntil(t, 5*time.Second, "the receiver to answer every attempt", func() bool {
		_, all := rcv.took()
		return all
	})

	got := rcv.got()
	if len(got) != 2 || got[0].ID != got[1].ID || got[0].ID != first.ID || string(got[0].Body) != string(got[1].Body) {
		t.Fatalf("attempts %+v: want two with the delivery's id %s and one body", got, first.ID)
	}
	if ts := strconv.FormatInt(inst.Clock.Now().Unix(), 10); got[1].Timestamp != ts {
		t.Errorf("webhook-timestamp %s, want the engine's clock %s", got[1].Timestamp, ts)
	}
	for _, a := range got {
		verifyHook(t, hook.PublicKey, a)
	}
	taken, _ := rcv.took()
	if len(taken) != 1 {
		t.Fatalf("the receiver took %d messages, want the record once", len(taken))
	}
	var msg struct {
		Type, Subject string
		Seq           uint64
		Data          struct {
			Entity, ID string
			Record     map[string]any
		}
	}
	if err := json.Unmarshal(taken[0], &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "record.created" || msg.Seq != 1 || msg.Data.Entity != "Offer" || msg.Data.ID != recordID ||
		msg.Data.Record["amount"] != float64(7) || !strings.HasSuffix(msg.Subject, "/records/"+recordID) {
		t.Errorf("message %s: want record.created #1 of Offer %s", taken[0], recordID)
	}

	done := getDelivery(t, inst.Admin(), "/admin/v1/event-deliveries", first.ID)
	if done.Status != "delivered" || done.Attempts != 2 || done.Payload == nil || *done.Payload != string(taken[0]) {
		t.Errorf("delivery %+v: want delivered after 2 attempts, its payload the message sent", done)
	}
	stats := inst.Admin().Get(t, "/admin/v1/event-deliveries/stats").JSON(t)
	for name, least := range map[string]float64{"attempts": 2, "failed_attempts": 1, "delivered": 1, "retried": 1} {
		if n, _ := stats[name].(float64); n < least {
			t.Errorf("stats %s = %v, want at least %v: %v", name, stats[name], least, stats)
		}
	}
	checkWebhookKeyInJWKS(t, inst, hook)
}

// TestDeadDeliveryReplayed: a receiver that always answers 500 gets every
// attempt of the schedule until the delivery is dead; the admin finds it
// among the dead with its last error and replays it, and, the receiver
// fixed, it arrives with the same webhook-id and is delivered.
func TestDeadDeliveryReplayed(t *testing.T) {
	inst := hookEngine(t)
	rcv := newReceiver(t, answering(http.StatusInternalServerError))
	hook := createHook(t, inst.Admin(), "/admin/v1/webhooks", map[string]any{"url": rcv.URL, "event_types": []string{"record.created"}})
	createOffer(t, inst, true)

	drain(t, inst)
	d := onlyDelivery(t, inst, hook.ID)
	admin := inst.Admin()
	for range 20 {
		if d = getDelivery(t, admin, "/admin/v1/event-deliveries", d.ID); d.Status == "dead" {
			break
		}
		if d.NextAttemptAt == nil {
			t.Fatalf("delivery %+v: pending with no next attempt", d)
		}
		next, err := time.Parse(time.RFC3339Nano, *d.NextAttemptAt)
		if err != nil {
			t.Fatal(err)
		}
		inst.Clock.Advance(next.Sub(inst.Clock.Now()) + time.Millisecond)
		drain(t, inst)
	}
	// A dozen attempts over at most 72 hours: the last may fall past them
	// with jitter, and the delivery dies one attempt sooner.
	if d.Status != "dead" || d.Attempts < 11 || d.Attempts > 12 || len(rcv.got()) != d.Attempts ||
		d.LastStatus != http.StatusInternalServerError || !strings.Contains(d.LastError, "500") {
		t.Fatalf("delivery %+v after %d attempts: want dead after 11 or 12, the last answered 500", d, len(rcv.got()))
	}

	for _, tc := range []struct {
		query string
		lists bool
	}{{"?status=dead", true}, {"?status=dead&subscription_id=" + hook.ID, true}, {"?status=delivered", false}, {"?status=pending", false}} {
		t.Run(tc.query, func(t *testing.T) {
			list := listDeliveries(t, admin, "/admin/v1/event-deliveries"+tc.query)
			listed := len(list) == 1 && list[0].ID == d.ID && list[0].LastError == d.LastError
			if listed != tc.lists || (!tc.lists && len(list) != 0) {
				t.Errorf("%+v: want the dead delivery listed %v", list, tc.lists)
			}
		})
	}

	rcv.setAnswer(answering(http.StatusNoContent))
	r := admin.Post(t, "/admin/v1/event-deliveries/"+d.ID+"/replay", nil)
	if r.Status != http.StatusOK || decode[delivery](t, r).Status != "pending" || decode[delivery](t, r).Attempts != 0 {
		t.Fatalf("replay: %d %s, want 200 and the delivery pending again", r.Status, r.Body)
	}
	if r := admin.Post(t, "/admin/v1/event-deliveries/"+d.ID+"/replay", nil); r.Status != http.StatusConflict {
		t.Errorf("replay of a pending delivery: %d %s, want 409", r.Status, r.Body)
	}
	if n := inst.Audited(t, "event_delivery.replay", d.ID); n != 1 {
		t.Errorf("%d replays audited, want 1", n)
	}
	drain(t, inst)
	got := rcv.got()
	if last := got[len(got)-1]; last.ID != d.ID {
		t.Errorf("the replay came as %s, want the delivery's id %s", last.ID, d.ID)
	}
	if taken, _ := rcv.took(); len(taken) != 1 {
		t.Errorf("the receiver took %d messages, want 1", len(taken))
	}
	if d := getDelivery(t, admin, "/admin/v1/event-deliveries", d.ID); d.Status != "delivered" || d.Attempts != 1 {
		t.Errorf("after the replay: %+v, want delivered at its first attempt", d)
	}
}

// TestWebhookLifecycle: a receiver answering 410 Gone disables its
// webhook, which shows why; the owner changes its URL and event types and
// enables it again (only "active" may be set), after which it receives
// again; deleted, it is gone. Each change is audited.
func TestWebhookLifecycle(t *testing.T) {
	inst := hookEngine(t)
	admin := inst.Admin()
	gone, back := newReceiver(t, answering(http.StatusGone)), newReceiver(t, answering(http.StatusAccepted))
	hook := createHook(t, admin, "/admin/v1/webhooks", map[string]any{"url": gone.URL})
	path := "/admin/v1/webhooks/" + hook.ID
	createOffer(t, inst, true)
	drain(t, inst)
	if d := onlyDelivery(t, inst, hook.ID); d.Status != "cancelled" || d.LastStatus != http.StatusGone {
		t.Errorf("delivery %+v: want cancelled by the 410", d)
	}
	if got := decode[webhook](t, admin.Get(t, path)); got.Status != "disabled" || !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("after a 410: %+v, want disabled saying why", got)
	}
	createOffer(t, inst, false)
	drain(t, inst)
	if n := len(gone.got()); n != 1 {
		t.Errorf("a disabled webhook got %d attempts, want only the first", n)
	}

	if r := admin.Send(t, enginetest.JSONRequest(t, http.MethodPut, path, map[string]any{"status": "disabled"})); r.Status != http.StatusBadRequest || !hasPointer(r.Problem(t), "/status") {
		t.Errorf("status disabled: %d %s, want 400 naming /status", r.Status, r.Body)
	}
	r := admin.Send(t, enginetest.JSONRequest(t, http.MethodPut, path, map[string]any{"url": back.URL, "event_types": []string{"record.created"}, "status": "active"}))
	changed := decode[webhook](t, r)
	if r.Status != http.StatusOK || changed.Status != "active" || changed.DisabledReason != "" || changed.URL != back.URL ||
		len(changed.EventTypes) != 1 || changed.PublicKey != hook.PublicKey {
		t.Fatalf("change: %d %s, want active at the new URL for record.created, the same key", r.Status, r.Body)
	}
	createOffer(t, inst, false)
	drain(t, inst)
	if got := back.got(); len(got) != 1 || !strings.Contains(string(got[0].Body), `"type":"record.created"`) {
		t.Errorf("re-enabled, the webhook got %+v, want the next record.created", got)
	}

	if r := admin.Delete(t, path); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete, http.MethodPut} {
		if r := admin.Send(t, enginetest.JSONRequest(t, m, path, map[string]any{})); r.Status != http.StatusNotFound {
			t.Errorf("%s of a deleted webhook: %d %s, want 404", m, r.Status, r.Body)
		}
	}
	for _, action := range []string{"event_subscription.create", "event_subscription.change", "event_subscription.delete"} {
		if n := inst.Audited(t, action, hook.ID); n != 1 {
			t.Errorf("%d %s audited, want 1", n, action)
		}
	}
}

// TestDeliveriesPaged: the admin's deliveries come in pages of ?limit=,
// in id order (oldest first), the next from ?after= the last, each once;
// a bad ?status= or an overlong ?after= is a 400.
func TestDeliveriesPaged(t *testing.T) {
	inst := hookEngine(t)
	rcv := newReceiver(t, answering(http.StatusOK))
	createHook(t, inst.Admin(), "/admin/v1/webhooks", map[string]any{"url": rcv.URL})
	createOffer(t, inst, true)
	for range 4 {
		createOffer(t, inst, false)
	}
	drain(t, inst)
	var ids []string
	path := "/admin/v1/event-deliveries?limit=2"
	for range 5 {
		page := decode[deliveryPage](t, inst.Admin().Get(t, path))
		for _, d := range page.Deliveries {
			ids = append(ids, d.ID)
		}
		if page.NextAfter == "" {
			break
		}
		if len(page.Deliveries) != 2 || page.NextAfter != page.Deliveries[1].ID {
			t.Fatalf("page %+v: want 2 and the last's id as next_after", page)
		}
		path = "/admin/v1/event-deliveries?limit=2&after=" + page.NextAfter
	}
	var sent []string
	for _, a := range rcv.got() {
		sent = append(sent, a.ID)
	}
	slices.Sort(sent)
	if len(ids) != 5 || !slices.Equal(ids, sent) {
		t.Fatalf("listed %v, sent %v: want the 5 deliveries, each once", ids, sent)
	}
	for _, q := range []string{"?status=lost", "?after=" + strings.Repeat("x", 65)} {
		if r := inst.Admin().Get(t, "/admin/v1/event-deliveries"+q); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, r.Status, r.Body)
		}
	}
}

// TestWebhookKeySurvivesRestart: the key a receiver was given at creation
// stays the engine's across a restart: the webhook still answers it and
// the JWK Set still lists it, so receivers need not be told again.
func TestWebhookKeySurvivesRestart(t *testing.T) {
	inst := hookEngine(t)
	hook := createHook(t, inst.Admin(), "/admin/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hooks"})
	inst.Close(t)
	again := hookEngine(t, enginetest.InDir(inst.Dir))
	got := decode[webhook](t, again.Admin().Get(t, "/admin/v1/webhooks/"+hook.ID))
	if got.PublicKey != hook.PublicKey || got.KeyID != hook.KeyID {
		t.Fatalf("after a restart the webhook answers key %s (%s), want %s (%s)", got.KeyID, got.PublicKey, hook.KeyID, hook.PublicKey)
	}
	checkWebhookKeyInJWKS(t, again, hook)
}
