package events_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
)

func TestRetriesOnTheSchedule(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, 500, 500, 202)
	sub := h.webhook(t, rcv.URL+"/hook")
	start := h.clock.Now()
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1", Data: json.RawMessage(`{"n":1}`)})

	steps := []struct {
		advance  time.Duration
		attempts int
	}{
		{0, 1},                // at once
		{4 * time.Second, 1},  // 5 s not yet passed
		{time.Second, 2},      // +5 s
		{29 * time.Second, 2}, // 30 s after the second not yet passed
		{time.Second, 3},      // +30 s: taken
		{24 * time.Hour, 3},   // and never again
	}
	for _, s := range steps {
		h.clock.Advance(s.advance)
		h.drain(t)
		if got := len(rcv.requests()); got != s.attempts {
			t.Fatalf("at +%s: %d attempts, want %d", h.clock.Now().Sub(start), got, s.attempts)
		}
	}
	got := rcv.requests()
	if got[1].at.Sub(got[0].at) != 5*time.Second || got[2].at.Sub(got[1].at) != 30*time.Second {
		t.Fatalf("attempts at %v, %v, %v", got[0].at, got[1].at, got[2].at)
	}
	id := got[0].header.Get("webhook-id")
	for i, r := range got {
		if r.header.Get("webhook-id") != id || !verifyWebhook(t, h.keys.PublicKey(), r) {
			t.Fatalf("attempt %d: webhook-id %q (first %q) or signature does not verify", i, r.header.Get("webhook-id"), id)
		}
	}
	var body struct {
		Type, Subject string
		Seq           uint64
		Data          map[string]any
	}
	if err := json.Unmarshal(got[2].body, &body); err != nil || body.Type != "order.shipped" || body.Subject != "orders/1" ||
		body.Seq != 1 || body.Data["n"] != float64(1) {
		t.Fatalf("body %s: %v", got[2].body, err)
	}
	ds, _, err := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll, SubscriptionID: sub.ID})
	if err != nil || len(ds) != 1 || ds[0].Status != events.DeliveryDelivered || ds[0].Attempts != 3 || ds[0].ID != id {
		t.Fatalf("deliveries %+v: %v", ds, err)
	}
}

func TestJitterStaysWithinAFifth(t *testing.T) {
	for _, j := range []float64{-1, 0.999} {
		h := open(t, "", events.Options{Jitter: func() float64 { return j }})
		rcv := newReceiver(t, h.clock, 500, 202)
		h.webhook(t, rcv.URL)
		h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
		h.drain(t)
		want := 5*time.Second + time.Duration(float64(5*time.Second)*events.JitterFraction*j)
		h.clock.Advance(want - time.Millisecond)
		h.drain(t)
		if n := len(rcv.requests()); n != 1 {
			t.Fatalf("jitter %v: retried before %s", j, want)
		}
		h.clock.Advance(time.Millisecond)
		h.drain(t)
		if n := len(rcv.requests()); n != 2 {
			t.Fatalf("jitter %v: not retried at %s", j, want)
		}
	}
}

func TestDeadThenReplayed(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, 500)
	sub := h.webhook(t, rcv.URL)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
	start := h.clock.Now()
	for range 30 {
		h.drain(t)
		ds, _, err := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries %+v: %v", ds, err)
		}
		if ds[0].NextAttemptAt == nil {
			break
		}
		h.clock.Advance(ds[0].NextAttemptAt.Sub(h.clock.Now()))
	}
	if took := h.clock.Now().Sub(start); took > events.DefaultMaxAge || took < 70*time.Hour {
		t.Fatalf("the attempts took %s", took)
	}
	want := len(events.DefaultSchedule) + 1
	if n := len(rcv.requests()); n != want {
		t.Fatalf("%d attempts, want %d", n, want)
	}
	dead, _, err := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll, Status: events.DeliveryDead})
	if err != nil || len(dead) != 1 || dead[0].LastError != "the receiver answered 500" || dead[0].SubscriptionID != sub.ID {
		t.Fatalf("dead %+v: %v", dead, err)
	}
	rcv.mu.Lock()
	rcv.statuses = []int{204}
	rcv.mu.Unlock()
	if _, err := h.svc.Replay(context.Background(), audit.Actor{UserID: "admin"}, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	h.drain(t)
	got := rcv.requests()
	if len(got) != want+1 || got[want].header.Get("webhook-id") != dead[0].ID {
		t.Fatalf("replay: %d requests", len(got))
	}
	d, err := h.svc.Delivery(context.Background(), events.OwnerAll, dead[0].ID)
	if err != nil || d.Status != events.DeliveryDelivered {
		t.Fatalf("after replay %+v: %v", d, err)
	}
	if _, err := h.svc.Replay(context.Background(), audit.Actor{UserID: "admin"}, d.ID); err == nil {
		t.Fatal("a delivered delivery was replayed")
	}
	if left, _, _ := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll, Status: events.DeliveryDead}); len(left) != 0 {
		t.Fatalf("still dead: %+v", left)
	}
}

