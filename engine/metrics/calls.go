package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// callMetrics are the connector call series.
type callMetrics struct {
	calls, errors *prometheus.CounterVec
	duration      *prometheus.HistogramVec
}

func newCallMetrics(reg *prometheus.Registry) *callMetrics {
	labels := []string{"connector", "method"}
	c := &callMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_connector_calls_total",
			Help: "Connector method calls, by connector and connector method."}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_connector_call_errors_total",
			Help: "Connector method calls that failed, by connector and connector method."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dynapi_connector_call_duration_seconds",
			Help: "Time connector method calls took, by connector and connector method.", Buckets: seconds}, labels),
	}
	reg.MustRegister(c.calls, c.errors, c.duration)
	return c
}

// Calls records the calls of one connector method through one connector.
// A nil *Calls records nothing.
type Calls struct {
	calls, errors prometheus.Counter
	duration      prometheus.Observer
}

// Calls returns the recorder of method's calls through connector, both
// names from configuration (registered connectors, built-in, dynamic and
// JavaScript methods); nil when s is nil. Make it once, where the method
// is prepared.
func (s *Set) Calls(connector, method string) *Calls {
	if s == nil {
		return nil
	}
	if len(method) > maxLabel {
		method = method[:maxLabel]
	}
	c := s.calls
	return &Calls{calls: c.calls.WithLabelValues(connector, method), errors: c.errors.WithLabelValues(connector, method),
		duration: c.duration.WithLabelValues(connector, method)}
}

// Observe records a call that started at start and failed when failed.
func (c *Calls) Observe(start time.Time, failed bool) {
	if c == nil {
		return
	}
	c.duration.Observe(time.Since(start).Seconds())
	c.calls.Inc()
	if failed {
		c.errors.Inc()
	}
}
