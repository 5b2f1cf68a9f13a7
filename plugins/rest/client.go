package rest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Connections to back ends: HTTP/1.1 with keep-alive, requests written and
// answers read by fasthttp on the calling goroutine, over connections this
// file dials and keeps. A call costs no goroutine, no channel hand-off and,
// once the pools are warm, no allocation for its request or answer.
const (
	// maxIdle bounds the idle connections kept per back end.
	maxIdle = 64
	// idleTimeout closes connections idle longer.
	idleTimeout = 90 * time.Second
	// idleCheck is the idle time after which a connection is checked for
	// having been closed by the back end before it is used again.
	idleCheck = time.Second
	// readBuffer bounds an answer's status line and header.
	readBuffer  = 16 << 10
	writeBuffer = 4 << 10
	// dialTimeout bounds connecting (with the TLS handshake) when the
	// attempt's own deadline is further away.
	dialTimeout = 30 * time.Second
)

// dialFunc opens a TCP connection.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// pool holds the idle connections to one back end.
type pool struct {
	addr string      // host:port
	tls  *tls.Config // nil for http
	dial dialFunc
	idle chan *conn
}

// conn is one connection to a back end.
type conn struct {
	nc       net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	lastUsed time.Time
	// cancelled is set when a call's end moved the deadline (or may yet):
	// the connection must not serve another call.
	cancelled bool
}

// pools are the connection pools, one per back end (scheme://host:port).
type pools struct {
	mu sync.Mutex
	m  map[string]*pool
}

// of returns the pool of a back end, creating it. An https back end's
// connections use a copy of base (nil: the defaults) naming its host.
func (ps *pools) of(t *urlTemplate, dial dialFunc, base *tls.Config) *pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.m[t.key]
	if !ok {
		if ps.m == nil {
			ps.m = map[string]*pool{}
		}
		p = &pool{addr: t.addr, dial: dial, idle: make(chan *conn, maxIdle)}
		if t.secure {
			p.tls = &tls.Config{MinVersion: tls.VersionTLS12}
			if base != nil {
				p.tls = base.Clone()
			}
			p.tls.ServerName = t.hostname
		}
		ps.m[t.key] = p
	}
	return p
}

// roundTrip sends req and reads its answer into resp, by deadline; ending
// ctx ends it at once. Connections idle for a while, and any for a request
// that cannot be sent twice, are checked before use; an idempotent request
// on a kept-alive connection that the back end turns out to have closed is
// sent again on another one.
func (p *pool) roundTrip(ctx context.Context, deadline time.Time, req *fasthttp.Request, resp *fasthttp.Response, idempotent bool) error {
	for {
		c, reused, err := p.get(ctx, deadline, idempotent)
		if err != nil {
			return err
		}
		err = c.roundTrip(ctx, deadline, req, resp)
		if err == nil {
			if resp.ConnectionClose() || c.cancelled {
				c.close()
			} else {
				p.put(c)
			}
			return nil
		}
		c.close()
		if !reused || !idempotent || !closedByPeer(err) || ctx.Err() != nil {
			return err
		}
	}
}

// get takes an idle connection, else dials one. A connection idle for a
// while is checked first, and always for a request that cannot be sent
// twice.
func (p *pool) get(ctx context.Context, deadline time.Time, idempotent bool) (*conn, bool, error) {
	for {
		select {
		case c := <-p.idle:
			idle := time.Since(c.lastUsed)
			if idle > idleTimeout || (idle > idleCheck || !idempotent) && !c.alive() {
				c.close()
				continue
			}
			return c, true, nil
		default:
		}
		c, err := p.connect(ctx, deadline)
		return c, false, err
	}
}

// put keeps a connection for the next call, or closes it when enough are
// kept.
func (p *pool) put(c *conn) {
	c.lastUsed = time.Now()
	select {
	case p.idle <- c:
	default:
		c.close()
	}
}

// connect dials a new connection, with its TLS handshake for https.
func (p *pool) connect(ctx context.Context, deadline time.Time) (*conn, error) {
	if limit := time.Now().Add(dialTimeout); limit.Before(deadline) {
		deadline = limit
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nc, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
		nc = tc
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, readBuffer), bw: bufio.NewWriterSize(nc, writeBuffer)}, nil
}

// roundTrip writes req and reads the answer by deadline, or until ctx ends.
func (c *conn) roundTrip(ctx context.Context, deadline time.Time, req *fasthttp.Request, resp *fasthttp.Response) error {
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if ctx.Done() != nil {
		// Ending the call moves the deadline to the past: the blocked
		// write or read returns at once and the connection is dropped.
		stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
		defer func() { c.cancelled = !stop() }()
	}
	if err := req.Write(c.bw); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	resp.Header.SetNoDefaultContentType(true)
	return resp.ReadLimitBody(c.br, maxAnswer)
}

// alive tells whether an idle connection is still open: nothing, not even
// its end, is waiting to be read.
func (c *conn) alive() bool {
	return c.br.Buffered() == 0 && !closedOrBusy(c.nc)
}

func (c *conn) close() { _ = c.nc.Close() }

// closedByPeer tells whether a failure is the back end having closed the
// connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
