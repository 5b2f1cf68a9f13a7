package events

import (
	"sync"
	"time"
)

// Breaker settings: after breakerFailures failures in a row, a receiver's
// host gets no attempt for breakerPause; then one attempt tries it again.
const (
	breakerFailures = 5
	breakerPause    = time.Minute
)

// breakers pause the hosts that keep failing, so that one receiver that is
// down does not take every attempt's time. Only the worker uses them.
type breakers struct {
	mu     sync.Mutex
	byHost map[string]*breaker
}

// breaker is one host's run of failures.
type breaker struct {
	failures int
	until    time.Time
}

// openUntil is when host's breaker closes, zero when it is closed at now.
func (b *breakers) openUntil(host string, now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if br := b.byHost[host]; br != nil && now.Before(br.until) {
		return br.until
	}
	return time.Time{}
}

// succeeded closes host's breaker.
func (b *breakers) succeeded(host string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byHost, host)
}

// failed counts a failure of host at now, opening its breaker at the
// breakerFailures-th in a row.
func (b *breakers) failed(host string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.byHost[host]
	if br == nil {
		br = &breaker{}
		b.byHost[host] = br
	}
	br.failures++
	if br.failures >= breakerFailures {
		br.failures, br.until = 0, now.Add(breakerPause)
	}
}
