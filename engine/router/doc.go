// Package router matches a request's method and path against the routes of
// one configuration snapshot.
//
// A Table is built once by Build and never changes afterwards: a new
// configuration builds a new Table, and the server swaps a pointer to it.
// Because nothing in a Table is written after Build returns, any number of
// goroutines may call Match, Routes and Len on the same Table at the same
// time without locks, and requests still in flight keep matching against the
// Table they loaded while a newer one is being built or served.
//
// Params is the only mutable piece: it belongs to one request at a time, so
// callers keep one per request (typically in a sync.Pool) and never share it
// between goroutines during a Match.
//
// Match allocates nothing unless a parameter value holds a percent-escape,
// which is the price of decoding it; everything else it returns (the Allow
// list, the parameter names, the template) was computed by Build.
package router
