package server_test

import (
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// TestNullableEnumListingNull submits an OpenAPI 3.0 document whose
// nullable enum lists null itself, as real fintech documents do (the
// fixture is shaped like Plaid's AccountSubtype), and checks it is served:
// null and listed values pass, others are a 400 naming the pointer.
func TestNullableEnumListingNull(t *testing.T) {
	inst := enginetest.New(t)
	doc := enginetest.ReadFile(t, testpaths.Root("specs", "testdata", "nullable-enum-listing-null.yaml"))
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/plaid", doc)
	if w, _ := created["warnings"].([]any); len(w) != 0 {
		t.Errorf("warnings %v", w)
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name    string
		path    string
		body    string
		status  int
		problem [3]string // location, pointer, code of a violation that must be listed
	}{
		{"listed value", "/plaid/accounts/get", `{"access_token":"t","subtype":"checking"}`, http.StatusOK, [3]string{}},
		{"null", "/plaid/accounts/get", `{"access_token":"t","subtype":null}`, http.StatusOK, [3]string{}},
		{"listed value in the query", "/plaid/accounts/get?subtype=cash%20isa", `{"access_token":"t","subtype":null}`, http.StatusOK, [3]string{}},
		{"unlisted value", "/plaid/accounts/get", `{"access_token":"t","subtype":"current"}`, http.StatusBadRequest, [3]string{"body", "/subtype", "enum"}},
		{"unlisted value in the query", "/plaid/accounts/get?subtype=current", `{"access_token":"t","subtype":null}`, http.StatusBadRequest, [3]string{"query", "/subtype", "enum"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodPost, Path: tc.path, Body: []byte(tc.body), Header: jsonCT})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.problem[0] != "" && !enginetest.HasViolation(r.Problem(t), tc.problem[0], tc.problem[1], tc.problem[2]) {
				t.Fatalf("no %v violation in %s", tc.problem, r.Body)
			}
		})
	}
}
