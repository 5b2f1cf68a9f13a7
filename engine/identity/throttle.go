package identity

import (
	"context"
	"strings"
	"sync"
	"time"
)

// maxThrottleEntries bounds each throttle table (user and address pairs,
// users, addresses), so that an attacker cycling through names or
// addresses cannot grow it without limit.
const maxThrottleEntries = 1 << 18

// throttle keeps failed logins in memory and answers two questions about
// an attempt: how long must it wait (an address, or a user from anywhere,
// past SlowAfter failures is slowed, the delay doubling with each further
// failure up to MaxDelay), and may it be checked at all (a user is locked
// out from one address after MaxFailures failures there, and only from
// there). Only failures count: a right password is never refused because
// other attempts are in flight, and the users behind a shared address are
// slowed by an attacker among them, never locked out.
//
// It is deliberately not persisted: writing on every failed attempt would
// let anyone turn password guessing into disk writes, and a restart that
// clears the counters gives an attacker no more than MaxFailures guesses
// per user and address per restart.
type throttle struct {
	opts  ThrottleOptions
	mu    sync.Mutex
	pairs map[string]*failures // user sep address
	users map[string]*failures // user, from any address
	addrs map[string]*failures // address, whatever the user
}

// failures is one key's recent failed logins.
type failures struct {
	count       int
	first       time.Time // first failure of the current window
	lockedUntil time.Time // pairs: the end of a lockout
	// inFlight counts a pair's attempts being checked now; with count it
	// may not pass MaxFailures, so concurrent guesses stop at the limit.
	// An attempt over it waits for one to end (wake is closed then)
	// rather than fail: only failures refuse.
	inFlight int
	wake     chan struct{}
}

// outcome is how a begun attempt ended.
type outcome int

const (
	succeeded outcome = iota
	failed
	aborted // neither: the store or the context failed
)

// transitions are the changes a failure made, for the security log.
type transitions struct {
	lockedOut   bool // the pair reached MaxFailures
	userSlowed  bool // the user reached SlowAfter
	addrSlowed  bool // the address reached SlowAfter
	lockedUntil time.Time
}

func newThrottle(o ThrottleOptions) *throttle {
	o = o.withDefaults()
	return &throttle{opts: o, pairs: map[string]*failures{}, users: map[string]*failures{}, addrs: map[string]*failures{}}
}

// withDefaults fills zero fields.
func (o ThrottleOptions) withDefaults() ThrottleOptions {
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.Lockout <= 0 {
		o.Lockout = 15 * time.Minute
	}
	if o.SlowAfter <= 0 {
		o.SlowAfter = 10
	}
	if o.Delay <= 0 {
		o.Delay = 250 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 2 * time.Second
	}
	o.MaxDelay = max(o.MaxDelay, o.Delay)
	return o
}

// pairKey is the key of user at addr.
func pairKey(user, addr string) string { return user + sep + addr }

// live returns the state of key with an ended window or lockout cleared,
// nil when there is none.
func (t *throttle) live(m map[string]*failures, key string, now time.Time) *failures {
	f := m[key]
	if f == nil {
		return nil
	}
	if t.expired(f, now) {
		f.count, f.lockedUntil = 0, time.Time{}
		if f.inFlight == 0 {
			delete(m, key)
			return nil
		}
	}
	return f
}

func (t *throttle) expired(f *failures, now time.Time) bool {
	if !f.lockedUntil.IsZero() {
		return !now.Before(f.lockedUntil)
	}
	return f.count == 0 || now.Sub(f.first) >= t.opts.Window
}

// entry returns the state of key, made when missing. The key is copied:
// the caller's may point into a buffer the next request reuses.
func (t *throttle) entry(m map[string]*failures, key string, now time.Time) *failures {
	if f := t.live(m, key, now); f != nil {
		return f
	}
	t.makeRoom(m, now)
	f := &failures{}
	m[strings.Clone(key)] = f
	return f
}

