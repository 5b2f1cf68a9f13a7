package portal

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestEditorShowsTheRunsOutcome renders the editor after a run, for each
// outcome the run API answers: the result, the script's error with its
// line and column, or the refusal of the run.
func TestEditorShowsTheRunsOutcome(t *testing.T) {
	cases := []struct {
		name, answer string
		want         []string
	}{
		{"ok", `{"outcome":"ok","result":{"banks":[]},"duration_ms":3}`, []string{`id="run-result"`, `&#34;banks&#34;: []`}},
		{"run error", `{"outcome":"error","error":{"phase":"run","name":"TypeError","message":"Cannot read property 'name' of undefined","line":3,"column":7},"duration_ms":1}`,
			[]string{`id="run-error"`, "TypeError: Cannot read property &#39;name&#39; of undefined at line 3, column 7", "(run)"}},
		{"timeout", `{"outcome":"error","error":{"phase":"timeout","name":"","message":"the script ran past its deadline","line":0,"column":0},"duration_ms":2000}`,
			[]string{`id="run-error"`, "the script ran past its deadline <span", "(timeout)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res RunResult
			if err := json.Unmarshal([]byte(tc.answer), &res); err != nil {
				t.Fatal(err)
			}
			e := &editor{Method: method{ID: "m1", MethodName: "getBanks", MethodBody: "return 1;"}, Args: "[]", Run: &res}
			if res.Outcome == "ok" {
				e.ResultShown = prettyRaw(res.Result)
			}
			var b bytes.Buffer
			if err := pages.ExecuteTemplate(&b, "method", &view{Title: "Connector method getBanks", Session: &session{Username: "admin"}, CSRF: "x", Data: e}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the page lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
