// Package fakeclock is the clock tests move by hand instead of sleeping.
// It imports nothing of the engine, so the tests of any package, the
// kernel's own included, can use it.
package fakeclock

import (
	"sync/atomic"
	"time"
)

// Epoch is the time a new Clock starts at.
var Epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a settable fake clock, safe for concurrent use.
type Clock struct{ ns atomic.Int64 }

// New returns a clock set to Epoch.
func New() *Clock {
	c := &Clock{}
	c.ns.Store(Epoch.UnixNano())
	return c
}

// Now returns the clock's time in UTC.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock by d, which may be negative.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
