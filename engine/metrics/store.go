package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dynapi/dynapi/engine"
)

// storeMetrics are the store transaction series.
type storeMetrics struct {
	view, update             prometheus.Observer
	viewErrors, updateErrors prometheus.Counter
}

func newStoreMetrics(reg *prometheus.Registry) *storeMetrics {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dynapi_store_transaction_duration_seconds",
		Help: "Time store transactions took, their function included, by kind (view, update).", Buckets: seconds}, []string{"kind"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_store_transaction_errors_total",
		Help: "Store transactions that returned an error, by kind (view, update)."}, []string{"kind"})
	reg.MustRegister(duration, errs)
	return &storeMetrics{view: duration.WithLabelValues("view"), update: duration.WithLabelValues("update"),
		viewErrors: errs.WithLabelValues("view"), updateErrors: errs.WithLabelValues("update")}
}

// Store returns store with the latency of each View and Update recorded;
// store itself when s is nil.
func (s *Set) Store(store engine.Store) engine.Store {
	if s == nil {
		return store
	}
	return &timedStore{Store: store, m: s.store}
}

// timedStore is Set.Store's store.
type timedStore struct {
	engine.Store
	m *storeMetrics
}

// View implements engine.Store.
func (t *timedStore) View(ctx context.Context, fn func(engine.Tx) error) error {
	return timed(t.m.view, t.m.viewErrors, func() error { return t.Store.View(ctx, fn) })
}

// Update implements engine.Store.
func (t *timedStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	return timed(t.m.update, t.m.updateErrors, func() error { return t.Store.Update(ctx, fn) })
}

// timed runs tx, observing its time in latency and counting its error in
// errs.
func timed(latency prometheus.Observer, errs prometheus.Counter, tx func() error) error {
	start := Clock()
	err := tx()
	latency.Observe((Clock() - start).Seconds())
	if err != nil {
		errs.Inc()
	}
	return err
}
