package server_test

import (
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// BenchmarkTracing measures the mock GET of the reference workload,
// guarded by its role and called with a DirectLogin token, with tracing
// off (--tracing=false), on without an OTLP endpoint (the default: no
// span is made), and on with a provider that records every span but
// exports none (what a traced request costs besides the export).
func BenchmarkTracing(b *testing.B) {
	recording := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = recording.Shutdown(b.Context()) })
	for _, tc := range []struct {
		name    string
		tracing dynapi.TracingConfig
	}{
		{"off", dynapi.TracingConfig{Off: true}},
		{"on without exporter", dynapi.TracingConfig{}},
		{"on recording", dynapi.TracingConfig{Provider: recording}},
	} {
		inst := enginetest.New(b, enginetest.Configure(func(c *dynapi.Config) { c.Tracing = tc.tracing }))
		source := enginetest.ReadFile(b, testpaths.Shared("bench", "accounts.yaml"))
		inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/guarded", source)
		runBench(b, inst.Server.App().Handler(), benchCase{"GET hello guarded, tracing " + tc.name,
			withAdmin(b, inst, enginetest.Request{Method: "GET", Path: "/guarded/hello"}), 200})
	}
}
