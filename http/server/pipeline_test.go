package server_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// hookLog records the steps hooks saw, in order.
type hookLog struct {
	mu    sync.Mutex
	steps []string
}

func (l *hookLog) add(step string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, step)
}

func (l *hookLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.steps
	l.steps = nil
	return out
}

// TestPipelineHooks shows the policies and response filters every dynamic
// operation passes: in order, after authentication and the guard, before
// validation (policies) and after the connector (filters).
func TestPipelineHooks(t *testing.T) {
	var log hookLog
	policy := func(name string) engine.Policy {
		return engine.PolicyFunc(func(_ context.Context, call *engine.Call) error {
			user := "anonymous"
			if call.Principal != nil {
				user = call.Principal.Username
			}
			log.add(name + ":" + call.OperationID + ":" + user)
			if refuse, _ := call.HTTP.Header("X-Refuse"); refuse == name {
				return engine.NewError(http.StatusForbidden, "consent_missing", name+" refuses")
			}
			if call.Body != nil {
				t.Errorf("%s saw a body before validation", name)
			}
			return nil
		})
	}
	filter := func(name string) engine.ResponseFilter {
		return engine.ResponseFilterFunc(func(_ context.Context, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
			if !strings.HasPrefix(call.HTTP.Path(), "/pipeline/") {
				return reply, nil // logins and the management API pass filters too; they are shown elsewhere
			}
			log.add(name + ":" + call.OperationID)
			if refuse, _ := call.HTTP.Header("X-Refuse"); refuse == name {
				return nil, engine.NewError(http.StatusBadGateway, engine.CodeInvalidResult, name+" refuses")
			}
			body := append(append([]byte(name+"("), reply.Body...), ')')
			return &engine.Reply{Status: reply.Status, ContentType: "text/plain", Body: body}, nil
		})
	}
	cfg := enginetest.Config(t.TempDir())
	cfg.Hooks = engine.Hooks{Policies: []engine.Policy{policy("first"), policy("second")},
		Filters: []engine.ResponseFilter{filter("inner"), filter("outer")}}
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ThingsDocument)
	log.take() // the management API passes the policies too; this test shows dynamic operations

	for _, tc := range []struct {
		name   string
		caller enginetest.Caller
		req    enginetest.Request
		status int
		code   string // the problem's code, when the answer is one
		body   string // the answer's body, when it is not a problem
		steps  []string
	}{
		{name: "public operation passes every hook in order",
			caller: inst.Anonymous(), req: enginetest.Request{Method: "GET", Path: "/pipeline/things"},
			status: http.StatusOK, body: `outer(inner({"things":[]}))`,
			steps: []string{"first:listThings:anonymous", "second:listThings:anonymous", "inner:listThings", "outer:listThings"}},
		{name: "policies see the authenticated caller",
			caller: inst.Admin(), req: enginetest.Request{Method: "POST", Path: "/pipeline/things", Body: []byte(`{"name":"a"}`), Header: enginetest.JSONHeader()},
			status: http.StatusCreated, body: `outer(inner({"name":"x"}))`,
			steps: []string{"first:createThing:admin", "second:createThing:admin", "inner:createThing", "outer:createThing"}},
		{name: "the first refusal ends the call before validation",
			caller: inst.Admin(), req: enginetest.Request{Method: "POST", Path: "/pipeline/things", Body: []byte(`{"nom":1}`),
				Header: map[string]string{"Content-Type": "application/json", "X-Refuse": "first"}},
			status: http.StatusForbidden, code: "consent_missing", steps: []string{"first:createThing:admin"}},
		{name: "a later policy refuses after the earlier ones passed",
			caller: inst.Anonymous(), req: enginetest.Request{Method: "GET", Path: "/pipeline/things", Header: map[string]string{"X-Refuse": "second"}},
			status: http.StatusForbidden, code: "consent_missing",
			steps: []string{"first:listThings:anonymous", "second:listThings:anonymous"}},
		{name: "invalid input after the policies passed is a 400 and reaches no filter",
			caller: inst.Admin(), req: enginetest.Request{Method: "POST", Path: "/pipeline/things", Body: []byte(`{"nom":1}`), Header: enginetest.JSONHeader()},
			status: http.StatusBadRequest, code: engine.CodeValidationFailed,
			steps: []string{"first:createThing:admin", "second:createThing:admin"}},
		{name: "no credentials is a 401 before any policy",
			caller: inst.Anonymous(), req: enginetest.Request{Method: "POST", Path: "/pipeline/things", Body: []byte(`{"name":"a"}`), Header: enginetest.JSONHeader()},
			status: http.StatusUnauthorized, code: engine.CodeUnauthorized},
		{name: "a filter's error is answered instead of the reply",
			caller: inst.Anonymous(), req: enginetest.Request{Method: "GET", Path: "/pipeline/things", Header: map[string]string{"X-Refuse": "inner"}},
			status: http.StatusBadGateway, code: engine.CodeInvalidResult,
			steps: []string{"first:listThings:anonymous", "second:listThings:anonymous", "inner:listThings"}},
		{name: "no route is a 404 before any hook",
			caller: inst.Anonymous(), req: enginetest.Request{Method: "GET", Path: "/pipeline/nothing"},
			status: http.StatusNotFound, code: engine.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Send(t, tc.req)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.code != "" {
				if p := r.Problem(t); p.Code != tc.code {
					t.Errorf("code %q, want %q", p.Code, tc.code)
				}
			} else if !bytes.Equal(r.Body, []byte(tc.body)) {
				t.Errorf("body %s, want %s", r.Body, tc.body)
			}
			if got := log.take(); !slices.Equal(got, tc.steps) {
				t.Errorf("hooks ran %q, want %q", got, tc.steps)
			}
		})
	}
}
