package events_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/egress"
	"github.com/dynapi/dynapi/internal/fakeclock"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// harness is an events service on a real store in a temp dir, with a fake
// clock, making its attempts through the real egress client to loopback
// receivers.
type harness struct {
	svc   *events.Service
	store engine.Store
	clock *fakeclock.Clock
	keys  *events.WebhookKeys
}

// fakeSigner "signs" a SET as its claims' JSON, so tests read them back
// (the engine's real signer is tested with the UK events API).
type fakeSigner struct{}

func (fakeSigner) SignEvent(claims map[string]any) (string, error) {
	b, err := json.Marshal(claims)
	return string(b), err
}

// open starts a harness on dir (a fresh temp dir when "") with opts'
// non-zero fields.
func open(t testing.TB, dir string, opts events.Options) *harness {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := boltstore.Open(filepath.Join(dir, "events.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clock := fakeclock.New()
	keys, err := events.LoadWebhookKeys(context.Background(), store, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	policy, err := egress.ParsePolicy([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	client := egress.NewClient(policy, egress.Options{Timeout: 2 * time.Second, MaxIdlePerHost: 64})
	opts.Store, opts.Audit, opts.URLs, opts.Keys, opts.Now = store, audit.New(store, clock.Now), policy, keys, clock.Now
	opts.Poster = client
	if opts.Signer == nil {
		opts.Signer = fakeSigner{}
	}
	if opts.Jitter == nil {
		opts.Jitter = func() float64 { return 0 }
	}
	svc, err := events.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{svc: svc, store: store, clock: clock, keys: keys}
}

// emit commits ev as a change would.
func (h *harness) emit(t testing.TB, ev *events.Event) {
	t.Helper()
	if err := h.store.Update(context.Background(), func(tx engine.Tx) error { return events.Emit(tx, ev, h.clock.Now()) }); err != nil {
		t.Fatal(err)
	}
}

// drain runs the worker until nothing is due now.
func (h *harness) drain(t testing.TB) int {
	t.Helper()
	n, err := h.svc.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// webhook subscribes a bank-systems webhook at url.
func (h *harness) webhook(t testing.TB, url string, types ...string) *events.Subscription {
	t.Helper()
	sub, err := h.svc.Subscribe(context.Background(), audit.Actor{UserID: "admin"},
		events.NewSubscription{Kind: events.KindWebhook, URL: url, EventTypes: types}, events.Pointers{URL: "/url", EventTypes: "/event_types"})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// received is one request a receiver got.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is a loopback receiver answering each request with the next of
// its statuses (the last one repeated), recording what it got at the fake
// clock's time.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
	header   http.Header
}

func newReceiver(t *testing.T, clock *fakeclock.Clock, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses, header: http.Header{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{at: clock.Now(), header: req.Header.Clone(), body: body})
		status := r.statuses[min(len(r.got), len(r.statuses))-1]
		for k, v := range r.header {
			w.Header()[k] = v
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// requests is a copy of what r got so far.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verifyWebhook checks a Standard Webhooks v1a signature with the public
// key a subscriber was given ("whpk_…"), written here from the
// specification rather than from the engine's code.
func verifyWebhook(t *testing.T, publicKey string, got received) bool {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(publicKey, "whpk_"))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v", publicKey, err)
	}
	msg := got.header.Get("webhook-id") + "." + got.header.Get("webhook-timestamp") + "." + string(got.body)
	for _, sig := range strings.Fields(got.header.Get("webhook-signature")) {
		version, b64, _ := strings.Cut(sig, ",")
		s, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1a" && err == nil && ed25519.Verify(raw, []byte(msg), s) {
			return true
		}
	}
	return false
}
