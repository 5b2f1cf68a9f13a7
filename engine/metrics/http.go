package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Unmatched is the route label of requests no route answered: 404s, 405s,
// and requests refused before routing.
const Unmatched = "unmatched"

// maxLabel bounds a route label (an operation id may be long).
const maxLabel = 128

// httpMetrics are the request series and the routes resolved on them.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu     sync.Mutex
	routes map[string]*Route // by label
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	labels := []string{"route", "method", "status"}
	h := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_http_requests_total",
			Help: "HTTP requests answered, by route (operation id or fixed route template), method and status."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dynapi_http_request_duration_seconds",
			Help: "Time from reading a request to its answer being ready, by route, method and status.", Buckets: seconds}, labels),
		routes: map[string]*Route{},
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// methods are the HTTP methods labelled by name; any other is "other".
// Index 0 is left out so that a slot key is never 0.
var methods = [...]string{"", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "other"}

// methodIndex is the index of method in methods.
func methodIndex(method string) uint32 {
	switch method {
	case "GET":
		return 1
	case "HEAD":
		return 2
	case "POST":
		return 3
	case "PUT":
		return 4
	case "PATCH":
		return 5
	case "DELETE":
		return 6
	case "OPTIONS":
		return 7
	case "TRACE":
		return 8
	case "CONNECT":
		return 9
	}
	return 10
}

// routeSlots is how many method and status pairs a route keeps at hand;
// further pairs are looked up in the vectors (a lock and a hash each time).
const routeSlots = 16

// Route records the requests of one route. Its series are resolved at the
// first request of each method and status, and kept in a small array read
// without locks, so recording is a clock read and a few atomic adds. A nil
// *Route records nothing.
type Route struct {
	label string
	h     *httpMetrics
	// operation: the route is a document's operation, whose series go when
	// no snapshot serves it any more (KeepOperations); else it is fixed.
	operation bool
	slots     [routeSlots]slot
}

// slot holds the series of one method and status: key is method index <<
// 10 | status, 0 while the slot is free.
type slot struct {
	key    atomic.Uint32
	series atomic.Pointer[series]
}

// series are the request counter and latency histogram of one label set.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// Route returns the recorder of the fixed route labelled label ("GET
// /admin/v1/users/{user_id}"), kept until restart; nil when s is nil.
func (s *Set) Route(label string) *Route { return s.route(label, false) }

// OperationRoute returns the recorder of a document's operation labelled
// label (its operation id); its series are dropped by KeepOperations once
// no snapshot serves it. Nil when s is nil.
func (s *Set) OperationRoute(label string) *Route { return s.route(label, true) }

// UnmatchedRoute returns the recorder of requests no route answered; nil
// when s is nil.
func (s *Set) UnmatchedRoute() *Route { return s.Route(Unmatched) }

func (s *Set) route(label string, operation bool) *Route {
	if s == nil {
		return nil
	}
	if len(label) > maxLabel {
		label = label[:maxLabel]
	}
	h := s.http
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.routes[label]
	if !ok {
		r = &Route{label: label, h: h, operation: operation}
		h.routes[label] = r
	}
	// A label a fixed route holds is never dropped.
	r.operation = r.operation && operation
	return r
}

// KeepOperations drops the series of every operation route not among
// served, the routes of the snapshot now served: a deleted document's
// series go with it. Fixed routes are kept. A request still in flight on
// an older snapshot records into its route's dropped series, unseen.
func (s *Set) KeepOperations(served []*Route) {
	if s == nil {
		return
	}
	keep := make(map[*Route]bool, len(served))
	for _, r := range served {
		keep[r] = true
	}
	h := s.http
	h.mu.Lock()
	defer h.mu.Unlock()
	for label, r := range h.routes {
		if r.operation && !keep[r] {
			delete(h.routes, label)
			h.requests.DeletePartialMatch(prometheus.Labels{"route": label})
			h.duration.DeletePartialMatch(prometheus.Labels{"route": label})
		}
	}
}

// Observe records a request to the route answered with status, with
// method, that started at start.
func (r *Route) Observe(method string, status int, start time.Time) {
	if r == nil {
		return
	}
	d := time.Since(start).Seconds()
	if status < 100 || status > 599 {
		status = 0
	}
	key := methodIndex(method)<<10 | uint32(status)
	for i := range r.slots {
		sl := &r.slots[i]
		k := sl.key.Load()
		if k == 0 && sl.key.CompareAndSwap(0, key) {
			ser := r.series(key)
			sl.series.Store(ser)
			ser.observe(d)
			return
		}
		if k == 0 {
			k = sl.key.Load()
		}
		if k == key {
			if ser := sl.series.Load(); ser != nil {
				ser.observe(d)
				return
			}
			break // being filled in by another request
		}
	}
	r.series(key).observe(d)
}

// series resolves the series of a slot key, under the vectors' lock.
func (r *Route) series(key uint32) *series {
	status := "other"
	if code := key & 1023; code != 0 {
		status = strconv.Itoa(int(code))
	}
	values := []string{r.label, methods[key>>10], status}
	return &series{requests: r.h.requests.WithLabelValues(values...), duration: r.h.duration.WithLabelValues(values...)}
}

func (s *series) observe(seconds float64) {
	s.requests.Inc()
	s.duration.Observe(seconds)
}