func TestGoneDisablesTheSubscription(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, http.StatusGone)
	sub := h.webhook(t, rcv.URL)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
	h.drain(t)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/2"})
	h.clock.Advance(time.Hour)
	h.drain(t)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d requests after 410, want 1", n)
	}
	got, err := h.svc.Subscription(context.Background(), events.OwnerAll, sub.ID)
	if err != nil || got.Status != events.SubscriptionDisabled {
		t.Fatalf("subscription %+v: %v", got, err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, 503, 202)
	rcv.header.Set("Retry-After", "120")
	h.webhook(t, rcv.URL)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
	h.drain(t)
	h.clock.Advance(119 * time.Second)
	h.drain(t)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("retried before Retry-After: %d", n)
	}
	h.clock.Advance(time.Second)
	h.drain(t)
	if n := len(rcv.requests()); n != 2 {
		t.Fatalf("not retried after Retry-After: %d", n)
	}
}

func TestBreakerPausesAFailingHost(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, 500)
	h.webhook(t, rcv.URL)
	for i := range 8 {
		h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/" + string(rune('a'+i))})
		h.drain(t)
	}
	// Five failures open the breaker: the other three wait, unattempted.
	if n := len(rcv.requests()); n != 5 {
		t.Fatalf("%d attempts with the breaker open, want 5", n)
	}
	ds, _, _ := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll})
	waiting := 0
	for _, d := range ds {
		if d.Attempts == 0 {
			waiting++
		}
	}
	if waiting != 3 {
		t.Fatalf("%d deliveries waiting without an attempt, want 3", waiting)
	}
	h.clock.Advance(time.Minute)
	h.drain(t)
	if n := len(rcv.requests()); n <= 5 {
		t.Fatalf("the breaker did not close: %d attempts", n)
	}
}

func TestTypesAndOwnersChooseReceivers(t *testing.T) {
	h := open(t, "", events.Options{})
	all, orders, tpp := newReceiver(t, h.clock, 204), newReceiver(t, h.clock, 204), newReceiver(t, h.clock, 204)
	h.webhook(t, all.URL)
	h.webhook(t, orders.URL, "order.*")
	if _, err := h.svc.Subscribe(context.Background(), audit.Actor{UserID: "dev"}, events.NewSubscription{Kind: events.KindWebhook,
		ConsumerID: "tpp-1", URL: tpp.URL}, events.Pointers{URL: "/url", EventTypes: "/event_types"}); err != nil {
		t.Fatal(err)
	}
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1", ConsumerID: "tpp-1"})
	h.emit(t, &events.Event{Type: "invoice.sent", Subject: "invoices/1", ConsumerID: "tpp-2"})
	h.drain(t)
	for _, c := range []struct {
		name string
		r    *receiver
		want int
	}{{"bank systems, all types", all, 2}, {"order.*", orders, 1}, {"tpp-1's own", tpp, 1}} {
		if n := len(c.r.requests()); n != c.want {
			t.Errorf("%s: %d deliveries, want %d", c.name, n, c.want)
		}
	}
}

func TestSequencePerSubject(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, 204)
	h.webhook(t, rcv.URL)
	for _, subj := range []string{"a", "b", "a", "a"} {
		h.emit(t, &events.Event{Type: "thing.changed", Subject: subj})
	}
	h.drain(t)
	if seqs := sequences(rcv.requests()); !slices.Equal(seqs["a"], []uint64{1, 2, 3}) || !slices.Equal(seqs["b"], []uint64{1}) {
		t.Fatalf("sequences as received %v, want a: 1 2 3 in order, b: 1", seqs)
	}
}

