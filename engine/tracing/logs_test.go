package tracing_test

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// The credentials the logged scenario chooses.
const (
	logAdminPassword  = "Chosen-admin-passphrase-4417"
	logConsumerSecret = "chosen-bootstrap-consumer-secret-8c1d2e3f"
	logUserPassword   = "Alice-own-passphrase-9921"
	logWrongPassword  = "Alice-wrong-passphrase-0000"
)

// TestLogsHoldNoSecret runs a whole scenario with the logger at debug
// level writing JSON, then greps the log for every password, secret, key
// and token the scenario used, as they are and base64 encoded: none may be
// there. Lines written while serving a request carry its correlation id
// and trace id.
func TestLogsHoldNoSecret(t *testing.T) {
	t.Parallel()
	var logs enginetest.LogBuffer
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Admin.AdminPassword, c.Admin.ConsumerSecret = logAdminPassword, logConsumerSecret
		c.Tracing.Provider = tp
	}))
	secrets := []string{logAdminPassword, logConsumerSecret, logUserPassword, logWrongPassword, inst.AdminToken()}

	// A back end that sees the signed context header, and fails once.
	var mu sync.Mutex
	fail := false
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		secrets = append(secrets, r.Header.Get("Account-Request-Information"))
		failing := fail
		mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"balance": "10.00"}`))
	}))
	t.Cleanup(back.Close)
	created := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/traced.json"))
	if created.Status != http.StatusCreated {
		t.Fatalf("create document: %d %s", created.Status, created.Body)
	}
	inst.CreateRouting(t, map[string]any{"method_name": "viaRest", "connector_name": "rest",
		"parameters": []map[string]string{{"key": "url", "value": back.URL}}})

	// A user with a password, logging in by DirectLogin, and a wrong one.
	alice := inst.CreateUser(t, "alice", logUserPassword)
	secrets = append(secrets, alice.Token)
	wrong := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodPost, Path: "/my/logins/direct", Header: map[string]string{
		"DirectLogin": `username="alice", password="` + logWrongPassword + `", consumer_key="` + enginetest.ConsumerKey + `"`}})
	if wrong.Status != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password: %d %s", wrong.Status, wrong.Body)
	}

	// A consumer app, its client-credentials token and a call with it.
	app := inst.Admin().PostJSON(t, "/admin/v1/consumers", map[string]any{"name": "logged app"})
	if app.Status != http.StatusCreated {
		t.Fatalf("create consumer: %d %s", app.Status, app.Body)
	}
	key, _ := app.JSON(t)["consumer_key"].(string)
	secret, _ := app.JSON(t)["consumer_secret"].(string)
	basic := key + ":" + secret
	secrets = append(secrets, key, secret, basic)
	tok := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodPost, Path: "/oauth2/token",
		Body: []byte("grant_type=client_credentials"), Header: map[string]string{
			"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(basic)),
			"Content-Type":  "application/x-www-form-urlencoded"}})
	if tok.Status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", tok.Status, tok.Body)
	}
	bearer, _ := tok.JSON(t)["access_token"].(string)
	secrets = append(secrets, bearer)
	if r := inst.WithAuthorization("Bearer "+bearer).Get(t, "/my/consumers"); r.Status >= 500 {
		t.Fatalf("call with the bearer token: %d %s", r.Status, r.Body)
	}

	// Consent-less calls with the tokens, one reaching the REST back end
	// with the signed context header, one it fails.
	if r := inst.As(alice).Get(t, "/my/user"); r.Status != http.StatusOK {
		t.Fatalf("call with alice's token: %d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Get(t, "/traced/accounts/acc-1"); r.Status != http.StatusOK {
		t.Fatalf("REST call: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	failed := inst.Admin().Get(t, "/traced/accounts/acc-2")
	if failed.Status != http.StatusServiceUnavailable {
		t.Fatalf("failing REST call: %d %s", failed.Status, failed.Body)
	}

	log := logs.String()
	t.Run("no secret", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range secrets {
			if s == "" {
				t.Fatal("the scenario lost a secret on the way")
			}
			for _, form := range encodings(s) {
				if strings.Contains(log, form) {
					t.Errorf("the log holds %q (a form of a secret the scenario used)", form)
				}
			}
		}
	})
	t.Run("request lines carry their ids", func(t *testing.T) {
		for _, tc := range []struct {
			msg string
			cid string
		}{
			{"dynamic endpoint created", created.Header.Get("X-Correlation-Id")},
			{"rest: back end call failed", failed.Header.Get("X-Correlation-Id")},
		} {
			line := logs.Record(t, tc.msg, tc.cid)
			if line == nil {
				t.Errorf("no line %q with correlation id %s in:\n%s", tc.msg, tc.cid, log)
				continue
			}
			_, root := treeOf(t, rec, tc.cid)
			if line[tracing.LogTraceID] != root.SpanContext().TraceID().String() || line[tracing.LogSpanID] == nil {
				t.Errorf("line %q: trace_id %v, span_id %v; want the request's trace %s", tc.msg, line[tracing.LogTraceID],
					line[tracing.LogSpanID], root.SpanContext().TraceID())
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
			if strings.Count(line, `"correlation_id":`) > 1 {
				t.Errorf("a line names its correlation id twice: %s", line)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Errorf("a line is not JSON: %s", line)
			}
		}
	})
}

// encodings are s and its base64 forms.
func encodings(s string) []string {
	b := []byte(s)
	return []string{s, base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)}
}
