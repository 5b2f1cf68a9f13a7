// Package netguard guards the listener of the HTTP edge: it keeps accepting
// when the process runs out of descriptors (retrying with backoff instead
// of failing), caps open connections in total and per client address
// (closing one over a cap as soon as it is accepted), bounds how long a
// connection may keep the server waiting (Timeouts), and knows who is at
// the other end of each connection, through trusted proxies' forwarding
// header when the peer is one.
package netguard

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config's zero values.
const (
	// DefaultMaxConnsPerIP lets one address (a NAT, an office) hold a few
	// hundred connections.
	DefaultMaxConnsPerIP = 256
	// DefaultClientIPHeader is the forwarding header read from trusted
	// proxies.
	DefaultClientIPHeader = "X-Forwarded-For"
	// maxDefaultConns bounds the default total cap whatever the descriptor
	// limit, so idle connections cannot hold memory without bound.
	maxDefaultConns = 10_000
)

// Accept retry backoff: doubling from the first delay up to the last.
const (
	firstRetryDelay = 5 * time.Millisecond
	maxRetryDelay   = time.Second
)

// refusalLogEvery is how often at most refused connections are logged.
const refusalLogEvery = time.Minute

// Config bounds the connections a Listener hands out and says whose
// forwarding header to believe.
type Config struct {
	// MaxConns caps open connections in total (default DefaultMaxConns).
	MaxConns int
	// MaxConnsPerIP caps open connections per client address: an IPv4
	// address, or an IPv6 /64, which one client usually holds whole
	// (default DefaultMaxConnsPerIP). Trusted proxies, which carry many
	// clients, count only towards MaxConns.
	MaxConnsPerIP int
	// Forwarding says which peers' forwarding header names the client.
	Forwarding Forwarding
	// Timeouts bound the time a connection may keep the server waiting.
	Timeouts Timeouts
	// Logger receives accept failures and refused connections (rate
	// limited); default slog.Default().
	Logger *slog.Logger
}

// DefaultMaxConns is the default total cap: three quarters of the process's
// descriptor limit, leaving the rest for the store, back ends and the
// listener, and at most 10,000.
func DefaultMaxConns() int {
	n := descriptorLimit()
	if n <= 0 {
		return maxDefaultConns
	}
	return max(1, min(n/4*3, maxDefaultConns))
}

// Listener wraps a net.Listener: Accept retries failures until Close, and
// hands out connections (as *Conn) within the caps.
type Listener struct {
	net.Listener
	cfg    Config
	log    *slog.Logger
	closed chan struct{}
	once   sync.Once
	// after is the backoff's timer (time.After); tests replace it to see
	// the backoff and move it by hand.
	after func(time.Duration) <-chan time.Time

	// timeouts are cfg.Timeouts; clock is the sweeper's last reading of
	// the time (Unix nanoseconds), which connections stamp their phases
	// with.
	timeouts Timeouts
	clock    atomic.Int64

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
	conns map[*Conn]struct{}

	refusedMu   sync.Mutex
	refused     int
	lastRefusal time.Time
}

// Listen guards ln with cfg.
func Listen(ln net.Listener, cfg Config) *Listener {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns()
	}
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if cfg.Forwarding.Header == "" {
		cfg.Forwarding.Header = DefaultClientIPHeader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Listener{Listener: ln, cfg: cfg, log: cfg.Logger, closed: make(chan struct{}), perIP: map[netip.Addr]int{},
		conns: map[*Conn]struct{}{}, timeouts: cfg.Timeouts, after: time.After}
	l.clock.Store(time.Now().UnixNano())
	go l.sweepLoop(tickFor(cfg.Timeouts))
	return l
}

// Accept waits for the next connection within the caps. A failure to
// accept (out of descriptors, out of buffers) is logged and retried with
// backoff; Accept returns an error only once the listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	var delay time.Duration
	var failures int
	var since time.Time
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.closed:
				return nil, err
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			if failures == 0 {
				since = time.Now()
				l.log.Error("accepting connections failed; retrying with backoff", "error", err)
			}
			failures++
			delay = min(max(2*delay, firstRetryDelay), maxRetryDelay)
			if !l.sleep(delay) {
				return nil, net.ErrClosed
			}
			continue
		}
		if failures > 0 {
			l.log.Info("accepting connections again", "failed_attempts", failures, "after", time.Since(since).Round(time.Millisecond))
			failures, delay = 0, 0
		}
		if gc := l.admit(c); gc != nil {
			return gc, nil
		}
	}
}

