package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshots records the swaps of the served operations' snapshot. A nil
// *Snapshots records nothing.
type Snapshots struct {
	swaps    prometheus.Counter
	duration prometheus.Histogram
}

func newSnapshots(reg *prometheus.Registry) *Snapshots {
	s := &Snapshots{
		swaps: prometheus.NewCounter(prometheus.CounterOpts{Name: "dynapi_snapshot_swaps_total",
			Help: "Snapshots of the served operations swapped in (boot, and each document created, replaced or deleted)."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dynapi_snapshot_swap_duration_seconds",
			Help:    "Time from starting to build a snapshot (its route table) to serving it, the change's commit included.",
			Buckets: seconds}),
	}
	reg.MustRegister(s.swaps, s.duration)
	return s
}

// Snapshots returns the snapshot recorder; nil when s is nil.
func (s *Set) Snapshots() *Snapshots {
	if s == nil {
		return nil
	}
	return s.snapshots
}

// Swapped records a snapshot served, whose building started at start.
func (s *Snapshots) Swapped(start time.Time) {
	if s == nil {
		return
	}
	s.swaps.Inc()
	s.duration.Observe(time.Since(start).Seconds())
}
