package admin_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// hookTimeout is the engine's delivery timeout in these tests: a receiver
// slower than it has its attempt fail.
const hookTimeout = 300 * time.Millisecond

// hookEngine starts an engine whose deliveries (allowed to reach the
// tests' receivers on 127.0.0.1 unless opts say otherwise) time out after
// hookTimeout, and whose logins outlive a delivery's 72 hours of
// attempts.
func hookEngine(t *testing.T, opts ...enginetest.Option) *enginetest.Engine {
	t.Helper()
	return enginetest.New(t, append([]enginetest.Option{enginetest.Configure(func(c *dynapi.Config) {
		c.Events.DeliveryTimeout, c.DirectLoginTTL = hookTimeout, 100*time.Hour
	})}, opts...)...)
}

// drain makes the engine's delivery worker do now whatever is due at the
// engine's clock.
func drain(t *testing.T, inst *enginetest.Engine) {
	t.Helper()
	if _, err := inst.Events.Drain(context.Background()); err != nil {
		t.Fatalf("drain the deliveries: %v", err)
	}
}

// hookAttempt is one request a receiver got.
type hookAttempt struct {
	ID, Timestamp, Signature string
	Body                     []byte
}

// receiver is a webhook receiver as a bank's system or a TPP writes one:
// it takes each message once, by its webhook-id, however often it comes.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	attempts []hookAttempt
	// seen are the webhook-ids taken; taken the bodies taken, each once;
	// finished counts the attempts answered.
	seen     map[string]bool
	taken    [][]byte
	finished int
	// answer is the status and the delay before it of the n-th attempt
	// (from 1).
	answer func(n int) (int, time.Duration)
}

// newReceiver starts a receiver answering each attempt by answer.
func newReceiver(t *testing.T, answer func(n int) (int, time.Duration)) *receiver {
	r := &receiver{seen: map[string]bool{}, answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// answering is an answer: status at once, always.
func answering(status int) func(int) (int, time.Duration) {
	return func(int) (int, time.Duration) { return status, 0 }
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	a := hookAttempt{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Body: body}
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	n, answer := len(r.attempts), r.answer
	r.mu.Unlock()
	status, delay := answer(n)
	time.Sleep(delay)
	r.mu.Lock()
	if status/100 == 2 && !r.seen[a.ID] {
		r.seen[a.ID] = true
		r.taken = append(r.taken, a.Body)
	}
	r.finished++
	r.mu.Unlock()
	w.WriteHeader(status)
}

// setAnswer changes how the receiver answers from now on.
func (r *receiver) setAnswer(answer func(int) (int, time.Duration)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = answer
}

// got is a copy of the attempts so far.
func (r *receiver) got() []hookAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookAttempt(nil), r.attempts...)
}

// took is what the receiver took (once per webhook-id), when it has
// answered every attempt.
func (r *receiver) took() (taken [][]byte, allAnswered bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.taken...), r.finished == len(r.attempts)
}

// verifyHook checks a's webhook-signature with the public key a webhook's
// creation answered ("whpk_" and base64 Ed25519), as Standard Webhooks'
// v1a scheme says: the signature of "{id}.{timestamp}.{body}", among the
// space-separated "v1a,{base64}" of the header.
func verifyHook(t *testing.T, publicKey string, a hookAttempt) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(publicKey, "whpk_"))
	if !strings.HasPrefix(publicKey, "whpk_") || err != nil || len(raw) != ed25519.PublicKeySize {
		t.Fatalf("public key %q is not whpk_ and a base64 Ed25519 key (%v)", publicKey, err)
	}
	msg := []byte(a.ID + "." + a.Timestamp + "." + string(a.Body))
	for _, sig := range strings.Fields(a.Signature) {
		scheme, b64, _ := strings.Cut(sig, ",")
		s, err := base64.StdEncoding.DecodeString(b64)
		if scheme == "v1a" && err == nil && ed25519.Verify(ed25519.PublicKey(raw), msg, s) {
			return
		}
	}
	t.Fatalf("webhook-signature %q does not verify message %s with %s", a.Signature, a.ID, publicKey)
}

