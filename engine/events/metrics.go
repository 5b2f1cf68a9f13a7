package events

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// LatencyBuckets are the upper bounds of the attempt latency histogram.
var LatencyBuckets = [...]time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second}

// Metrics are the worker's counters since start: the one place a metrics
// endpoint reads them from.
type Metrics struct {
	eventsFannedOut, deliveriesMade          atomic.Uint64
	attempts, failures                       atomic.Uint64
	delivered, retried, dead, gone, replayed atomic.Uint64
	latency                                  [len(LatencyBuckets) + 1]atomic.Uint64
	latencySumNanos                          atomic.Uint64
}

// observe counts one attempt.
func (m *Metrics) observe(o outcome) {
	m.attempts.Add(1)
	if o.err != nil || o.resp.Status < 200 || o.resp.Status >= 300 {
		m.failures.Add(1)
	}
	m.latencySumNanos.Add(uint64(o.duration))
	i := 0
	for i < len(LatencyBuckets) && o.duration > LatencyBuckets[i] {
		i++
	}
	m.latency[i].Add(1)
}

// Snapshot is the counters at one moment, and the queues' depths.
type Snapshot struct {
	EventsFannedOut uint64  `json:"events_fanned_out"`
	DeliveriesMade  uint64  `json:"deliveries_made"`
	Attempts        uint64  `json:"attempts"`
	FailedAttempts  uint64  `json:"failed_attempts"`
	Delivered       uint64  `json:"delivered"`
	Retried         uint64  `json:"retried"`
	Dead            uint64  `json:"dead"`
	Gone            uint64  `json:"gone"`
	Replayed        uint64  `json:"replayed"`
	LatencySeconds  float64 `json:"latency_seconds_sum"`
	// LatencyCounts[i] counts attempts that took at most LatencyBuckets[i]
	// (the last: longer).
	LatencyCounts []uint64 `json:"latency_counts"`
	// OutboxDepth counts events not yet fanned out; DueDepth deliveries
	// waiting for an attempt; DeadDepth dead deliveries kept.
	OutboxDepth int `json:"outbox_depth"`
	DueDepth    int `json:"due_depth"`
	DeadDepth   int `json:"dead_depth"`
}

// Stats reads the counters and counts the queues.
func (s *Service) Stats(ctx context.Context) (Snapshot, error) {
	m := &s.Metrics
	snap := Snapshot{EventsFannedOut: m.eventsFannedOut.Load(), DeliveriesMade: m.deliveriesMade.Load(),
		Attempts: m.attempts.Load(), FailedAttempts: m.failures.Load(), Delivered: m.delivered.Load(),
		Retried: m.retried.Load(), Dead: m.dead.Load(), Gone: m.gone.Load(), Replayed: m.replayed.Load(),
		LatencySeconds: time.Duration(m.latencySumNanos.Load()).Seconds()}
	for i := range m.latency {
		snap.LatencyCounts = append(snap.LatencyCounts, m.latency[i].Load())
	}
	err := s.store.View(ctx, func(tx engine.Tx) error {
		for _, q := range []struct {
			bucket string
			n      *int
		}{{outboxBucket, &snap.OutboxDepth}, {dueBucket, &snap.DueDepth}, {deadBucket, &snap.DeadDepth}} {
			if err := tx.Scan(q.bucket, "", func(string, []byte) error { *q.n++; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return snap, err
}
