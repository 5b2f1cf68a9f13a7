package dynapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine/metrics"
)

// MetricsConfig configures the Prometheus metrics.
type MetricsConfig struct {
	// Disabled turns every metric off (--metrics=false): nothing is
	// recorded and /metrics is not served.
	Disabled bool
	// Addr is the address of a listener of their own the metrics are
	// served on, unauthenticated (--metrics-addr), for a Prometheus inside
	// the bank's network; the main listener then does not serve them.
	// Empty: the main listener serves them at /metrics to callers holding
	// CanGetMetrics.
	Addr string
}

// metricsSet is the metrics cfg asks for: nil when they are off. Metrics
// off with an address to serve them on is a configuration error.
func metricsSet(cfg MetricsConfig) (*metrics.Set, error) {
	if cfg.Disabled {
		if cfg.Addr != "" {
			return nil, fmt.Errorf("metrics address %q (--metrics-addr, env DYNAPI_METRICS_ADDR) is set but metrics are off (--metrics=false, env DYNAPI_METRICS)", cfg.Addr)
		}
		return nil, nil
	}
	return metrics.New(), nil
}

// metricsServer is the server of the metrics' own listener, nil unless
// cfg names one.
func metricsServer(cfg MetricsConfig, set *metrics.Set) *http.Server {
	if set == nil || cfg.Addr == "" {
		return nil
	}
	return &http.Server{Handler: set.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
}

// ServeMetrics serves the metrics on ln, unauthenticated, until Close. It
// is for Config.Metrics.Addr; without it (or with metrics off) it is an
// error.
func (i *Instance) ServeMetrics(ln net.Listener) error {
	if i.metricsServer == nil {
		return errors.New("dynapi: the metrics have no listener of their own: Config.Metrics.Addr is empty or metrics are off")
	}
	if err := i.metricsServer.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// closeMetrics stops the metrics' own listener, if any.
func (i *Instance) closeMetrics(ctx context.Context) error {
	if i.metricsServer == nil {
		return nil
	}
	return i.metricsServer.Shutdown(ctx)
}
