// Package metrics is the one place every Prometheus collector the engine
// exports is made: HTTP requests by route, connector calls, script runs,
// store transactions, consent decisions, event deliveries, logins and
// snapshot swaps, all in one Registry of their own (never the global one)
// with the Go runtime and process collectors.
//
// Other packages get a *Set, or the small typed recorders it hands out
// (Route, Calls, Scripts, ...), never the registry. A nil *Set is metrics
// turned off: every recorder it hands out is nil, and every recording
// method is a no-op on a nil receiver, so that switching metrics off costs
// a nil check.
//
// Label values come from configuration (route templates, operation ids,
// connector and method names) or from fixed lists (HTTP methods, status
// codes, outcomes and reasons), never from a request: the number of series
// is bounded by what the bank configured. Recorders are resolved once, where
// a route or method is prepared, so recording on the request path is a few
// atomic adds.
package metrics
