package server_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"

	"github.com/dynapi/dynapi/specs"
)

// warning is one entry of a submission's "warnings".
type warning struct{ Pointer, Code, Message string }

// warningsOf reads the warnings of a submission's answer.
func warningsOf(t testing.TB, created map[string]any) []warning {
	t.Helper()
	var out []warning
	if err := json.Unmarshal(enginetest.MustJSON(t, created["warnings"]), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMockAnswersFitAndFollowTheDocument submits a document (as YAML and as JSON) whose examples
// break their own schema, whose named examples are not written in
// alphabetical order and whose first media type declares a charset, and
// checks over HTTP what the mock answers.
func TestMockAnswersFitAndFollowTheDocument(t *testing.T) {
	codePattern := regexp.MustCompile(`^\w{0,4}$`)
	for _, file := range []string{"answers.yaml", "answers.json"} {
		t.Run(file, func(t *testing.T) {
			inst := enginetest.New(t)
			created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", file)))
			t.Run("broken examples are warned about", func(t *testing.T) {
				want := map[string][]string{
					"/paths/~1codes/get/responses/200/content/application~1json; charset=utf-8/example": {"getCode", "response 200", "at /code"},
					"/paths/~1pets/get/responses/200/content/application~1json/examples/broken/value":   {"getPet", "response 200", "at /name"},
				}
				for _, w := range warningsOf(t, created) {
					if words, ok := want[w.Pointer]; ok && w.Code == "example_mismatch" {
						for _, word := range words {
							if !strings.Contains(w.Message, word) {
								t.Errorf("warning at %s does not name %q: %s", w.Pointer, word, w.Message)
							}
						}
						delete(want, w.Pointer)
					}
				}
				for pointer := range want {
					t.Errorf("no example_mismatch warning at %s: %v", pointer, created["warnings"])
				}
			})
			cases := []struct {
				name, path, prefer string
				contentType        string
				check              func(t *testing.T, body map[string]any)
			}{
				{"an example breaking its pattern is replaced by a value that fits", "/answers/codes", "", "application/json; charset=utf-8",
					func(t *testing.T, body map[string]any) {
						if code, _ := body["code"].(string); !codePattern.MatchString(code) {
							t.Errorf("code %q does not match %s", code, codePattern)
						}
					}},
				{"the first named example as written answers", "/answers/pets", "", "application/json",
					func(t *testing.T, body map[string]any) {
						if body["name"] != "Zed" {
							t.Errorf("name %v, want the first example written (zebra: Zed)", body["name"])
						}
					}},
				{"a named example is chosen by Prefer", "/answers/pets", "example=alpha", "application/json",
					func(t *testing.T, body map[string]any) {
						if body["name"] != "Al" {
							t.Errorf("name %v, want Al", body["name"])
						}
					}},
				{"a broken named example is replaced by a value that fits", "/answers/pets", "example=broken", "application/json",
					func(t *testing.T, body map[string]any) {
						if name, ok := body["name"].(string); !ok || len(name) > 8 {
							t.Errorf("name %v, want a string of at most 8 characters", body["name"])
						}
					}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					h := map[string]string{}
					if tc.prefer != "" {
						h["Prefer"] = tc.prefer
					}
					r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodGet, Path: tc.path, Header: h})
					if r.Status != http.StatusOK {
						t.Fatalf("status %d: %s", r.Status, r.Body)
					}
					if got := r.Header.Get("Content-Type"); got != tc.contentType {
						t.Errorf("Content-Type %q, want %q", got, tc.contentType)
					}
					tc.check(t, r.JSON(t))
				})
			}
		})
	}
}

// unfitSchemas lists the response schemas of real documents that no answer
// can fit ("file#schema pointer" -> why).
var unfitSchemas = map[string]string{
	"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml#/components/responses/OK_200_UpdatePsuData/content/application~1json/schema": "its oneOf branches overlap: a value with scaStatus fits both updatePsuAuthenticationResponse and scaStatusResponse, which allow any other property; the document's own five examples break it the same way",
}

// TestRealDocumentMockAnswers submits real documents and calls every
// operation over HTTP: each mock answer validates against the response
// schema compiled from the document, and carries the first JSON media type
// the document declares for it, charset included. Berlin Group's named
// examples break their schema; UK Open Banking's property examples
// ("string" where a pattern allows four word characters) do; UK Open
// Banking declares application/json; charset=utf-8 first.
func TestRealDocumentMockAnswers(t *testing.T) {
	for _, tc := range []struct {
		file string
		// jsonType is the Content-Type every JSON answer must carry.
		jsonType string
	}{
		{"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml", "application/json"},
		{"ob-uk-v4.0/account-info-openapi.yaml", "application/json; charset=utf-8"},
		{"ob-uk-v3.1.7-swagger2/account-info-swagger.json", "application/json; charset=utf-8"},
	} {
		file := tc.file
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			inst := enginetest.New(t)
			// No consent profile: the mock answers every operation (see
			// TestRealSpecs).
			created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?consent_profile=none", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), file)))
			ep, err := inst.Endpoints.Get("", created["dynamic_endpoint_id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, op := range ep.Doc.Operations {
				if checkMockAnswer(t, inst, file, tc.jsonType, ep.Doc, op, ep.ServedPath(op)) {
					checked++
				}
			}
			if checked == 0 {
				t.Fatal("no answer checked")
			}
			t.Logf("%d answers validated", checked)
		})
	}
}

