package rest

import (
	"sync"
	"sync/atomic"
	"time"
)

// outcome is what one attempt says about a back end's health.
type outcome uint8

const (
	healthy outcome = iota // it answered, even with a 4xx
	failed                 // unreachable, timed out or a 5xx
	unknown                // the caller gave up first: says nothing
)

// breaker is the circuit breaker of one back end, shared by every routing
// to it. The thresholds come with each call, since routings may set their
// own.
type breaker struct {
	// failing is false while the back end is healthy (closed, no failure
	// since the last success), which spares the lock on the common path.
	failing atomic.Bool

	mu        sync.Mutex
	failures  int       // consecutive failed attempts
	openUntil time.Time // zero while closed
	trial     bool      // a half-open trial call is under way
}

// allow asks to make an attempt at now. It refuses while the circuit is
// open, returning when the next trial may go, and while a trial is under
// way. trial tells the caller it makes the trial call and must report it.
func (b *breaker) allow(now time.Time) (trial bool, retryAt time.Time, ok bool) {
	if !b.failing.Load() {
		return false, time.Time{}, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.openUntil.IsZero():
		return false, time.Time{}, true
	case now.Before(b.openUntil):
		return false, b.openUntil, false
	case b.trial:
		return false, now, false
	}
	b.trial = true
	return true, time.Time{}, true
}

// done reports an attempt's outcome. A failure opens the circuit for
// cooldown when it is the failures'th in a row or a failed trial. It tells
// whether the circuit opened, or closed again.
func (b *breaker) done(trial bool, o outcome, now time.Time, failures int, cooldown time.Duration) (opened, closed bool) {
	if o != failed && !trial && !b.failing.Load() {
		return false, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if trial {
		b.trial = false
	}
	switch o {
	case healthy:
		closed = !b.openUntil.IsZero()
		b.failures, b.openUntil = 0, time.Time{}
		b.failing.Store(false)
	case failed:
		b.failures++
		b.failing.Store(true)
		if trial || (b.openUntil.IsZero() && b.failures >= failures) {
			b.openUntil = now.Add(cooldown)
			opened = true
		}
	}
	return opened, closed
}

// breakers holds the breaker of each back end, by scheme://host:port.
type breakers struct {
	mu sync.Mutex
	m  map[string]*breaker
}

// of returns the breaker of a back end, creating it.
func (bs *breakers) of(key string) *breaker {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b, ok := bs.m[key]
	if !ok {
		if bs.m == nil {
			bs.m = map[string]*breaker{}
		}
		b = &breaker{}
		bs.m[key] = b
	}
	return b
}
