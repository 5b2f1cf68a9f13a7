package dynapi_test

import (
	"net/http"
	"testing"
)

// TestValidation sends requests that break (or keep) one rule each and
// checks the status and the violation named, for OpenAPI 3.0 and 3.1
// semantics.
func TestValidation(t *testing.T) {
	inst := open(t, "")
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/validation-30.yaml"))
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/validation-31.yaml"))
	jsonCT := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name    string
		req     request
		status  int
		problem [3]string // location, pointer, code of a violation that must be listed
	}{
		{"path integer", request{method: "GET", path: "/v30/items/7"}, 200, [3]string{}},
		{"path not an integer", request{method: "GET", path: "/v30/items/seven"}, 400, [3]string{"path", "/itemId", "type"}},
		{"path below minimum", request{method: "GET", path: "/v30/items/0"}, 400, [3]string{"path", "/itemId", "minimum"}},
		{"form array, not exploded", request{method: "GET", path: "/v30/items/1?tags=a,b"}, 200, [3]string{}},
		{"form array item outside enum", request{method: "GET", path: "/v30/items/1?tags=a,c"}, 400, [3]string{"query", "/tags/1", "enum"}},
		{"exploded integer array", request{method: "GET", path: "/v30/items/1?ids=1&ids=2"}, 200, [3]string{}},
		{"exploded integer array, bad item", request{method: "GET", path: "/v30/items/1?ids=1&ids=x"}, 400, [3]string{"query", "/ids", "type"}},
		{"boolean", request{method: "GET", path: "/v30/items/1?verbose=true"}, 200, [3]string{}},
		{"not a boolean", request{method: "GET", path: "/v30/items/1?verbose=yes"}, 400, [3]string{"query", "/verbose", "type"}},
		{"lookahead pattern accepts", request{method: "GET", path: "/v30/items/1", headers: map[string]string{"x-trace": "abc"}}, 200, [3]string{}},
		{"lookahead pattern refuses leading space", request{method: "GET", path: "/v30/items/1?note=%20abc"}, 400, [3]string{"query", "/note", "pattern"}},
		{"lookahead pattern on a header", request{method: "GET", path: "/v30/items/1", headers: map[string]string{"x-trace": "a b"}}, 200, [3]string{}},
		{"cookie too short", request{method: "GET", path: "/v30/items/1", headers: map[string]string{"Cookie": "session=ab"}}, 400, [3]string{"cookie", "/session", "minLength"}},
		{"readOnly not required, nullable accepts null", request{method: "PUT", path: "/v30/items/1", headers: jsonCT, body: []byte(`{"name":"n","price":1,"note":null}`)}, 204, [3]string{}},
		{"boolean exclusiveMinimum", request{method: "PUT", path: "/v30/items/1", headers: jsonCT, body: []byte(`{"name":"n","price":0}`)}, 400, [3]string{"body", "/price", "exclusiveMinimum"}},
		{"required body property", request{method: "PUT", path: "/v30/items/1", headers: jsonCT, body: []byte(`{"price":2}`)}, 400, [3]string{"body", "/name", "required"}},
		{"missing body", request{method: "PUT", path: "/v30/items/1", headers: jsonCT}, 400, [3]string{"body", "", "required"}},
		{"malformed JSON", request{method: "PUT", path: "/v30/items/1", headers: jsonCT, body: []byte(`{"name":`)}, 400, [3]string{"body", "", "malformed"}},
		{"form body coerced", request{method: "PUT", path: "/v30/items/1", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: []byte("name=n&price=2.5")}, 204, [3]string{}},
		{"form body violation", request{method: "PUT", path: "/v30/items/1", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: []byte("name=much-too-long-name&price=2")}, 400, [3]string{"body", "/name", "maxLength"}},
		{"unsupported media type", request{method: "PUT", path: "/v30/items/1", headers: map[string]string{"Content-Type": "text/plain"}, body: []byte("x")}, 415, [3]string{}},
		{"oneOf cat", request{method: "POST", path: "/v30/pets", headers: jsonCT, body: []byte(`{"kind":"cat","lives":9}`)}, 201, [3]string{}},
		{"oneOf matches none", request{method: "POST", path: "/v30/pets", headers: jsonCT, body: []byte(`{"kind":"cat","lives":10}`)}, 400, [3]string{"body", "", "oneOf"}},
		{"3.1 const", request{method: "POST", path: "/v31/things", headers: jsonCT, body: []byte(`{"kind":"other","size":1}`)}, 400, [3]string{"body", "/kind", "const"}},
		{"3.1 numeric exclusiveMinimum", request{method: "POST", path: "/v31/things", headers: jsonCT, body: []byte(`{"kind":"thing","size":0}`)}, 400, [3]string{"body", "/size", "exclusiveMinimum"}},
		{"3.1 type array accepts null", request{method: "POST", path: "/v31/things", headers: jsonCT, body: []byte(`{"kind":"thing","size":1,"label":null}`)}, 201, [3]string{}},
		{"3.1 type array refuses number", request{method: "POST", path: "/v31/things", headers: jsonCT, body: []byte(`{"kind":"thing","size":1,"label":5}`)}, 400, [3]string{"body", "/label", "type"}},
		{"every violation listed", request{method: "POST", path: "/v31/things", headers: jsonCT, body: []byte(`{"kind":"x","size":-1,"label":5}`)}, 400, [3]string{"body", "/label", "type"}},
		{"unknown path", request{method: "GET", path: "/v30/nothing"}, 404, [3]string{}},
		{"wrong verb", request{method: "DELETE", path: "/v30/items/1"}, 405, [3]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, inst, tc.req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.status < 400 {
				return
			}
			p := r.problem(t)
			if p.Status != tc.status || p.CorrelationID == "" || p.CorrelationID != r.header.Get("X-Correlation-Id") {
				t.Errorf("problem status %d correlation %q (header %q)", p.Status, p.CorrelationID, r.header.Get("X-Correlation-Id"))
			}
			if tc.problem[0] != "" && !hasViolation(p, tc.problem[0], tc.problem[1], tc.problem[2]) {
				t.Errorf("want violation %v, got %s", tc.problem, r.body)
			}
		})
	}
	t.Run("every violation counted", func(t *testing.T) {
		r := do(t, inst, request{method: "POST", path: "/v31/things", headers: jsonCT, body: []byte(`{"kind":"x","size":-1,"label":5}`)})
		if p := r.problem(t); len(p.Violations) != 3 {
			t.Errorf("want 3 violations (const, exclusiveMinimum, type), got %s", r.body)
		}
	})
	t.Run("405 names the allowed methods", func(t *testing.T) {
		r := do(t, inst, request{method: "DELETE", path: "/v30/items/1"})
		if allow := r.header.Get("Allow"); allow != "GET, HEAD, PUT" {
			t.Errorf("Allow %q", allow)
		}
	})
}

