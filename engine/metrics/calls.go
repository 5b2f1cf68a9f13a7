package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// callMetrics are the connector call series: a collector over the
// recorders handed out, read at scrape time.
type callMetrics struct {
	calls, errors, duration *prometheus.Desc

	mu    sync.Mutex
	byKey map[[2]string]*Calls // by connector and method
}

func newCallMetrics(reg *prometheus.Registry) *callMetrics {
	labels := []string{"connector", "method"}
	c := &callMetrics{
		calls: prometheus.NewDesc("dynapi_connector_calls_total",
			"Connector method calls, by connector and connector method.", labels, nil),
		errors: prometheus.NewDesc("dynapi_connector_call_errors_total",
			"Connector method calls that failed, by connector and connector method.", labels, nil),
		duration: prometheus.NewDesc("dynapi_connector_call_duration_seconds",
			"Time connector method calls took, by connector and connector method; calls of connectors answering from memory (obp_mock) are counted, not timed.", labels, nil),
		byKey: map[[2]string]*Calls{},
	}
	reg.MustRegister(c)
	return c
}

// Describe implements prometheus.Collector.
func (c *callMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.calls
	ch <- c.errors
	ch <- c.duration
}

// Collect implements prometheus.Collector.
func (c *callMetrics) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, calls := range c.byKey {
		calls.latency.export(ch, c.calls, c.duration, calls.untimed.Load(), key[0], key[1])
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(calls.errors.Load()), key[0], key[1])
	}
}

// Calls records the calls of one connector method through one connector.
// A nil *Calls records nothing.
type Calls struct {
	latency
	untimed atomic.Uint64 // calls counted without being timed (Count)
	errors  atomic.Uint64
}

// Calls returns the recorder of method's calls through connector, both
// names from configuration (registered connectors, built-in, dynamic and
// JavaScript methods), kept until restart; nil when s is nil. Get it
// once, where the method is prepared.
func (s *Set) Calls(connector, method string) *Calls {
	if s == nil {
		return nil
	}
	c := s.calls
	c.mu.Lock()
	defer c.mu.Unlock()
	key := [2]string{cut(connector), cut(method)}
	calls, ok := c.byKey[key]
	if !ok {
		calls = new(Calls)
		c.byKey[key] = calls
	}
	return calls
}

// Observe records a call that started at start (a Clock reading) and
// failed when failed.
func (c *Calls) Observe(start time.Duration, failed bool) {
	if c == nil {
		return
	}
	c.observe(Clock() - start)
	if failed {
		c.errors.Add(1)
	}
}

// Count records a call without timing it, failed when failed: for
// connectors answering from memory, whose time is the engine's own (the
// request's latency shows it) and not worth two clock reads a call.
func (c *Calls) Count(failed bool) {
	if c == nil {
		return
	}
	c.untimed.Add(1)
	if failed {
		c.errors.Add(1)
	}
}
