package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// bounds are the latency buckets' upper bounds, from half a millisecond to
// ten seconds: most engine answers take a millisecond or less, back ends
// and scripts up to their deadlines.
var bounds = [...]time.Duration{500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second}

// seconds are bounds in seconds, for the histograms client_golang keeps.
var seconds = func() []float64 {
	out := make([]float64, len(bounds))
	for i, b := range bounds {
		out[i] = b.Seconds()
	}
	return out
}()

// latency is a histogram of durations kept in two atomic adds per
// observation (its bucket, its sum), where client_golang's histogram takes
// four and a counter beside it one more: it holds both the request count
// (the buckets' total) and the latencies of the hottest series, exported
// at scrape time (export).
type latency struct {
	buckets [len(bounds) + 1]atomic.Uint64 // the last: beyond the largest bound
	sum     atomic.Int64                   // nanoseconds
}

// observe counts one duration.
func (l *latency) observe(d time.Duration) {
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	l.buckets[i].Add(1)
	l.sum.Add(int64(d))
}

// export sends l as a histogram (hist) and a counter (count) of its
// observations and untimed more, with label values.
func (l *latency) export(ch chan<- prometheus.Metric, count, hist *prometheus.Desc, untimed uint64, values ...string) {
	cumulative := make(map[float64]uint64, len(bounds))
	var total uint64
	for i, b := range bounds {
		total += l.buckets[i].Load()
		cumulative[b.Seconds()] = total
	}
	total += l.buckets[len(bounds)].Load()
	ch <- prometheus.MustNewConstMetric(count, prometheus.CounterValue, float64(total+untimed), values...)
	ch <- prometheus.MustNewConstHistogram(hist, total, time.Duration(l.sum.Load()).Seconds(), cumulative, values...)
}