func TestAFailureHoldsBackItsSubjectsLaterEvents(t *testing.T) {
	h := open(t, "", events.Options{})
	rcv := newReceiver(t, h.clock, 500, 204)
	h.webhook(t, rcv.URL)
	for range 3 {
		h.emit(t, &events.Event{Type: "consent.thing", Subject: "consents/1"})
	}
	h.drain(t)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d attempts before the first retry, want 1 (the later events wait for the first)", n)
	}
	h.clock.Advance(6 * time.Second)
	h.drain(t)
	if seqs := sequences(rcv.requests()); !slices.Equal(seqs["consents/1"], []uint64{1, 1, 2, 3}) {
		t.Fatalf("sequences as received %v, want 1 (refused), then 1 2 3", seqs)
	}
	ds, _, err := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll})
	if err != nil || len(ds) != 3 {
		t.Fatalf("deliveries %+v: %v", ds, err)
	}
	for _, d := range ds {
		// Only the one that failed counts a failed attempt.
		if d.Status != events.DeliveryDelivered || d.Attempts > 2 {
			t.Fatalf("delivery %+v", d)
		}
	}
}

// sequences are the seq of each subject's webhook bodies, in the order
// received.
func sequences(got []received) map[string][]uint64 {
	seqs := map[string][]uint64{}
	for _, r := range got {
		var b struct {
			Subject string
			Seq     uint64
		}
		_ = json.Unmarshal(r.body, &b)
		seqs[b.Subject] = append(seqs[b.Subject], b.Seq)
	}
	return seqs
}

func TestSweepKeepsWhatIsStillDue(t *testing.T) {
	h := open(t, "", events.Options{Retention: 24 * time.Hour})
	ok, failing := newReceiver(t, h.clock, 204), newReceiver(t, h.clock, 500)
	h.webhook(t, ok.URL)
	h.webhook(t, failing.URL)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
	h.drain(t)
	h.clock.Advance(25 * time.Hour)
	n, err := h.svc.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("swept %d, %v; want the delivered one", n, err)
	}
	left, _, err := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll})
	if err != nil || len(left) != 1 || left[0].Status != events.DeliveryPending || left[0].URL != failing.URL {
		t.Fatalf("left %+v, %v; want the one still retried", left, err)
	}
}

func TestRetriesFollowAMovedReceiver(t *testing.T) {
	h := open(t, "", events.Options{})
	old, moved := newReceiver(t, h.clock, 500), newReceiver(t, h.clock, 204)
	sub := h.webhook(t, old.URL)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
	h.drain(t)
	url := moved.URL + "/new"
	if _, err := h.svc.ChangeSubscription(context.Background(), audit.Actor{UserID: "admin"}, events.OwnerAll, sub.ID,
		events.SubscriptionChange{URL: &url}, events.Pointers{URL: "/url", EventTypes: "/event_types"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Second)
	h.drain(t)
	if len(old.requests()) != 1 || len(moved.requests()) != 1 {
		t.Fatalf("old receiver got %d, moved one %d; want 1 and 1", len(old.requests()), len(moved.requests()))
	}
}

func TestStoppingFinishesTheAttemptInFlight(t *testing.T) {
	h := open(t, "", events.Options{PollInterval: time.Hour})
	arrived, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			close(arrived)
		}
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before rcv.Close, so a failing test does not hang
	h.webhook(t, rcv.URL)
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1"})
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); h.svc.Run(ctx) }()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got nothing")
	}
	stop() // shutdown begins while the receiver holds the attempt
	select {
	case <-stopped:
		t.Fatal("the worker stopped before the attempt in flight ended")
	case <-time.After(50 * time.Millisecond):
	}
	free()
	<-stopped
	ds, _, err := h.svc.Deliveries(context.Background(), events.DeliveryFilter{Owner: events.OwnerAll})
	if err != nil || len(ds) != 1 || ds[0].Status != events.DeliveryDelivered || ds[0].Attempts != 1 || calls.Load() != 1 {
		t.Fatalf("after stopping: %d calls, deliveries %+v: %v", calls.Load(), ds, err)
	}
}
