package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName names the service when OTEL_SERVICE_NAME does not.
const DefaultServiceName = "dynapi"

// Options choose where spans go.
type Options struct {
	// Off turns the instrumentation off whatever the environment says
	// (--tracing=false).
	Off bool
	// Provider, when set, receives the spans instead of what the
	// environment configures; its owner shuts it down. Tests pass one
	// with an in-memory exporter (sdk/trace/tracetest).
	Provider trace.TracerProvider
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
}

// Tracing is the engine's tracer and the provider behind it.
type Tracing struct {
	// Tracer starts the spans of requests and of event deliveries; nil
	// when tracing is off, which then costs nothing.
	Tracer   trace.Tracer
	shutdown func(context.Context) error
}

// Setup makes the engine's tracer: Options.Provider's when set; else,
// when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set (and OTEL_SDK_DISABLED is not "true"), an SDK provider exporting by
// OTLP over OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default, or grpc), as
// service OTEL_SERVICE_NAME (default "dynapi"), sampled as
// OTEL_TRACES_SAMPLER says; else none (a nil Tracer). The exporters read
// the other OTEL_EXPORTER_OTLP_* variables (headers, timeout,
// certificates) themselves.
func Setup(ctx context.Context, o Options) (*Tracing, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch {
	case o.Off:
		return &Tracing{}, nil
	case o.Provider != nil:
		return &Tracing{Tracer: o.Provider.Tracer(ScopeName)}, nil
	case strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true"),
		getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "":
		return &Tracing{}, nil
	}
	exporter, err := newExporter(ctx, getenv)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(DefaultServiceName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, errors.Join(fmt.Errorf("tracing: OTEL_RESOURCE_ATTRIBUTES or OTEL_SERVICE_NAME: %w", err),
			exporter.Shutdown(ctx))
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return &Tracing{Tracer: provider.Tracer(ScopeName), shutdown: provider.Shutdown}, nil
}

// newExporter makes the OTLP exporter of the protocol the environment
// names.
func newExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	protocol, variable := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if protocol == "" {
		protocol, variable = getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	switch strings.TrimSpace(protocol) {
	case "", "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	}
	return nil, fmt.Errorf("tracing: %s is %q: want http/protobuf or grpc", variable, protocol)
}

// Shutdown exports the spans not yet sent and stops the provider Setup
// made, within ctx; a provider given in Options is left to its owner.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}
