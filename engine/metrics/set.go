package metrics

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Set holds every collector the engine exports and the registry they are
// registered in. It is safe for concurrent use; a nil *Set records nothing.
type Set struct {
	reg       *prometheus.Registry
	http      *httpMetrics
	calls     *callMetrics
	scripts   *Scripts
	store     *storeMetrics
	consents  *ConsentDecisions
	logins    *Logins
	snapshots *Snapshots
}

// New returns a Set with every collector registered, the Go runtime's and
// the process's among them.
func New() *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Set{reg: reg, http: newHTTPMetrics(reg), calls: newCallMetrics(reg), scripts: newScripts(reg),
		store: newStoreMetrics(reg), consents: newConsentDecisions(reg), logins: newLogins(reg),
		snapshots: newSnapshots(reg)}
}

// ContentType is the media type Write writes: the Prometheus text format.
var ContentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// Write gathers every metric and writes it to w in the Prometheus text
// format (ContentType).
func (s *Set) Write(w io.Writer) error {
	families, err := s.reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves the metrics over net/http, in the format the scraper
// asks for, for a listener of its own.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
}

// Register adds a collector to the Set's registry, for collectors that
// read another package's counters at scrape time (EventsCollector). It
// panics when c collides with one already registered: a programming error.
func (s *Set) Register(c prometheus.Collector) {
	if s != nil {
		s.reg.MustRegister(c)
	}
}

// seconds are latency buckets, in seconds, from half a millisecond to ten
// seconds: most engine answers take a millisecond or less, back ends and
// scripts up to their deadlines.
var seconds = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Start is the start of something to be timed: the current time, or the
// zero time when s is nil, so that metrics turned off read no clock.
func (s *Set) Start() time.Time {
	if s == nil {
		return time.Time{}
	}
	return time.Now()
}