// TestMockAnswers checks how mock mode chooses its answer.
func TestMockAnswers(t *testing.T) {
	inst := open(t, "")
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/validation-31.yaml"))
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/validation-30.yaml"))
	body := []byte(`{"kind":"thing","size":1}`)
	jsonCT := "application/json"
	cases := []struct {
		name     string
		req      request
		status   int
		contains string
	}{
		{"first named example", request{method: "POST", path: "/v31/things", body: body, headers: map[string]string{"Content-Type": jsonCT}}, 201, `"size":1`},
		{"Prefer example", request{method: "POST", path: "/v31/things", body: body, headers: map[string]string{"Content-Type": jsonCT, "Prefer": "example=large"}}, 201, `"size":100`},
		{"Prefer code", request{method: "POST", path: "/v31/things", body: body, headers: map[string]string{"Content-Type": jsonCT, "Prefer": "code=409"}}, 409, `"error":"exists"`},
		{"media example", request{method: "GET", path: "/v30/items/3"}, 200, `"name":"one"`},
		{"204 has no body", request{method: "PUT", path: "/v30/items/3", body: []byte(`{"name":"a","price":1}`), headers: map[string]string{"Content-Type": jsonCT}}, 204, ""},
		{"synthesised from schema", request{method: "POST", path: "/v30/pets", body: []byte(`{"kind":"dog","good":true}`), headers: map[string]string{"Content-Type": jsonCT}}, 201, `"created":true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, inst, tc.req)
			if r.status != tc.status || !contains(string(r.body), tc.contains) {
				t.Fatalf("got %d %s, want %d containing %s", r.status, r.body, tc.status, tc.contains)
			}
			if tc.status == http.StatusNoContent && len(r.body) != 0 {
				t.Errorf("204 with a body: %s", r.body)
			}
		})
	}
}
