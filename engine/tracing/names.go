package tracing

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// ScopeName names the engine's instrumentation scope.
const ScopeName = "github.com/dynapi/dynapi"

// Span names of the steps of a request below its own span, which is named
// "<method> <route template>".
const (
	// SpanGuard covers authentication, the route's roles and the
	// policies (consent check, rate limits).
	SpanGuard = "guard"
	// SpanValidate covers checking the request against its operation, or
	// decoding a management route's body.
	SpanValidate = "validate"
	// SpanConnector covers one connector method call.
	SpanConnector = "connector.call"
	// SpanScript covers one run of a JavaScript connector method.
	SpanScript = "script.run"
	// SpanStoreView and SpanStoreUpdate cover one store transaction.
	SpanStoreView   = "store.view"
	SpanStoreUpdate = "store.update"
)

// Attribute keys: the HTTP ones of the OpenTelemetry semantic conventions
// and the engine's own.
const (
	HTTPMethod     = semconv.HTTPRequestMethodKey
	HTTPRoute      = semconv.HTTPRouteKey
	HTTPStatusCode = semconv.HTTPResponseStatusCodeKey
	ServerAddress  = semconv.ServerAddressKey
	// CorrelationID is the request's X-Correlation-Id.
	CorrelationID = attribute.Key("dynapi.correlation_id")
	// OperationID is the operation id of a dynamic operation.
	OperationID = attribute.Key("dynapi.operation_id")
	// Connector and Method name the connector and method a call went to.
	Connector = attribute.Key("dynapi.connector")
	Method    = attribute.Key("dynapi.connector.method")
	// ErrorCode is the engine's stable error code of a failed step.
	ErrorCode = attribute.Key("dynapi.error_code")
)
