package jsvm

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/metrics"
)

// TestMetricsCountRunsAndPoolWaits: every run is counted by outcome, and
// a call that finds every runtime busy counts a pool wait, here one whose
// caller gave up while it waited.
func TestMetricsCountRunsAndPoolWaits(t *testing.T) {
	set := metrics.New()
	entered, release := make(chan struct{}), make(chan struct{})
	e := New(Options{MaxRuntimes: 1, Metrics: set.Scripts(),
		Caller: callerFunc(func(context.Context, *connector.Request, string, []any) (any, error) {
			close(entered)
			<-release
			return 1.0, nil
		})})
	holding := compile(t, e, "holding", `return await connector.call("getBank");`, testDeadline)
	held := make(chan error, 1)
	go func() {
		_, err := holding.Invoke(context.Background(), request())
		held <- err
	}()
	<-entered // the only runtime is taken until release
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := compile(t, e, "waiting", "return 1", testDeadline).Invoke(gone, request())
	asError(t, err, 504, engine.CodeScriptTimeout)
	close(release)
	if err := <-held; err != nil {
		t.Fatalf("the holding call: %v", err)
	}
	_, err = run(t, e, `throw new Error("no");`, request())
	asError(t, err, 500, engine.CodeScriptFailed)

	var out bytes.Buffer
	if err := set.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`dynapi_script_runs_total{outcome="ok"} 1`,
		`dynapi_script_runs_total{outcome="timeout"} 1`,
		`dynapi_script_runs_total{outcome="error"} 1`,
		`dynapi_script_runs_total{outcome="memory"} 0`,
		`dynapi_script_run_duration_seconds_count 3`,
		`dynapi_script_pool_waits_total 1`,
		`dynapi_script_pool_wait_duration_seconds_count 1`,
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("no %q in the metrics", want)
		}
	}
}
