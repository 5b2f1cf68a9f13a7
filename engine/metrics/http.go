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

// maxLabel bounds a label value from configuration (an operation id may
// be long).
const maxLabel = 128

// cut bounds a label value from configuration to maxLabel bytes.
func cut(label string) string {
	if len(label) > maxLabel {
		return label[:maxLabel]
	}
	return label
}

// httpMetrics are the request series: a collector over the routes'
// recorders, read at scrape time.
type httpMetrics struct {
	requests, duration *prometheus.Desc

	mu     sync.Mutex
	routes map[string]*Route // by label
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	labels := []string{"route", "method", "status"}
	h := &httpMetrics{
		requests: prometheus.NewDesc("dynapi_http_requests_total",
			"HTTP requests answered, by route (operation id or fixed route template), method and status.", labels, nil),
		duration: prometheus.NewDesc("dynapi_http_request_duration_seconds",
			"Time from reading a request to its answer being ready, by route, method and status.", labels, nil),
		routes: map[string]*Route{},
	}
	reg.MustRegister(h)
	return h
}

// Describe implements prometheus.Collector.
func (h *httpMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- h.requests
	ch <- h.duration
}

// Collect implements prometheus.Collector.
func (h *httpMetrics) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	routes := make([]*Route, 0, len(h.routes))
	for _, r := range h.routes {
		routes = append(routes, r)
	}
	h.mu.Unlock()
	for _, r := range routes {
		r.export(ch, h)
	}
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

// routeSlots is how many method and status pairs a route keeps in its
// array; further pairs go to its overflow map, under a lock.
const routeSlots = 16

// Route records the requests of one route. The series of each method and
// status are made at its first request and kept in a small array read
// without locks, so recording is a clock read and two atomic adds. A nil
// *Route records nothing.
type Route struct {
	label string
	// operation: the route is a document's operation, whose series go when
	// no snapshot serves it any more (KeepOperations); else it is fixed.
	operation bool
	slots     [routeSlots]atomic.Pointer[keyed]

	mu       sync.Mutex
	overflow map[uint32]*latency // by key, once the slots are full
}

// keyed is the series of one method and status: key is the method's index
// << 10 | the status.
type keyed struct {
	key uint32
	latency
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
	label = cut(label)
	h := s.http
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.routes[label]
	if !ok {
		r = &Route{label: label, operation: operation}
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
		}
	}
}

// Observe records a request to the route answered with status, with
// method, that started at start (a Clock reading: Set.Start).
func (r *Route) Observe(method string, status int, start time.Duration) {
	if r == nil {
		return
	}
	d := Clock() - start
	if status < 100 || status > 599 {
		status = 0
	}
	key := methodIndex(method)<<10 | uint32(status)
	for i := range r.slots {
		k := r.slots[i].Load()
		if k == nil {
			made := &keyed{key: key}
			if r.slots[i].CompareAndSwap(nil, made) {
				made.observe(d)
				return
			}
			k = r.slots[i].Load()
		}
		if k.key == key {
			k.observe(d)
			return
		}
	}
	r.overflowSeries(key).observe(d)
}

// overflowSeries is the series of key once the slots are full (each holds
// another key: a key is in one place only).
func (r *Route) overflowSeries(key uint32) *latency {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.overflow == nil {
		r.overflow = map[uint32]*latency{}
	}
	l, ok := r.overflow[key]
	if !ok {
		l = new(latency)
		r.overflow[key] = l
	}
	return l
}

// export sends the route's series with h's descriptions.
func (r *Route) export(ch chan<- prometheus.Metric, h *httpMetrics) {
	for i := range r.slots {
		if k := r.slots[i].Load(); k != nil {
			k.export(ch, h.requests, h.duration, 0, r.labels(k.key)...)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, l := range r.overflow {
		l.export(ch, h.requests, h.duration, 0, r.labels(key)...)
	}
}

// labels are the label values of the series of key.
func (r *Route) labels(key uint32) []string {
	status := "other"
	if code := key & 1023; code != 0 {
		status = strconv.Itoa(int(code))
	}
	return []string{r.label, methods[key>>10], status}
}
