package dynapi_test

import (
	"github.com/dynapi/dynapi/internal/testpaths"
	"net/http"
	"testing"
)

// TestNullableEnumListingNull submits an OpenAPI 3.0 document whose
// nullable enum lists null itself, as real fintech documents do (the
// fixture is shaped like Plaid's AccountSubtype), and checks it is served:
// null and listed values pass, others are a 400 naming the pointer.
func TestNullableEnumListingNull(t *testing.T) {
	inst := open(t, "")
	doc := readFile(t, testpaths.Root("specs", "testdata", "nullable-enum-listing-null.yaml"))
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints?mount=/plaid", doc)
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
			r := do(t, inst, request{method: http.MethodPost, path: tc.path, body: []byte(tc.body), headers: jsonCT})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.problem[0] != "" && !hasViolation(r.problem(t), tc.problem[0], tc.problem[1], tc.problem[2]) {
				t.Fatalf("no %v violation in %s", tc.problem, r.body)
			}
		})
	}
}
