package server_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestValidation sends requests that break (or keep) one rule each and
// checks the status and the violation named, for OpenAPI 3.0 and 3.1
// semantics.
func TestValidation(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "validation-30.yaml")))
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "validation-31.yaml")))
	jsonCT := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name    string
		req     enginetest.Request
		status  int
		problem [3]string // location, pointer, code of a violation that must be listed
	}{
		{"path integer", enginetest.Request{Method: "GET", Path: "/v30/items/7"}, 200, [3]string{}},
		{"path not an integer", enginetest.Request{Method: "GET", Path: "/v30/items/seven"}, 400, [3]string{"path", "/itemId", "type"}},
		{"path below minimum", enginetest.Request{Method: "GET", Path: "/v30/items/0"}, 400, [3]string{"path", "/itemId", "minimum"}},
		{"form array, not exploded", enginetest.Request{Method: "GET", Path: "/v30/items/1?tags=a,b"}, 200, [3]string{}},
		{"form array item outside enum", enginetest.Request{Method: "GET", Path: "/v30/items/1?tags=a,c"}, 400, [3]string{"query", "/tags/1", "enum"}},
		{"exploded integer array", enginetest.Request{Method: "GET", Path: "/v30/items/1?ids=1&ids=2"}, 200, [3]string{}},
		{"exploded integer array, bad item", enginetest.Request{Method: "GET", Path: "/v30/items/1?ids=1&ids=x"}, 400, [3]string{"query", "/ids", "type"}},
		{"boolean", enginetest.Request{Method: "GET", Path: "/v30/items/1?verbose=true"}, 200, [3]string{}},
		{"not a boolean", enginetest.Request{Method: "GET", Path: "/v30/items/1?verbose=yes"}, 400, [3]string{"query", "/verbose", "type"}},
		{"lookahead pattern accepts", enginetest.Request{Method: "GET", Path: "/v30/items/1", Header: map[string]string{"x-trace": "abc"}}, 200, [3]string{}},
		{"lookahead pattern refuses leading space", enginetest.Request{Method: "GET", Path: "/v30/items/1?note=%20abc"}, 400, [3]string{"query", "/note", "pattern"}},
		{"lookahead pattern on a header", enginetest.Request{Method: "GET", Path: "/v30/items/1", Header: map[string]string{"x-trace": "a b"}}, 200, [3]string{}},
		{"cookie too short", enginetest.Request{Method: "GET", Path: "/v30/items/1", Header: map[string]string{"Cookie": "session=ab"}}, 400, [3]string{"cookie", "/session", "minLength"}},
		{"readOnly not required, nullable accepts null", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: jsonCT, Body: []byte(`{"name":"n","price":1,"note":null}`)}, 204, [3]string{}},
		{"boolean exclusiveMinimum", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: jsonCT, Body: []byte(`{"name":"n","price":0}`)}, 400, [3]string{"body", "/price", "exclusiveMinimum"}},
		{"required body property", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: jsonCT, Body: []byte(`{"price":2}`)}, 400, [3]string{"body", "/name", "required"}},
		{"missing body", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: jsonCT}, 400, [3]string{"body", "", "required"}},
		{"malformed JSON", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: jsonCT, Body: []byte(`{"name":`)}, 400, [3]string{"body", "", "malformed"}},
		{"form body coerced", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: []byte("name=n&price=2.5")}, 204, [3]string{}},
		{"form body violation", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: []byte("name=much-too-long-name&price=2")}, 400, [3]string{"body", "/name", "maxLength"}},
		{"unsupported media type", enginetest.Request{Method: "PUT", Path: "/v30/items/1", Header: map[string]string{"Content-Type": "text/plain"}, Body: []byte("x")}, 415, [3]string{}},
		{"oneOf cat", enginetest.Request{Method: "POST", Path: "/v30/pets", Header: jsonCT, Body: []byte(`{"kind":"cat","lives":9}`)}, 201, [3]string{}},
		{"oneOf matches none", enginetest.Request{Method: "POST", Path: "/v30/pets", Header: jsonCT, Body: []byte(`{"kind":"cat","lives":10}`)}, 400, [3]string{"body", "", "oneOf"}},
		{"3.1 const", enginetest.Request{Method: "POST", Path: "/v31/things", Header: jsonCT, Body: []byte(`{"kind":"other","size":1}`)}, 400, [3]string{"body", "/kind", "const"}},
		{"3.1 numeric exclusiveMinimum", enginetest.Request{Method: "POST", Path: "/v31/things", Header: jsonCT, Body: []byte(`{"kind":"thing","size":0}`)}, 400, [3]string{"body", "/size", "exclusiveMinimum"}},
		{"3.1 type array accepts null", enginetest.Request{Method: "POST", Path: "/v31/things", Header: jsonCT, Body: []byte(`{"kind":"thing","size":1,"label":null}`)}, 201, [3]string{}},
		{"3.1 type array refuses number", enginetest.Request{Method: "POST", Path: "/v31/things", Header: jsonCT, Body: []byte(`{"kind":"thing","size":1,"label":5}`)}, 400, [3]string{"body", "/label", "type"}},
		{"every violation listed", enginetest.Request{Method: "POST", Path: "/v31/things", Header: jsonCT, Body: []byte(`{"kind":"x","size":-1,"label":5}`)}, 400, [3]string{"body", "/label", "type"}},
		{"unknown path", enginetest.Request{Method: "GET", Path: "/v30/nothing"}, 404, [3]string{}},
		{"wrong verb", enginetest.Request{Method: "DELETE", Path: "/v30/items/1"}, 405, [3]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Send(t, tc.req)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, tc.status, r.Body)
			}
			if tc.status < 400 {
				return
			}
			p := r.Problem(t)
			if p.Status != tc.status || p.CorrelationID == "" || p.CorrelationID != r.Header.Get("X-Correlation-Id") {
				t.Errorf("problem status %d correlation %q (header %q)", p.Status, p.CorrelationID, r.Header.Get("X-Correlation-Id"))
			}
			if tc.problem[0] != "" && !enginetest.HasViolation(p, tc.problem[0], tc.problem[1], tc.problem[2]) {
				t.Errorf("want violation %v, got %s", tc.problem, r.Body)
			}
		})
	}
	t.Run("every violation counted", func(t *testing.T) {
		r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/v31/things", Header: jsonCT, Body: []byte(`{"kind":"x","size":-1,"label":5}`)})
		if p := r.Problem(t); len(p.Violations) != 3 {
			t.Errorf("want 3 violations (const, exclusiveMinimum, type), got %s", r.Body)
		}
	})
	t.Run("405 names the allowed methods", func(t *testing.T) {
		r := inst.Admin().Delete(t, "/v30/items/1")
		if allow := r.Header.Get("Allow"); allow != "GET, HEAD, PUT" {
			t.Errorf("Allow %q", allow)
		}
	})
}

