// Package tracecarrier reads and writes the W3C trace context
// (engine/tracing.Propagator) in fasthttp request headers: incoming
// requests at the HTTP edge, outbound ones to REST back ends.
package tracecarrier

import "github.com/valyala/fasthttp"

// Header is a fasthttp request header as a propagation.TextMapCarrier.
type Header fasthttp.RequestHeader

// Of is h as a carrier.
func Of(h *fasthttp.RequestHeader) *Header { return (*Header)(h) }

// Get implements propagation.TextMapCarrier.
func (h *Header) Get(key string) string { return string((*fasthttp.RequestHeader)(h).Peek(key)) }

// Set implements propagation.TextMapCarrier.
func (h *Header) Set(key, value string) { (*fasthttp.RequestHeader)(h).Set(key, value) }

// Keys implements propagation.TextMapCarrier; the W3C propagator does not
// need them.
func (h *Header) Keys() []string { return nil }
