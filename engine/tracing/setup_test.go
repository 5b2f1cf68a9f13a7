package tracing_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine/tracing"
)

// TestSetupFromEnvironment: spans are made only when an OTLP endpoint is
// set, tracing is not off and the SDK is not disabled; an unknown
// protocol is refused naming its variable.
func TestSetupFromEnvironment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		off     bool
		env     map[string]string
		traced  bool
		problem string
	}{
		{name: "no variables"},
		{name: "an endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, traced: true},
		{name: "a traces endpoint over grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, traced: true},
		{name: "tracing off", off: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}},
		{name: "the SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}},
		{name: "an unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, problem: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := tracing.Setup(t.Context(), tracing.Options{Off: tc.off, Getenv: func(k string) string { return tc.env[k] }})
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v; want one naming %s", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Tracer != nil; got != tc.traced {
				t.Errorf("traced: %v; want %v", got, tc.traced)
			}
			if err := tr.Shutdown(t.Context()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

// TestSpansExportedByOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, a span is
// sent by OTLP over HTTP at shutdown, from service "dynapi" unless
// OTEL_SERVICE_NAME names another.
func TestSpansExportedByOTLP(t *testing.T) {
	var mu sync.Mutex
	var got []byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			mu.Lock()
			got = append(got, body...)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "")
	tr, err := tracing.Setup(t.Context(), tracing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Tracer.Start(t.Context(), "GET /banks/{bank_id}/accounts")
	span.End()
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The service name is a string AnyValue: field 1, its length, its bytes.
	service := "service.name" + "\x12\x08\x0a\x06" + tracing.DefaultServiceName
	for _, want := range []string{"GET /banks/{bank_id}/accounts", service, tracing.ScopeName} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the collector received no %q in %d bytes", want, len(got))
		}
	}
}