// sleep waits d, or less when the listener closes; it reports whether the
// listener is still open.
func (l *Listener) sleep(d time.Duration) bool {
	select {
	case <-l.after(d):
		return true
	case <-l.closed:
		return false
	}
}

// Close stops Accept, at once even while it backs off.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.closed)
		err = l.Listener.Close()
	})
	return err
}

// admit counts c towards the caps and wraps it, or closes it and returns
// nil when a cap is reached.
func (l *Listener) admit(c net.Conn) *Conn {
	peer := peerAddr(c)
	key, capped := netip.Addr{}, false
	if peer.IsValid() && !l.cfg.Forwarding.trusts(peer) {
		key, capped = clientKey(peer), true
	}
	l.mu.Lock()
	over := l.total >= l.cfg.MaxConns
	if !over && capped {
		over = l.perIP[key] >= l.cfg.MaxConnsPerIP
	}
	var gc *Conn
	if !over {
		l.total++
		if capped {
			l.perIP[key]++
		}
		gc = &Conn{Conn: c, l: l, peer: peer, key: key, capped: capped}
		gc.phase.Store(l.clock.Load())
		l.conns[gc] = struct{}{}
	}
	l.mu.Unlock()
	if over {
		_ = c.Close()
		l.noteRefusal(peer)
		return nil
	}
	return gc
}

// release gives back what admit counted.
func (l *Listener) release(c *Conn) {
	l.mu.Lock()
	l.total--
	delete(l.conns, c)
	if c.capped {
		if n := l.perIP[c.key] - 1; n > 0 {
			l.perIP[c.key] = n
		} else {
			delete(l.perIP, c.key)
		}
	}
	l.mu.Unlock()
}

// noteRefusal logs refused connections at most once per refusalLogEvery,
// with how many there were, so a flood cannot flood the log.
func (l *Listener) noteRefusal(peer netip.Addr) {
	l.refusedMu.Lock()
	l.refused++
	now := time.Now()
	if now.Sub(l.lastRefusal) < refusalLogEvery {
		l.refusedMu.Unlock()
		return
	}
	n := l.refused
	l.refused, l.lastRefusal = 0, now
	l.refusedMu.Unlock()
	l.log.Warn("connections refused over the connection caps", "refused", n, "last_peer", peer.String(),
		"max_conns", l.cfg.MaxConns, "max_conns_per_ip", l.cfg.MaxConnsPerIP)
}

// Conn is a connection a Listener admitted, within its timeouts. Closing
// it frees its place under the caps.
type Conn struct {
	net.Conn
	l      *Listener
	peer   netip.Addr
	key    netip.Addr
	capped bool
	closed atomic.Bool

	// phase is the clock reading at which the connection began waiting
	// for its next request (negated: idle) or began reading one.
	phase atomic.Int64
	// readBy and writeBy are the timeout deadlines of the pending read and
	// write, 0 when none is pending; readDeadline and writeDeadline the
	// deadlines set on the connection, 0 when none is.
	readBy, writeBy             atomic.Int64
	readDeadline, writeDeadline atomic.Int64
}

// Close closes the connection and frees its place, once.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.l.release(c)
	return c.Conn.Close()
}

// Peer is the address at the other end of the connection (invalid when it
// is not an IP connection).
func (c *Conn) Peer() netip.Addr { return c.peer }

// ClientAddr is the client of a request on the connection: the peer, or
// when the peer is a trusted proxy, the client its forwarding header names
// (see Forwarding.Client).
func (c *Conn) ClientAddr(h Header) netip.Addr { return c.l.cfg.Forwarding.Client(c.peer, h) }

// peerAddr is c's remote IP address, IPv4 unmapped from IPv6.
func peerAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// clientKey is what per-address caps count by: the IPv4 address, or the
// IPv6 address's /64 (one customer's network).
func clientKey(a netip.Addr) netip.Addr {
	if a.Is4() {
		return a
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.Addr()
}