// checkMockAnswer calls op with a valid request, expects a JSON answer of
// jsonType and validates it against the schema of the response it
// answers; it reports whether there was a schema to validate against.
func checkMockAnswer(t *testing.T, inst *enginetest.Engine, file, jsonType string, doc *specs.Document, op *specs.Operation, served string) bool {
	t.Helper()
	if len(op.Responses) == 0 {
		return false
	}
	var media *specs.ResponseMedia
	for _, m := range op.Responses[0].Media {
		if m.IsJSON() && !strings.HasPrefix(m.Type, "*/*") {
			media = m
			break
		}
	}
	if media == nil {
		return false
	}
	schema, err := media.CompileSchema()
	if err != nil || schema == nil || unfitSchemas[file+"#"+media.SchemaPointer()] != "" {
		return false
	}
	r := inst.Admin().Send(t, validRequest(t, doc, op, served))
	if got := r.Header.Get("Content-Type"); got != jsonType {
		t.Errorf("%s %s: Content-Type %q, want %q", op.Method, op.Path, got, jsonType)
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s %s: %d, not JSON: %s", op.Method, op.Path, r.Status, r.Body)
		return true
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("%s %s: the answer breaks the document's schema: %v", op.Method, op.Path, err)
	}
	return true
}

// readmeScript is the README's example of a JavaScript method answering a
// dynamic operation, so the example shown is the one that runs.
func readmeScript(t *testing.T) string {
	t.Helper()
	readme := string(enginetest.ReadFile(t, testpaths.Root("README.md")))
	_, after, ok := strings.Cut(readme, "**A JavaScript method answering a dynamic operation**")
	if !ok {
		t.Fatal("the README has no example of a script answering a dynamic operation")
	}
	_, block, ok := strings.Cut(after, "```js\n")
	script, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("the README's example script is not in a js code block")
	}
	return script
}

// TestScriptResultChecked answers a dynamic operation in JavaScript: what
// the script sees of the request (args[0]) and that its result is checked
// against the operation's response schema, a 502 naming each place it
// breaks it.
func TestScriptResultChecked(t *testing.T) {
	cases := []struct {
		name, script string
		status       int
		want         map[string]any
		pointers     []string // of the violations of a 502
	}{
		{"the README example", readmeScript(t), http.StatusOK,
			map[string]any{"accountId": "acc-1", "currency": "GBP", "amount": "10.00", "requestId": "req-7"}, nil},
		{"a value of the wrong type", `return {accountId: args[0].path.accountId, currency: "GBP", amount: 10};`,
			http.StatusBadGateway, nil, []string{"/amount"}},
		{"missing and malformed properties", `return {currency: "pounds"};`,
			http.StatusBadGateway, nil, []string{"/accountId", "/amount", "/currency"}},
		{"not an object", `return "ten";`, http.StatusBadGateway, nil, []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inst := enginetest.New(t)
			inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "script-answers.yaml")))
			inst.CreateScript(t, "getBalance", tc.script, 0)
			r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/balances/accounts/acc-1/balance?currency=GBP",
				Header: map[string]string{"X-Request-ID": "req-7"}})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status == http.StatusOK {
				got := r.JSON(t)
				for k, v := range tc.want {
					if got[k] != v {
						t.Errorf("%s = %v, want %v (answer %s)", k, got[k], v, r.Body)
					}
				}
				return
			}
			p := r.Problem(t)
			if p.Code != "invalid_connector_result" {
				t.Errorf("code %q, want invalid_connector_result", p.Code)
			}
			for _, pointer := range tc.pointers {
				if !enginetest.HasViolation(p, "data", pointer, "*") {
					t.Errorf("no violation at %q: %s", pointer, r.Body)
				}
			}
		})
	}
}

// TestScriptResultKindChecked: GET /hello of the bench document asks only
// for an object, which the first byte of a plain result shows; a result
// of another kind, or one the engine must not pass on, still gets its 502.
func TestScriptResultKindChecked(t *testing.T) {
	cases := []struct {
		name, script  string
		status        int
		pointer, code string
	}{
		{"an object", `return {message: "hi", n: 1};`, http.StatusOK, "", ""},
		{"an array", `return [1, 2];`, http.StatusBadGateway, "", "*"},
		{"a lone surrogate", `return {s: "a\ud800"};`, http.StatusBadGateway, "/s", "lone_surrogate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inst := enginetest.New(t)
			inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/", enginetest.ReadFile(t, testpaths.Shared("bench", "accounts.yaml")))
			inst.CreateScript(t, "hello", tc.script, 0)
			r := inst.Admin().Get(t, "/hello")
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status == http.StatusOK {
				if got := r.JSON(t); got["message"] != "hi" || got["n"] != 1.0 {
					t.Errorf("answer %s", r.Body)
				}
				return
			}
			if p := r.Problem(t); p.Code != "invalid_connector_result" || !enginetest.HasViolation(p, "data", tc.pointer, tc.code) {
				t.Errorf("want invalid_connector_result naming %q %s: %s", tc.pointer, tc.code, r.Body)
			}
		})
	}
}
