package access

import (
	"sync"
	"time"
)

// maxThrottleEntries bounds each throttle table (usernames, addresses),
// so that an attacker cycling through names or addresses cannot grow it
// without limit.
const maxThrottleEntries = 1 << 18

// throttle counts failed logins per key (a username or a client address)
// in memory. It is deliberately not persisted: writing on every failed
// attempt would let anyone turn password guessing into disk writes, and
// a restart that clears the counters gives an attacker no more than
// MaxFailures guesses per restart.
type throttle struct {
	opts  ThrottleOptions
	mu    sync.Mutex
	users map[string]*attempts
	addrs map[string]*attempts
}

// attempts is one key's state. count includes attempts in flight: an
// attempt counts as a failure when it starts and is taken back when it
// succeeds, so that concurrent guesses cannot get past MaxFailures.
type attempts struct {
	count       int
	first       time.Time // first failure of the current window
	lockedUntil time.Time
}

func newThrottle(o ThrottleOptions) *throttle {
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.Lockout <= 0 {
		o.Lockout = 15 * time.Minute
	}
	return &throttle{opts: o, users: map[string]*attempts{}, addrs: map[string]*attempts{}}
}

// current returns the live state of key, dropping an expired one.
func (t *throttle) current(m map[string]*attempts, key string, now time.Time) *attempts {
	a := m[key]
	if a == nil {
		return nil
	}
	if t.expired(a, now) {
		delete(m, key)
		return nil
	}
	return a
}

func (t *throttle) expired(a *attempts, now time.Time) bool {
	if !a.lockedUntil.IsZero() {
		return !now.Before(a.lockedUntil)
	}
	return a.count <= 0 || now.Sub(a.first) >= t.opts.Window
}

func (t *throttle) blocked(a *attempts) bool {
	return a != nil && (!a.lockedUntil.IsZero() || a.count >= t.opts.MaxFailures)
}

// begin starts an attempt for user and addr ("" skips a key). It returns
// false, recording nothing, when either is locked out or has as many
// failures and attempts in flight as allowed.
func (t *throttle) begin(user, addr string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	var u, a *attempts
	if user != "" {
		u = t.current(t.users, user, now)
	}
	if addr != "" {
		a = t.current(t.addrs, addr, now)
	}
	if t.blocked(u) || t.blocked(a) {
		return false
	}
	if user != "" {
		t.count(t.users, user, u, now)
	}
	if addr != "" {
		t.count(t.addrs, addr, a, now)
	}
	return true
}

func (t *throttle) count(m map[string]*attempts, key string, a *attempts, now time.Time) {
	if a == nil {
		t.makeRoom(m, now)
		a = &attempts{first: now}
		m[key] = a
	}
	a.count++
}

// makeRoom keeps m below its bound: expired entries go first, else any
// entry not locked out.
func (t *throttle) makeRoom(m map[string]*attempts, now time.Time) {
	if len(m) < maxThrottleEntries {
		return
	}
	for k, a := range m {
		if t.expired(a, now) {
			delete(m, k)
		}
	}
	for k, a := range m {
		if len(m) < maxThrottleEntries {
			return
		}
		if a.lockedUntil.IsZero() {
			delete(m, k)
		}
	}
}

// fail ends a begun attempt as a failure: a key reaching MaxFailures is
// locked out from now.
func (t *throttle) fail(user, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range [...]struct {
		m   map[string]*attempts
		key string
	}{{t.users, user}, {t.addrs, addr}} {
		if e.key == "" {
			continue
		}
		a := e.m[e.key]
		if a == nil { // pruned meanwhile
			a = &attempts{first: now, count: 1}
			e.m[e.key] = a
		}
		if a.lockedUntil.IsZero() && a.count >= t.opts.MaxFailures {
			a.lockedUntil = now.Add(t.opts.Lockout)
		}
	}
}

// succeed ends a begun attempt as a success: the user's failures are
// forgotten, the address's in-flight attempt is taken back (a success does
// not clear the address's failures: one valid account must not reset an
// attacker's count against others).
func (t *throttle) succeed(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if user != "" {
		delete(t.users, user)
	}
	if a := t.addrs[addr]; addr != "" && a != nil && a.lockedUntil.IsZero() {
		a.count--
	}
}

// abort takes back a begun attempt that ended in neither success nor
// failure (the store or the context failed).
func (t *throttle) abort(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range [...]struct {
		m   map[string]*attempts
		key string
	}{{t.users, user}, {t.addrs, addr}} {
		if a := e.m[e.key]; e.key != "" && a != nil && a.lockedUntil.IsZero() {
			a.count--
		}
	}
}

// reset forgets user's failures (after an administrator unlocks or
// deletes the user).
func (t *throttle) reset(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.users, user)
}
