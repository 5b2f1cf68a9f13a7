package ratelimit

import (
	"sync/atomic"
	"time"
)

// counter counts one consumer's or user's calls in the current window of
// each period. A window is one word: the window's number (its low 32 bits)
// above the calls counted in it, changed by compare-and-swap, so counting
// takes no lock and a new window starts by the first call that sees the
// old one ended.
type counter struct {
	windows [periods]atomic.Uint64
}

// pack is the word of window idx with n calls counted.
func pack(idx int64, n uint64) uint64 { return uint64(uint32(idx))<<32 | n }

// take counts a call at now against every period l limits, returning the
// period whose limit the call would pass (ok false) after giving back
// what it counted in the others.
func (c *counter) take(l *Limits, now time.Time) (refused Period, ok bool) {
	for p := range periods {
		limit := l.Calls[p]
		if limit == 0 {
			continue
		}
		idx := windowIndex(p, now)
		if !c.takeOne(p, idx, uint64(limit)) {
			c.giveBack(l, p, now)
			return p, false
		}
	}
	return 0, true
}

// takeOne counts a call in window idx of period p unless limit calls are
// counted there already.
func (c *counter) takeOne(p Period, idx int64, limit uint64) bool {
	w := &c.windows[p]
	for {
		old := w.Load()
		next := pack(idx, 1)
		if old>>32 == uint64(uint32(idx)) {
			if old&0xffffffff >= limit {
				return false
			}
			next = old + 1
		}
		if w.CompareAndSwap(old, next) {
			return true
		}
	}
}

// giveBack uncounts a call at now in the periods before upTo that l
// limits: a call refused by a longer period, or by the other subject's
// limits, does not use up the shorter ones.
func (c *counter) giveBack(l *Limits, upTo Period, now time.Time) {
	for p := range upTo {
		if l.Calls[p] == 0 {
			continue
		}
		idx := uint64(uint32(windowIndex(p, now)))
		w := &c.windows[p]
		for {
			old := w.Load()
			if old>>32 != idx || old&0xffffffff == 0 || w.CompareAndSwap(old, old-1) {
				break
			}
		}
	}
}

// used is how many calls are counted in the window of period p that now
// falls in.
func (c *counter) used(p Period, now time.Time) uint64 {
	v := c.windows[p].Load()
	if v>>32 != uint64(uint32(windowIndex(p, now))) {
		return 0
	}
	return v & 0xffffffff
}

// idle reports whether every window c counted in has ended by now: c then
// counts nothing a fresh counter would not, and may be forgotten.
func (c *counter) idle(now time.Time) bool {
	for p := range periods {
		if c.used(p, now) > 0 {
			return false
		}
	}
	return true
}