// makeRoom keeps m below its bound. When full it drops expired entries,
// then others not in flight, down to seven eighths of the bound, so that
// the scan is paid once per many insertions.
func (t *throttle) makeRoom(m map[string]*failures, now time.Time) {
	if len(m) < maxThrottleEntries {
		return
	}
	target := maxThrottleEntries / 8 * 7
	for k, f := range m {
		if f.inFlight == 0 && t.expired(f, now) {
			delete(m, k)
		}
	}
	for k, f := range m {
		if len(m) <= target {
			return
		}
		if f.inFlight == 0 {
			delete(m, k)
		}
	}
}

// delay is how long an attempt for user from addr ("" skips either) waits
// before it is checked: the longer of the two slowdowns.
func (t *throttle) delay(user, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	if user != "" {
		d = t.slowdown(t.live(t.users, user, now))
	}
	if addr != "" {
		d = max(d, t.slowdown(t.live(t.addrs, addr, now)))
	}
	return d
}

// slowdown is Delay after SlowAfter failures, doubled with each further
// one, at most MaxDelay.
func (t *throttle) slowdown(f *failures) time.Duration {
	if f == nil || f.count < t.opts.SlowAfter {
		return 0
	}
	shift := f.count - t.opts.SlowAfter
	if shift > 30 {
		return t.opts.MaxDelay
	}
	return min(t.opts.Delay<<shift, t.opts.MaxDelay)
}

// begin starts an attempt for user at addr. It returns false when the pair
// is locked out. While failures and attempts in flight reach MaxFailures
// it waits for an attempt to end, so that concurrent guesses cannot pass
// the limit and right passwords are not refused. Every begin that returns
// true must be ended by end.
func (t *throttle) begin(ctx context.Context, user, addr string, now func() time.Time) (bool, error) {
	if user == "" {
		return true, nil
	}
	key := pairKey(user, addr)
	for {
		t.mu.Lock()
		f := t.entry(t.pairs, key, now())
		if !f.lockedUntil.IsZero() {
			t.mu.Unlock()
			return false, nil
		}
		if f.count+f.inFlight < t.opts.MaxFailures {
			f.inFlight++
			t.mu.Unlock()
			return true, nil
		}
		if f.wake == nil {
			f.wake = make(chan struct{})
		}
		wake := f.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// end ends a begun attempt. A failure counts for the pair, the user and
// the address; a pair reaching MaxFailures is locked out from now. A
// success forgets the pair's and the user's failures, not the address's:
// one valid account must not reset an attacker's count against others.
func (t *throttle) end(user, addr string, o outcome, now time.Time) transitions {
	t.mu.Lock()
	defer t.mu.Unlock()
	var tr transitions
	if user != "" {
		key := pairKey(user, addr)
		f := t.entry(t.pairs, key, now)
		f.inFlight = max(0, f.inFlight-1)
		if f.wake != nil {
			close(f.wake)
			f.wake = nil
		}
		switch o {
		case failed:
			t.count(f, now)
			if f.count >= t.opts.MaxFailures && f.lockedUntil.IsZero() {
				f.lockedUntil = now.Add(t.opts.Lockout)
				tr.lockedOut, tr.lockedUntil = true, f.lockedUntil
			}
		case succeeded:
			f.count = 0
		}
		if f.count == 0 && f.inFlight == 0 {
			delete(t.pairs, key)
		}
	}
	switch o {
	case failed:
		if user != "" {
			tr.userSlowed = t.count(t.entry(t.users, user, now), now) == t.opts.SlowAfter
		}
		if addr != "" {
			tr.addrSlowed = t.count(t.entry(t.addrs, addr, now), now) == t.opts.SlowAfter
		}
	case succeeded:
		delete(t.users, user)
	}
	return tr
}

// count adds a failure to f and returns the new count.
func (t *throttle) count(f *failures, now time.Time) int {
	if f.count == 0 {
		f.first = now
	}
	f.count++
	return f.count
}

// reset forgets user's failures, from every address (an administrator
// unlocked or deleted the user, or cleared its failures).
func (t *throttle) reset(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.users, user)
	prefix := user + sep
	for k, f := range t.pairs {
		if strings.HasPrefix(k, prefix) {
			f.count, f.lockedUntil = 0, time.Time{}
			if f.inFlight == 0 {
				delete(t.pairs, k)
			}
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
