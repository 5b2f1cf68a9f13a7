package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// runTimeout is the scripts' deadline in these tests.
const runTimeout = 300 * time.Millisecond

// scriptRunAnswer is the answer of POST /admin/v1/connector-methods/run.
type scriptRunAnswer struct {
	Outcome string          `json:"outcome"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Phase, Name, Message string
		Line, Column         int
	} `json:"error"`
	DurationMS int64 `json:"duration_ms"`
}

// TestRunConnectorMethod runs scripts once through the connector method
// editor's route: a result, a runtime error and a syntax error at their
// line in the submitted body (whichever wrapper the body gets), an endless
// loop stopped at the deadline, and the stored script when no body is
// sent. Nothing is stored, and each run is audited without its
// arguments.
func TestRunConnectorMethod(t *testing.T) {
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Connectors.ScriptTimeout = runTimeout }))
	inst.CreateBank(t, "gh.29.uk")
	for _, tc := range []struct {
		name, method, body string
		args               string
		outcome, result    string // the result, as JSON
		phase, errName     string
		line               int
	}{
		{name: "a result", method: "getBank", body: `return {bank_id: args[0], short_name: "scripted", full_name: "Scripted"};`,
			args: `["gh.29.uk"]`, outcome: "ok", result: `{"bank_id":"gh.29.uk","short_name":"scripted","full_name":"Scripted"}`},
		{name: "a TypeError on line 3", method: "getBank", body: "const id = args[0];\nconst bank = null;\nreturn bank.name;",
			args: `["gh.29.uk"]`, outcome: "error", phase: "run", errName: "TypeError", line: 3},
		{name: "a TypeError on line 3 of an awaiting body", method: "getBank",
			body: "const id = await Promise.resolve(args);\nconst bank = null;\nreturn bank.name;",
			args: `"gh.29.uk"`, outcome: "error", phase: "run", errName: "TypeError", line: 3},
		{name: "a throw on line 1", method: "getBank", body: `throw new RangeError("no");`,
			outcome: "error", phase: "run", errName: "RangeError", line: 1},
		{name: "a syntax error on line 2", method: "getBank", body: "const a = 1;\nconst = ;\nreturn a;",
			outcome: "error", phase: "compile", errName: "SyntaxError", line: 2},
		{name: "an endless loop", method: "getBank", body: "let n = 0;\nwhile (true) { n++; }",
			outcome: "error", phase: "timeout", errName: "TimeoutError", line: 2},
		{name: "a result the message doc refuses", method: "getBank", body: `return {bank_id: 7};`,
			outcome: "error", phase: "run", errName: "invalid_connector_result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]any{"method_name": tc.method, "method_body": tc.body}
			if tc.args != "" {
				req["args"] = json.RawMessage(tc.args)
			}
			got := runScript(t, inst.Admin(), req)
			if got.Outcome != tc.outcome {
				t.Fatalf("outcome %q, want %q: %+v", got.Outcome, tc.outcome, got)
			}
			if tc.outcome == "ok" {
				if string(got.Result) != tc.result {
					t.Errorf("result %s, want %s", got.Result, tc.result)
				}
				return
			}
			e := got.Error
			if e == nil || e.Phase != tc.phase || e.Name != tc.errName || e.Line != tc.line || (tc.line > 0) != (e.Column > 0) || e.Message == "" {
				t.Errorf("error %+v, want phase %s, name %s at line %d", e, tc.phase, tc.errName, tc.line)
			}
			if tc.phase == "timeout" && got.DurationMS < runTimeout.Milliseconds() {
				t.Errorf("stopped after %d ms, before the deadline of %s", got.DurationMS, runTimeout)
			}
		})
	}
	if list := inst.Admin().Get(t, "/admin/v1/connector-methods").JSON(t)["connector_methods"].([]any); len(list) != 0 {
		t.Errorf("runs stored connector methods: %v", list)
	}
	if n := inst.Audited(t, "connector_method.run", "getBank"); n != 7 {
		t.Errorf("%d runs audited, want 7", n)
	}
	if log := inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000"); strings.Contains(string(log.Body), "gh.29.uk") &&
		strings.Contains(string(log.Body), `"args"`) {
		t.Errorf("the audit log holds a run's arguments: %s", log.Body)
	}

	t.Run("the stored script", func(t *testing.T) {
		inst.CreateScript(t, "getBank", `return {bank_id: args[0], short_name: "stored", full_name: "Stored"};`, 0)
		got := runScript(t, inst.Admin(), map[string]any{"method_name": "getBank", "args": []string{"gh.29.uk"}})
		if got.Outcome != "ok" || !strings.Contains(string(got.Result), `"stored"`) {
			t.Errorf("%+v, want the stored script's result", got)
		}
	})
}

// TestRunConnectorMethodRefused: a run needs CanCreateConnectorMethod or
// CanUpdateConnectorMethod, and a malformed request is a 400 problem (404
// without a body to run, 413 larger than a stored script may be) that
// runs nothing.
func TestRunConnectorMethodRefused(t *testing.T) {
	const maxBytes = 64 << 10
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.MaxBodyBytes, c.MaxDocumentBytes = maxBytes, maxBytes }))
	user := inst.CreateUser(t, "scripter", "a long enough password")
	creator := inst.CreateUser(t, "creator", "a long enough password")
	inst.Grant(t, creator.ID, "", "CanCreateConnectorMethod")
	ok := `{"method_name": "getBanks", "method_body": "return [];"}`
	for _, tc := range []struct {
		name   string
		caller enginetest.Caller
		body   string
		status int
		code   string
	}{
		{"without the role", inst.As(user), ok, http.StatusForbidden, "forbidden"},
		{"not JSON", inst.Admin(), `{"method_name": `, http.StatusBadRequest, "validation_failed"},
		{"an unknown member", inst.Admin(), `{"method_name": "getBanks", "method_body": "return [];", "timeout": 5}`, http.StatusBadRequest, "validation_failed"},
		{"an unknown method", inst.Admin(), `{"method_name": "getNothingAtAll", "method_body": "return 1;"}`, http.StatusBadRequest, "unknown_method"},
		{"no method name", inst.Admin(), `{"method_body": "return 1;"}`, http.StatusBadRequest, "validation_failed"},
		{"no stored script", inst.Admin(), `{"method_name": "getBanks"}`, http.StatusNotFound, "not_found"},
		{"too large", inst.Admin().Loopback(), `{"method_name": "getBanks", "method_body": "return [];` + strings.Repeat(" ", maxBytes) + `"}`,
			http.StatusRequestEntityTooLarge, "payload_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/connector-methods/run", Body: []byte(tc.body)})
			if r.Status != tc.status || r.Problem(t).Code != tc.code {
				t.Errorf("%d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
	if n := inst.Audited(t, "connector_method.run", "getBanks"); n != 0 {
		t.Errorf("%d refused runs audited", n)
	}
	t.Run("with CanCreateConnectorMethod", func(t *testing.T) {
		got := runScript(t, inst.As(creator), map[string]any{"method_name": "getBanks", "method_body": "return [];"})
		if got.Outcome != "ok" || string(got.Result) != "[]" {
			t.Errorf("%+v", got)
		}
	})
}

// runScript posts a run and decodes its 200 answer.
func runScript(t *testing.T, c enginetest.Caller, req map[string]any) scriptRunAnswer {
	t.Helper()
	r := c.PostJSON(t, "/admin/v1/connector-methods/run", req)
	if r.Status != http.StatusOK {
		t.Fatalf("run: %d %s", r.Status, r.Body)
	}
	var got scriptRunAnswer
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	return got
}
