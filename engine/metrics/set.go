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

// epoch is the origin of Clock.
var epoch = time.Now()

// Clock reads the monotonic clock, as the time since the process started:
// one clock read where time.Now makes two (wall and monotonic), which
// counts on the request path of machines with a slow clock source.
func Clock() time.Duration { return time.Since(epoch) }

// Start is the Clock reading of the start of a request that began at at,
// read with its monotonic clock (fasthttp's RequestCtx.Time), so that no
// clock is read; the clock is read when at is zero. It is 0 when s is nil:
// metrics turned off read no clock.
func (s *Set) Start(at time.Time) time.Duration {
	switch {
	case s == nil:
		return 0
	case at.IsZero():
		return Clock()
	}
	return at.Sub(epoch)
}
