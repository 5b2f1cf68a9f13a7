package server_test

import (
	"bytes"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// hooked starts an engine whose Config.Hooks are rec's.
func hooked(t *testing.T) (*enginetest.Engine, *enginetest.HookRecorder) {
	t.Helper()
	rec := enginetest.NewHookRecorder(t)
	return enginetest.New(t, rec.Option()), rec
}

// TestHooksRunOnEveryRoute shows the policies and response filters of
// Config.Hooks (enginetest.HookRecorder's) running for every kind of route: a management call, a
// records call, a dynamic operation, a token route and health. The policy
// refuses each with the same problem; the filter sees each answer and what
// it returns is rendered in its place.
func TestHooksRunOnEveryRoute(t *testing.T) {
	e, log := hooked(t)
	admin := e.Admin()
	admin.MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "hooks-document.json")))
	if r := admin.Send(t, enginetest.JSONRequest(t, http.MethodPost, "/admin/v1/dynamic-entities",
		enginetest.ReadFile(t, filepath.Join("testdata", "hooks-entity.json")))); r.Status != http.StatusCreated {
		t.Fatalf("create entity: %d %s", r.Status, r.Body)
	}
	login := map[string]string{"DirectLogin": `username="` + enginetest.AdminUsername + `", password="` +
		enginetest.AdminPassword + `", consumer_key="` + enginetest.ConsumerKey + `"`}

	for _, tc := range []struct {
		name      string
		caller    enginetest.Caller
		method    string
		path      string
		header    map[string]string
		status    int    // the answer's status when neither refused nor wrapped
		operation string // as hooks see it
	}{
		{"management", admin, http.MethodGet, "/admin/v1/users", nil, http.StatusOK, "GET /admin/v1/users"},
		{"records", admin, http.MethodGet, "/entities/Offer", nil, http.StatusOK, "GET /entities/{name}"},
		{"dynamic", admin, http.MethodGet, "/hooks/things", nil, http.StatusOK, "listThings"},
		{"login", e.Anonymous(), http.MethodPost, "/my/logins/direct", login, http.StatusCreated, "POST /my/logins/direct"},
		{"health", e.Anonymous(), http.MethodGet, "/healthz", nil, http.StatusOK, "GET /healthz"},
	} {
		send := func(t *testing.T, extra ...string) enginetest.Response {
			t.Helper()
			h := map[string]string{enginetest.HeaderRecord: "1"}
			for k, v := range tc.header {
				h[k] = v
			}
			for _, k := range extra {
				h[k] = "1"
			}
			return tc.caller.Send(t, enginetest.Request{Method: tc.method, Path: tc.path, Header: h})
		}
		t.Run(tc.name+"/refused by the policy", func(t *testing.T) {
			r := send(t, enginetest.HeaderRefuse)
			if r.Status != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %s", r.Status, r.Body)
			}
			if p := r.Problem(t); p.Code != enginetest.CodeRefusedByPolicy || p.Message != "no consent covers this call" {
				t.Errorf("problem %q %q, want the policy's", p.Code, p.Message)
			}
			if got, want := log.Take(), []string{"policy " + tc.operation}; !slices.Equal(got, want) {
				t.Errorf("hooks ran %q, want %q", got, want)
			}
		})
		t.Run(tc.name+"/answer seen by the filter", func(t *testing.T) {
			plain := send(t)
			if plain.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", plain.Status, tc.status, plain.Body)
			}
			if got, want := log.Take(), []string{"policy " + tc.operation, "filter " + tc.operation}; !slices.Equal(got, want) {
				t.Errorf("hooks ran %q, want %q", got, want)
			}
			r := send(t, enginetest.HeaderWrap)
			if r.Status != tc.status || r.Header.Get("Content-Type") != "text/plain" ||
				!bytes.HasPrefix(r.Body, []byte("wrapped(")) || !bytes.HasSuffix(r.Body, []byte(")")) {
				t.Errorf("the filter's reply was not rendered: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			if r.Header.Get("X-Correlation-Id") == "" {
				t.Error("the filtered answer lost its correlation id")
			}
			log.Take()
		})
	}
}

// TestHooksSkipRefusedRequests shows the stages before the policies: a
// request without credentials, one the guard refuses and one for no route
// reach no hook.
func TestHooksSkipRefusedRequests(t *testing.T) {
	e, log := hooked(t)
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-long-enough")
	for _, tc := range []struct {
		name   string
		caller enginetest.Caller
		path   string
		status int
	}{
		{"no credentials", e.Anonymous(), "/admin/v1/users", http.StatusUnauthorized},
		{"guard refuses", e.As(bob), "/admin/v1/users", http.StatusForbidden},
		{"unknown bank", e.Admin(), "/admin/v1/banks/nope/dynamic-endpoints", http.StatusNotFound},
		{"no route", e.Admin(), "/admin/v1/nothing", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Send(t, enginetest.Request{Method: http.MethodGet, Path: tc.path,
				Header: map[string]string{enginetest.HeaderRecord: "1", enginetest.HeaderRefuse: "1"}})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if p := r.Problem(t); p.Code == enginetest.CodeRefusedByPolicy {
				t.Errorf("the policy answered %s", p.Code)
			}
			if got := log.Take(); len(got) != 0 {
				t.Errorf("hooks ran %q, want none", got)
			}
		})
	}
}
