package events

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/egress"
)

// Poster sends one delivery attempt. It never follows redirects, bounds
// the attempt's time and the response it reads, and refuses addresses the
// bank's network keeps private: internal/egress's Client.
type Poster interface {
	Post(ctx context.Context, url string, header http.Header, body []byte) (*egress.Result, error)
}

// SETSigner signs a UK Open Banking security event token with the
// engine's signing key (its kid listed at /.well-known/jwks.json), adding
// iss.
type SETSigner interface {
	SignEvent(claims map[string]any) (string, error)
}

// Options configure a Service.
type Options struct {
	Store engine.Store
	Audit *audit.Log
	// URLs checks a receiver's URL when it is registered.
	URLs URLChecker
	// Poster makes the attempts.
	Poster Poster
	// Signer signs UK SETs.
	Signer SETSigner
	// Keys signs webhooks (Standard Webhooks, Ed25519).
	Keys *WebhookKeys
	// Now is the clock of schedules and event times; time.Now when nil.
	Now func() time.Time
	// Schedule is the delays between attempts (DefaultSchedule when nil);
	// the number of attempts is one more than its length. MaxAge ends the
	// attempts of a delivery that old (default 72h).
	Schedule []time.Duration
	MaxAge   time.Duration
	// Retention is how long finished deliveries are kept, and UK events
	// stay pollable (default 7 days).
	Retention time.Duration
	// PollInterval is how often the worker looks for work when nothing
	// wakes it (default 1s).
	PollInterval time.Duration
	// Parallel bounds the attempts in flight (default 16).
	Parallel int
	// Jitter returns a number in [-1, 1) that spreads each delay by
	// JitterFraction of itself; rand by default.
	Jitter func() float64
	Logger Logger
	// Wake, when set (NewWake), wakes the worker besides Kick: pass it to
	// WakeOnCommit.
	Wake chan struct{}
}

// Logger receives the worker's failures.
type Logger interface {
	Error(msg string, args ...any)
}

// DefaultSchedule is the delays between attempts: a dozen attempts over
// about 71 hours.
var DefaultSchedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 24 * time.Hour}

// JitterFraction is how far a delay may move either way.
const JitterFraction = 0.2

// Defaults of Options.
const (
	DefaultMaxAge       = 72 * time.Hour
	DefaultRetention    = 7 * 24 * time.Hour
	DefaultPollInterval = time.Second
	DefaultParallel     = 16
)

// Service keeps subscriptions and deliveries and runs the worker that
// delivers events.
type Service struct {
	o       Options
	store   engine.Store
	audit   *audit.Log
	urls    URLChecker
	now     func() time.Time
	wake    chan struct{}
	breaker breakers
	Metrics Metrics
	// working serialises runs of the worker (Run, and tests' Drain).
	working sync.Mutex
}

// New returns the events service; Run starts its worker.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Audit == nil || o.URLs == nil || o.Poster == nil || o.Signer == nil || o.Keys == nil {
		return nil, errors.New("events: store, audit, URL checker, poster, signer and webhook keys are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Schedule == nil {
		o.Schedule = DefaultSchedule
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Jitter == nil {
		o.Jitter = func() float64 { return rand.Float64()*2 - 1 }
	}
	if o.Wake == nil {
		o.Wake = NewWake()
	}
	return &Service{o: o, store: o.Store, audit: o.Audit, urls: o.URLs, now: o.Now,
		wake: o.Wake, breaker: breakers{byHost: map[string]*breaker{}}}, nil
}

// Kick wakes the worker: an event was committed or a delivery is due.
// It never blocks.
func (s *Service) Kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