// webhook is a webhook as its creation answered it.
type webhook struct {
	ID              string   `json:"id"`
	URL             string   `json:"url"`
	EventTypes      []string `json:"event_types"`
	Status          string   `json:"status"`
	DisabledReason  string   `json:"disabled_reason"`
	ConsumerID      string   `json:"consumer_id"`
	PublicKey       string   `json:"public_key"`
	KeyID           string   `json:"key_id"`
	SignatureScheme string   `json:"signature_scheme"`
}

// createHook registers a webhook as c at path, failing unless it is
// made.
func createHook(t *testing.T, c enginetest.Caller, path string, body map[string]any) webhook {
	t.Helper()
	r := c.PostJSON(t, path, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create webhook at %s as %s: %d %s", path, c, r.Status, r.Body)
	}
	return decode[webhook](t, r)
}

// delivery is an event delivery as the deliveries routes answer it.
type delivery struct {
	ID             string  `json:"id"`
	EventType      string  `json:"event_type"`
	SubscriptionID string  `json:"subscription_id"`
	ConsumerID     string  `json:"consumer_id"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	LastStatus     int     `json:"last_status"`
	LastError      string  `json:"last_error"`
	Payload        *string `json:"payload"`
}

// deliveryPage is a page of deliveries.
type deliveryPage struct {
	Deliveries []delivery `json:"deliveries"`
	NextAfter  string     `json:"next_after"`
}

// decode reads a JSON answer as a T.
func decode[T any](t *testing.T, r enginetest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("answer %d %s: %v", r.Status, r.Body, err)
	}
	return v
}

// getDelivery reads one delivery as c at base (the deliveries' path).
func getDelivery(t *testing.T, c enginetest.Caller, base, id string) delivery {
	t.Helper()
	r := c.Get(t, base+"/"+id)
	if r.Status != http.StatusOK {
		t.Fatalf("get delivery %s as %s: %d %s", id, c, r.Status, r.Body)
	}
	return decode[delivery](t, r)
}

// listDeliveries reads the first page of deliveries as c at path.
func listDeliveries(t *testing.T, c enginetest.Caller, path string) []delivery {
	t.Helper()
	r := c.Get(t, path)
	if r.Status != http.StatusOK {
		t.Fatalf("list deliveries %s as %s: %d %s", path, c, r.Status, r.Body)
	}
	return decode[deliveryPage](t, r).Deliveries
}

// offerDef is the entity whose records the webhook tests create.
const offerDef = `{"Offer": {"required": ["amount"], "properties": {"amount": {"type": "integer", "example": 1}}}}`

// createOffer defines the Offer entity (when define) and creates one of
// its records as the super admin, returning the record's id.
func createOffer(t *testing.T, inst *enginetest.Engine, define bool) string {
	t.Helper()
	if define {
		inst.CreateEntity(t, "/admin/v1/dynamic-entities", offerDef)
	}
	r := inst.Admin().PostJSON(t, "/entities/Offer", map[string]any{"amount": 7})
	if r.Status != http.StatusCreated {
		t.Fatalf("create record: %d %s", r.Status, r.Body)
	}
	id, _ := r.JSON(t)["offer"].(map[string]any)["offer_id"].(string)
	return id
}

// checkWebhookKeyInJWKS: /.well-known/jwks.json lists the webhook key,
// under the key id its creation named, as the Ed25519 key public_key
// encodes, beside the engine's signing keys, and keyfunc still reads the
// set.
func checkWebhookKeyInJWKS(t *testing.T, inst *enginetest.Engine, hook webhook) {
	t.Helper()
	body := inst.Anonymous().Get(t, "/.well-known/jwks.json").Body
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(body))
	if err != nil {
		t.Fatalf("keyfunc reads the JWK Set: %v", err)
	}
	all, err := kf.Storage().KeyReadAll(context.Background())
	if err != nil || len(all) < 2 {
		t.Fatalf("%d keys (%v), want the signing keys and the webhook key: %s", len(all), err, body)
	}
	jwk, err := kf.Storage().KeyRead(context.Background(), hook.KeyID)
	if err != nil {
		t.Fatalf("no key %s in %s: %v", hook.KeyID, body, err)
	}
	pub, ok := jwk.Key().(ed25519.PublicKey)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hook.PublicKey, "whpk_"))
	if !ok || !pub.Equal(ed25519.PublicKey(raw)) {
		t.Errorf("JWK %s is %T, want the Ed25519 key %s", hook.KeyID, jwk.Key(), hook.PublicKey)
	}
}
