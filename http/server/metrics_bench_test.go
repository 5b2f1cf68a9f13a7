package server_test

import (
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// BenchmarkMetrics measures what recording metrics costs the mock GET of
// the reference workload (../shared/bench), public and guarded: the same
// request with metrics off and on.
func BenchmarkMetrics(b *testing.B) {
	for _, mode := range []struct {
		name string
		off  bool
	}{{"off", true}, {"on", false}} {
		b.Run(mode.name, func(b *testing.B) {
			inst := enginetest.New(b, enginetest.Configure(func(c *dynapi.Config) { c.Metrics.Disabled = mode.off }))
			source := enginetest.ReadFile(b, testpaths.Shared("bench", "accounts.yaml"))
			inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/", publicCopy(b, source, ""))
			inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/guarded", source)
			handler := inst.Server.App().Handler()
			runBench(b, handler, benchCase{"GET hello public", enginetest.Request{Method: "GET", Path: "/hello"}, 200})
			runBench(b, handler, benchCase{"GET hello guarded", withAdmin(b, inst, enginetest.Request{Method: "GET", Path: "/guarded/hello"}), 200})
		})
	}
}
