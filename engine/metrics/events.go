package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dynapi/dynapi/engine/events"
)

// EventStats reads the event worker's counters and queue depths
// (events.Service.Stats).
type EventStats func(ctx context.Context) (events.Snapshot, error)

// statsTimeout bounds counting the queues at a scrape.
const statsTimeout = 5 * time.Second

// eventCounters are the events.Snapshot counters exported, each with a
// reader.
var eventCounters = []struct {
	name, help string
	value      func(*events.Snapshot) uint64
}{
	{"dynapi_events_fanned_out_total", "Events fanned out to their subscriptions.", func(s *events.Snapshot) uint64 { return s.EventsFannedOut }},
	{"dynapi_event_deliveries_made_total", "Deliveries made by fanning events out.", func(s *events.Snapshot) uint64 { return s.DeliveriesMade }},
	{"dynapi_event_delivery_attempts_total", "Attempts to deliver an event.", func(s *events.Snapshot) uint64 { return s.Attempts }},
	{"dynapi_event_delivery_failed_attempts_total", "Attempts that failed (an error or a status outside 2xx).", func(s *events.Snapshot) uint64 { return s.FailedAttempts }},
	{"dynapi_event_deliveries_delivered_total", "Deliveries the receiver accepted.", func(s *events.Snapshot) uint64 { return s.Delivered }},
	{"dynapi_event_deliveries_retried_total", "Deliveries scheduled for another attempt.", func(s *events.Snapshot) uint64 { return s.Retried }},
	{"dynapi_event_deliveries_dead_total", "Deliveries given up after their last attempt.", func(s *events.Snapshot) uint64 { return s.Dead }},
	{"dynapi_event_deliveries_gone_total", "Deliveries dropped because their subscription is gone.", func(s *events.Snapshot) uint64 { return s.Gone }},
	{"dynapi_event_deliveries_replayed_total", "Dead deliveries replayed by an administrator.", func(s *events.Snapshot) uint64 { return s.Replayed }},
}

// eventGauges are the queue depths exported.
var eventGauges = []struct {
	name, help string
	value      func(*events.Snapshot) int
}{
	{"dynapi_events_outbox_depth", "Events not yet fanned out.", func(s *events.Snapshot) int { return s.OutboxDepth }},
	{"dynapi_event_deliveries_due_depth", "Deliveries waiting for an attempt.", func(s *events.Snapshot) int { return s.DueDepth }},
	{"dynapi_event_deliveries_dead_depth", "Dead deliveries kept.", func(s *events.Snapshot) int { return s.DeadDepth }},
}

// eventsCollector exports the event worker's counters, read at each
// scrape, so that how events counts stays events' own.
type eventsCollector struct {
	stats    EventStats
	counters []*prometheus.Desc
	gauges   []*prometheus.Desc
	latency  *prometheus.Desc
}

// CollectEvents exports the event deliveries stats reads, at each scrape.
func (s *Set) CollectEvents(stats EventStats) {
	if s == nil {
		return
	}
	c := &eventsCollector{stats: stats, latency: prometheus.NewDesc("dynapi_event_delivery_attempt_duration_seconds",
		"Time attempts to deliver an event took.", nil, nil)}
	for _, e := range eventCounters {
		c.counters = append(c.counters, prometheus.NewDesc(e.name, e.help, nil, nil))
	}
	for _, e := range eventGauges {
		c.gauges = append(c.gauges, prometheus.NewDesc(e.name, e.help, nil, nil))
	}
	s.reg.MustRegister(c)
}

// Describe implements prometheus.Collector.
func (c *eventsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counters {
		ch <- d
	}
	for _, d := range c.gauges {
		ch <- d
	}
	ch <- c.latency
}

// Collect implements prometheus.Collector. The counters are exported even
// when counting the queues fails; the depths then are not.
func (c *eventsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	snap, err := c.stats(ctx)
	for i, e := range eventCounters {
		ch <- prometheus.MustNewConstMetric(c.counters[i], prometheus.CounterValue, float64(e.value(&snap)))
	}
	if err == nil {
		for i, e := range eventGauges {
			ch <- prometheus.MustNewConstMetric(c.gauges[i], prometheus.GaugeValue, float64(e.value(&snap)))
		}
	}
	buckets := make(map[float64]uint64, len(events.LatencyBuckets))
	var total uint64
	for i, bound := range events.LatencyBuckets {
		if i < len(snap.LatencyCounts) {
			total += snap.LatencyCounts[i]
		}
		buckets[bound.Seconds()] = total
	}
	if n := len(snap.LatencyCounts); n > len(events.LatencyBuckets) {
		total += snap.LatencyCounts[n-1]
	}
	ch <- prometheus.MustNewConstHistogram(c.latency, total, snap.LatencySeconds, buckets)
}
