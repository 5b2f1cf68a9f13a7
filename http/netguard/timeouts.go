package netguard

import (
	"math"
	"sync/atomic"
	"time"
)

// Timeouts bound how long a connection may keep the server waiting on its
// client. A zero field is no bound.
//
// They are enforced by the listener's sweeper, which advances a clock each
// tick and cuts off the connections whose pending read or write has passed
// its deadline, instead of by a runtime deadline per read and write:
// setting a deadline updates a runtime timer, which costs more than the
// rest of serving a small request does. A connection's reads and writes
// only stamp the clock's reading, which lags the time by up to a tick, and
// the sweep that finds one late comes up to a tick after its deadline: a
// timeout fires up to a tick early or late (see tickFor). A connection cut
// off has its pending read or write fail as a timeout, and is closed by
// the server.
type Timeouts struct {
	// Header bounds the time from the first bytes of a request (from
	// accept, for a connection's first request) to the end of reading it,
	// unless a read deadline is set (Conn.SetReadDeadline).
	Header time.Duration
	// Idle bounds how long a connection may wait for its next request
	// once an answer is written.
	Idle time.Duration
	// Write bounds each write of an answer, so a client that stops reading
	// cannot hold the connection.
	Write time.Duration
}

// Sweeper ticks: the smallest timeout over tickDivisor, within
// [minTick, maxTick].
const (
	tickDivisor = 8
	minTick     = 5 * time.Millisecond
	maxTick     = 250 * time.Millisecond
)

// never is a deadline that does not come.
const never = math.MaxInt64

// longAgo is the deadline that makes a pending read or write fail at once.
var longAgo = time.Unix(1, 0)

// tickFor is the sweeper's period for t; without timeouts, the sweeper
// still keeps the deadlines set on connections.
func tickFor(t Timeouts) time.Duration {
	least := time.Duration(0)
	for _, d := range []time.Duration{t.Header, t.Idle, t.Write} {
		if d > 0 && (least == 0 || d < least) {
			least = d
		}
	}
	if least == 0 {
		return maxTick
	}
	return min(max(least/tickDivisor, minTick), maxTick)
}

// after is the clock reading d after at, or never when d bounds nothing.
func after(at int64, d time.Duration) int64 {
	if d <= 0 {
		return never
	}
	return at + int64(d)
}

// deadlineNanos is t as a deadline in clock readings: 0 (none) for the
// zero time.
func deadlineNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// sweepLoop advances the clock and sweeps each tick until the listener is
// closed and its last connection gone.
func (l *Listener) sweepLoop(tick time.Duration) {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case now := <-ticker.C:
			if !l.sweep(now) {
				return
			}
		case <-l.closed:
			// Connections outlive the listener while the server shuts
			// down; their timeouts keep holding until the last is gone.
			for now := range ticker.C {
				if !l.sweep(now) {
					return
				}
			}
		}
	}
}

// sweep sets the clock to now and cuts off every connection whose pending
// read or write is past its deadline. It reports whether sweeping should
// go on: the listener is open or a connection is.
func (l *Listener) sweep(now time.Time) bool {
	at := now.UnixNano()
	l.clock.Store(at)
	var late []*Conn
	l.mu.Lock()
	for c := range l.conns {
		if c.readLate(at) || c.writeLate(at) {
			late = append(late, c)
		}
	}
	open := l.total > 0
	l.mu.Unlock()
	for _, c := range late {
		c.cutOff(at)
	}
	select {
	case <-l.closed:
		return open
	default:
		return true
	}
}

// readLate reports whether c's pending read is past its deadline at at: the
// read deadline set on c, else the timeout of the phase it began in.
func (c *Conn) readLate(at int64) bool { return late(at, &c.readBy, &c.readDeadline) }

// writeLate is readLate for c's pending write.
func (c *Conn) writeLate(at int64) bool { return late(at, &c.writeBy, &c.writeDeadline) }

// late reports whether a pending read or write, due by its timeout's
// deadline (0: none pending) or the deadline set in its place, is past it
// at at.
func late(at int64, by, set *atomic.Int64) bool {
	due := by.Load()
	if due == 0 {
		return false
	}
	if d := set.Load(); d != 0 {
		due = d
	}
	return at > due
}

// cutOff makes c's late read or write fail as a timeout. The server then
// closes c. A read that ended between the sweep and this call makes the
// next one fail instead: the client was at its deadline either way.
func (c *Conn) cutOff(at int64) {
	if c.readLate(at) {
		_ = c.Conn.SetReadDeadline(longAgo)
	}
	if c.writeLate(at) {
		_ = c.Conn.SetWriteDeadline(longAgo)
	}
}

// Read reads from the connection within the read deadline or the phase's
// timeout (Timeouts): the connection's first bytes after an answer start a
// new request.
func (c *Conn) Read(b []byte) (int, error) {
	phase := c.phase.Load()
	if phase < 0 {
		c.readBy.Store(after(-phase, c.l.timeouts.Idle))
	} else {
		c.readBy.Store(after(phase, c.l.timeouts.Header))
	}
	n, err := c.Conn.Read(b)
	c.readBy.Store(0)
	if n > 0 && phase < 0 {
		c.phase.Store(c.l.clock.Load())
	}
	return n, err
}

// Write writes to the connection within the write deadline or the write
// timeout; once it is done, the connection waits for its next request.
func (c *Conn) Write(b []byte) (int, error) {
	now := c.l.clock.Load()
	c.writeBy.Store(after(now, c.l.timeouts.Write))
	n, err := c.Conn.Write(b)
	c.writeBy.Store(0)
	c.phase.Store(-c.l.clock.Load())
	return n, err
}

// SetDeadline sets the read and write deadlines (see SetReadDeadline).
func (c *Conn) SetDeadline(t time.Time) error {
	c.readDeadline.Store(deadlineNanos(t))
	c.writeDeadline.Store(deadlineNanos(t))
	return nil
}

// SetReadDeadline sets the deadline of pending and future reads, in place
// of the Header and Idle timeouts until it is cleared with the zero time.
// Like the timeouts, it is kept by the sweeper: it costs no runtime timer,
// and holds to within two ticks.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Store(deadlineNanos(t))
	return nil
}

// SetWriteDeadline sets the deadline of pending and future writes, in
// place of the Write timeout until it is cleared (see SetReadDeadline).
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(deadlineNanos(t))
	return nil
}
