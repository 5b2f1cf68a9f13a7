package recordapi_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestRecordStagesInOrder shows a record route passing the pipeline's
// stages in order: authenticate, then the guard (the bank, the entity, its
// role), then the policies, then decoding the body, then the write and the
// response filters. Each request carries a body that cannot be decoded
// (a duplicate key) and asks the policy to refuse, so the stage that
// answers is the first that refuses.
func TestRecordStagesInOrder(t *testing.T) {
	rec := enginetest.NewHookRecorder(t)
	e := enginetest.New(t, rec.Option())
	admin := e.Admin()
	if r := admin.Send(t, enginetest.JSONRequest(t, http.MethodPost, "/admin/v1/dynamic-entities",
		enginetest.ReadFile(t, filepath.Join("testdata", "offer-entity.json")))); r.Status != http.StatusCreated {
		t.Fatalf("create entity: %d %s", r.Status, r.Body)
	}
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-long-enough")
	const (
		undecodable = `{"amount":1,"amount":2}`
		valid       = `{"amount":1}`
		op          = "POST /entities/{name}"
	)
	refuse := []string{enginetest.HeaderRefuse}
	for _, tc := range []struct {
		name    string
		caller  enginetest.Caller
		path    string
		body    string
		headers []string
		status  int
		code    string
		hooks   []string
	}{
		{"authenticate before the guard", e.Anonymous(), "/entities/Offer", undecodable, refuse,
			http.StatusUnauthorized, engine.CodeUnauthorized, nil},
		{"the bank before the entity", admin, "/banks/nope/entities/Offer", undecodable, refuse,
			http.StatusNotFound, engine.CodeNotFound, nil},
		{"the entity before the policies", admin, "/entities/Nothing", undecodable, refuse,
			http.StatusNotFound, engine.CodeNotFound, nil},
		{"the entity's role before the policies", e.As(bob), "/entities/Offer", undecodable, refuse,
			http.StatusForbidden, engine.CodeForbidden, nil},
		{"the policies before decoding", admin, "/entities/Offer", undecodable, refuse,
			http.StatusForbidden, enginetest.CodeRefusedByPolicy, []string{"policy " + op}},
		{"decoding after the policies passed", admin, "/entities/Offer", undecodable, nil,
			http.StatusBadRequest, engine.CodeValidationFailed, []string{"policy " + op}},
		{"the write, then the filters", admin, "/entities/Offer", valid, nil,
			http.StatusCreated, "", []string{"policy " + op, "filter " + op}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json", enginetest.HeaderRecord: "1"}
			for _, k := range tc.headers {
				h[k] = "1"
			}
			r := tc.caller.Send(t, enginetest.Request{Method: http.MethodPost, Path: tc.path, Body: []byte(tc.body), Header: h})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.code != "" {
				if p := r.Problem(t); p.Code != tc.code {
					t.Errorf("code %q, want %q: %s", p.Code, tc.code, r.Body)
				}
			}
			if got := rec.Take(); !slices.Equal(got, tc.hooks) {
				t.Errorf("hooks ran %q, want %q", got, tc.hooks)
			}
		})
	}
	if r := admin.Get(t, "/entities/Offer"); r.Status != http.StatusOK || len(r.JSON(t)["offer_list"].([]any)) != 1 {
		t.Errorf("want the one record written: %d %s", r.Status, r.Body)
	}
}
