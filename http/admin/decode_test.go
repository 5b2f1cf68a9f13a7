package admin_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestPoliciesRunBeforeBodies shows a management route's body decoded in
// the pipeline's Decode stage, after the policies of Config.Hooks
// (enginetest.HookRecorder's, which fails the test if it sees a decoded
// body): a body the route refuses, sent to a call the policy refuses, gets
// the policy's 403, not the 400 the body earns once the policy lets the
// call through.
func TestPoliciesRunBeforeBodies(t *testing.T) {
	rec := enginetest.NewHookRecorder(t)
	inst := enginetest.New(t, rec.Option())
	for _, tc := range []struct {
		name, method, path, operation, body string
	}{
		{"unknown member", http.MethodPost, "/admin/v1/banks", "POST /admin/v1/banks",
			`{"bank_id": "policybank", "bogus": 1}`},
		{"malformed JSON", http.MethodPut, "/my/password", "PUT /my/password", `{"current_password": `},
		{"duplicate key", http.MethodPut, "/admin/v1/dynamic-endpoints/none/host", "PUT /admin/v1/dynamic-endpoints/{id}/host",
			`{"host": "mock", "host": "live"}`},
		{"wrapped entity definition", http.MethodPut, "/admin/v1/dynamic-entities/none", "PUT /admin/v1/dynamic-entities/{id}",
			`{"definition": {}, "bogus": 1}`},
	} {
		send := func(t *testing.T, refuse bool) enginetest.Response {
			t.Helper()
			h := enginetest.JSONHeader()
			h[enginetest.HeaderRecord] = "1"
			if refuse {
				h[enginetest.HeaderRefuse] = "1"
			}
			return inst.Admin().Send(t, enginetest.Request{Method: tc.method, Path: tc.path, Header: h, Body: []byte(tc.body)})
		}
		t.Run(tc.name+"/refused by the policy", func(t *testing.T) {
			r := send(t, true)
			if r.Status != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %s", r.Status, r.Body)
			}
			if p := r.Problem(t); p.Code != enginetest.CodeRefusedByPolicy {
				t.Errorf("problem %q, want the policy's %q", p.Code, enginetest.CodeRefusedByPolicy)
			}
			if got, want := rec.Take(), []string{"policy " + tc.operation}; !slices.Equal(got, want) {
				t.Errorf("hooks ran %q, want %q", got, want)
			}
		})
		t.Run(tc.name+"/let through", func(t *testing.T) {
			r := send(t, false)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			if p := r.Problem(t); p.Code != engine.CodeValidationFailed || len(p.Violations) == 0 || p.Violations[0].Location != "body" {
				t.Errorf("problem %q %v, want validation_failed at the body", p.Code, p.Violations)
			}
			if got, want := rec.Take(), []string{"policy " + tc.operation}; !slices.Equal(got, want) {
				t.Errorf("hooks ran %q, want %q", got, want)
			}
		})
	}
}
