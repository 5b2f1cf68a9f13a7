package eventapi_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// The published UK documents the tests serve.
var (
	eventsDoc        = testpaths.Shared("specs", "ob-uk-v4.0", "events-openapi.yaml")
	notificationsDoc = testpaths.Shared("specs", "ob-uk-v4.0", "event-notifications-openapi.yaml")
	accountInfoDoc   = testpaths.Shared("specs", "ob-uk-v4.0", "account-info-openapi.yaml")
)

// Paths the documents serve.
const (
	subscriptions = "/open-banking/v4.0/event-subscriptions"
	pollPath      = "/open-banking/v4.0/events"
	consentsPath  = "/open-banking/v4.0/aisp/account-access-consents"
)

// newEngine starts an instance whose receivers at 127.0.0.1 are allowed,
// serving the events and account information documents; it returns the
// events document, to check answers against.
func newEngine(t *testing.T) (*enginetest.Engine, *specs.Document) {
	t.Helper()
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Events.CallbackAllow = []string{"127.0.0.1"} }))
	for _, path := range []string{eventsDoc, accountInfoDoc} {
		if r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, path)); r.Status != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
	return inst, load(t, eventsDoc)
}

// load compiles the document at path.
func load(t *testing.T, path string) *specs.Document {
	t.Helper()
	doc, err := specs.Load(enginetest.ReadFile(t, path), "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// app is a TPP: a consumer of the admin with its id, key and a caller
// bearing its client-credentials token.
type app struct {
	enginetest.Caller
	id, key, authorization string
}

// newTPP registers a consumer with callbacks as its callback URLs and
// returns it as a TPP.
func newTPP(t *testing.T, inst *enginetest.Engine, name string, callbacks ...string) app {
	t.Helper()
	r := inst.Admin().PostJSON(t, "/my/consumers", map[string]string{"name": name})
	if r.Status != http.StatusCreated {
		t.Fatalf("consumer %s: %d %s", name, r.Status, r.Body)
	}
	created := r.JSON(t)
	id, key := created["consumer_id"].(string), created["consumer_key"].(string)
	if len(callbacks) > 0 {
		set := inst.Admin().Send(t, enginetest.JSONRequest(t, "PUT", "/my/consumers/"+id+"/callback-urls", map[string]any{"callback_urls": callbacks}))
		if set.Status != http.StatusOK {
			t.Fatalf("callback URLs of %s: %d %s", name, set.Status, set.Body)
		}
	}
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":" + created["consumer_secret"].(string)))
	tok := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
	if tok.Status != http.StatusOK {
		t.Fatalf("token of %s: %d %s", name, tok.Status, tok.Body)
	}
	auth := "Bearer " + tok.JSON(t)["access_token"].(string)
	return app{Caller: inst.WithAuthorization(auth), id: id, key: key, authorization: auth}
}

// send sends a JSON body with the x-jws-signature the document requires
// of subscription changes (the engine does not check it).
func (a app) send(t *testing.T, method, path string, body any) enginetest.Response {
	t.Helper()
	r := enginetest.JSONRequest(t, method, path, body)
	r.Header["x-jws-signature"] = "detached..signature"
	return a.Send(t, r)
}

// subscribe asks for a subscription with data.
func (a app) subscribe(t *testing.T, data map[string]any) enginetest.Response {
	t.Helper()
	return a.send(t, "POST", subscriptions, map[string]any{"Data": data})
}

// poll polls with body.
func (a app) poll(t *testing.T, body map[string]any) enginetest.Response {
	t.Helper()
	return a.send(t, "POST", pollPath, body)
}

// authorisedConsent creates an account-access consent as a and has the
// customer userID authorise it; it returns the consent's id.
func authorisedConsent(t *testing.T, inst *enginetest.Engine, a app, userID string) string {
	t.Helper()
	r := a.PostJSON(t, consentsPath, map[string]any{"Data": map[string]any{"Permissions": []string{"ReadAccountsBasic"},
		"ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}, "Risk": map[string]any{}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create consent: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	inst.AuthoriseConsent(t, id, userID, "acc-1")
	return id
}

// receiver is a TPP's event notification endpoint: it answers each
// request with the next of its statuses (the last one once they run out)
// and records what it was sent, and when by the engine's clock.
type receiver struct {
	*httptest.Server
	clock    func() time.Time
	mu       sync.Mutex
	statuses []int
	got      []notification
}

// notification is one request a receiver took.
type notification struct {
	at                      time.Time
	path, contentType, body string
}

// newReceiver starts a receiver answering statuses in turn, telling the
// time by inst's clock.
func newReceiver(t *testing.T, inst *enginetest.Engine, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses, clock: inst.Clock.Now}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, notification{r.clock(), req.URL.Path, req.Header.Get("Content-Type"), string(b)})
		status := r.statuses[min(len(r.got), len(r.statuses))-1]
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// received is what the receiver was sent so far.
func (r *receiver) received() []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notification(nil), r.got...)
}
