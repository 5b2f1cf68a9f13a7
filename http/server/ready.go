package server

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

// CodeNotReady is the code of /readyz's 503: the instance should not be
// sent traffic (starting, shutting down, or its store not answering).
const CodeNotReady = "not_ready"

// ReadinessInterval is how long Readiness keeps the outcome of a store
// check, so a flood of /readyz calls costs one read transaction a second.
const ReadinessInterval = time.Second

// Readiness checks that the store answers a read transaction, at most
// once per ReadinessInterval; safe for concurrent use, lock-free.
type Readiness struct {
	store engine.Store
	now   func() time.Time
	last  atomic.Pointer[probe]
}

// probe is the outcome of one store check.
type probe struct {
	at  time.Time
	err error
}

// NewReadiness checks store, on the clock now (nil: time.Now).
func NewReadiness(store engine.Store, now func() time.Time) *Readiness {
	if now == nil {
		now = time.Now
	}
	return &Readiness{store: store, now: now}
}

// Check reports why the store cannot serve, or nil: the outcome of the
// last read transaction when younger than ReadinessInterval, else of a new
// one, which reads nothing.
func (r *Readiness) Check(ctx context.Context) error {
	now := r.now()
	if last := r.last.Load(); last != nil && now.Sub(last.at) < ReadinessInterval && !now.Before(last.at) {
		return last.err
	}
	err := r.store.View(ctx, func(engine.Tx) error { return nil })
	r.last.Store(&probe{at: now, err: err})
	return err
}

// ready answers /readyz: 200 when the instance can serve, else a 503
// problem saying what is not ready.
func (s *Server) ready(c *fiber.Ctx) error {
	var why string
	switch {
	case s.draining.Load():
		why = "the server is shutting down"
	case !s.endpoints.Booted():
		why = "the API documents are not loaded yet"
	case s.readiness != nil && s.readiness.Check(c.UserContext()) != nil:
		why = "the store does not answer"
	default:
		return c.JSON(fiber.Map{"status": "ready"})
	}
	// Written here rather than returned: a server error returned is
	// logged, and a load balancer probes a draining instance many times.
	return writeProblem(c, engine.NewError(http.StatusServiceUnavailable, CodeNotReady, "not ready: "+why), correlationID(c))
}
