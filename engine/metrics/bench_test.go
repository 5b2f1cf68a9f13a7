package metrics_test

import (
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/metrics"
)

// BenchmarkRecording measures what metrics add to a mock GET: the
// request's route series, timed from the time fasthttp read the request
// at (read here, as the in-process benchmarks must), and the mock's call,
// counted. "timed call" adds the two clock reads of a connector that does
// I/O.
func BenchmarkRecording(b *testing.B) {
	at := time.Now()
	for _, c := range []struct {
		name  string
		set   *metrics.Set
		timed bool
	}{{"off", nil, false}, {"on", metrics.New(), false}, {"on timed call", metrics.New(), true}} {
		b.Run(c.name, func(b *testing.B) {
			route, calls := c.set.OperationRoute("hello"), c.set.Calls("obp_mock", "hello")
			b.ReportAllocs()
			for b.Loop() {
				start := c.set.Start(at)
				if c.timed {
					calls.Observe(metrics.Clock(), false)
				} else {
					calls.Count(false)
				}
				route.Observe("GET", 200, start)
			}
		})
	}
}