// TestMockAnswers checks how mock mode chooses its answer.
func TestMockAnswers(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "validation-31.yaml")))
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "validation-30.yaml")))
	body := []byte(`{"kind":"thing","size":1}`)
	jsonCT := "application/json"
	cases := []struct {
		name     string
		req      enginetest.Request
		status   int
		contains string
	}{
		{"first named example", enginetest.Request{Method: "POST", Path: "/v31/things", Body: body, Header: map[string]string{"Content-Type": jsonCT}}, 201, `"size":1`},
		{"Prefer example", enginetest.Request{Method: "POST", Path: "/v31/things", Body: body, Header: map[string]string{"Content-Type": jsonCT, "Prefer": "example=large"}}, 201, `"size":100`},
		{"Prefer code", enginetest.Request{Method: "POST", Path: "/v31/things", Body: body, Header: map[string]string{"Content-Type": jsonCT, "Prefer": "code=409"}}, 409, `"error":"exists"`},
		{"media example", enginetest.Request{Method: "GET", Path: "/v30/items/3"}, 200, `"name":"one"`},
		{"204 has no body", enginetest.Request{Method: "PUT", Path: "/v30/items/3", Body: []byte(`{"name":"a","price":1}`), Header: map[string]string{"Content-Type": jsonCT}}, 204, ""},
		{"synthesised from schema", enginetest.Request{Method: "POST", Path: "/v30/pets", Body: []byte(`{"kind":"dog","good":true}`), Header: map[string]string{"Content-Type": jsonCT}}, 201, `"created":true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Send(t, tc.req)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.contains) {
				t.Fatalf("got %d %s, want %d containing %s", r.Status, r.Body, tc.status, tc.contains)
			}
			if tc.status == http.StatusNoContent && len(r.Body) != 0 {
				t.Errorf("204 with a body: %s", r.Body)
			}
		})
	}
}
