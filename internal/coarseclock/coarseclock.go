// Package coarseclock is a clock for checks made on every request that need
// no finer time than a few milliseconds, such as whether a token has
// expired: reading it is an atomic load, where time.Now reads the system
// clock (about 50 ns on a virtual machine, a noticeable share of a small
// request).
//
// A goroutine, started on the first reading, advances the clock every
// Resolution for the rest of the process. The clock lags the system clock
// by up to Resolution, more while the process is starved of CPU, and is
// never ahead of it: a deadline checked against it may pass late, never
// early.
package coarseclock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Resolution is how often the clock advances.
const Resolution = 10 * time.Millisecond

var (
	start sync.Once
	nanos atomic.Int64 // Unix nanoseconds, 0 until started
)

// Now is the time to within Resolution (see the package doc). It carries
// no monotonic reading: compare it with times of the wall clock.
func Now() time.Time {
	n := nanos.Load()
	if n == 0 {
		start.Do(run)
		n = nanos.Load()
	}
	return time.Unix(0, n)
}

// run sets the clock and starts advancing it.
func run() {
	nanos.Store(time.Now().UnixNano())
	go func() {
		for range time.Tick(Resolution) {
			nanos.Store(time.Now().UnixNano())
		}
	}()
}
