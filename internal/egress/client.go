package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine/tracing"
)

// Defaults for Options' zero values, and bounds that hold whatever the
// options say.
const (
	// DefaultTimeout bounds an attempt.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxResponseBytes is how much of a response body is read.
	DefaultMaxResponseBytes = 4 << 10
	// DefaultMaxIdlePerHost is how many idle connections to one receiver
	// are kept.
	DefaultMaxIdlePerHost = 4
	// MaxRetryAfter caps a receiver's Retry-After.
	MaxRetryAfter = 24 * time.Hour
	// maxIdleConns bounds idle connections over all receivers.
	maxIdleConns = 256
	// idleConnTimeout closes a connection idle that long.
	idleConnTimeout = 90 * time.Second
	// maxResponseHeaderBytes bounds a receiver's response header.
	maxResponseHeaderBytes = 64 << 10
)

// Options tune a Client; zero values take the defaults.
type Options struct {
	// Timeout bounds a whole attempt: resolving, connecting, TLS, sending
	// and reading the answer (default DefaultTimeout).
	Timeout time.Duration
	// MaxResponseBytes is how much of a response body is read (default
	// DefaultMaxResponseBytes); the rest is never read: the connection is
	// closed instead.
	MaxResponseBytes int64
	// MaxIdlePerHost is how many idle connections to one receiver are kept
	// for reuse (default DefaultMaxIdlePerHost).
	MaxIdlePerHost int
	// TLS configures https (nil: the system's roots, TLS 1.2 or later);
	// for a bank's private CA or client certificates.
	TLS *tls.Config
	// Now reads the clock an HTTP-date Retry-After is measured from (nil:
	// time.Now).
	Now func() time.Time
	// Tracer traces deliveries that are not part of a traced call: each
	// gets a trace of its own (nil: they are not traced).
	Tracer trace.Tracer
}

// Client posts deliveries to callback URLs within a Policy. It is safe for
// concurrent use and reuses connections.
type Client struct {
	policy  *Policy
	http    *http.Client
	timeout time.Duration
	maxBody int64
	now     func() time.Time
	tracer  trace.Tracer
}

// Result is what a receiver answered.
type Result struct {
	// Status is the HTTP status; a 3xx is not followed.
	Status int
	// RetryAfter is the receiver's Retry-After, in seconds or as an HTTP
	// date, capped at MaxRetryAfter; 0 when absent, invalid or past.
	RetryAfter time.Duration
	// Body is the start of the response body, at most MaxResponseBytes.
	Body []byte
	// Duration is how long the attempt took, answer read.
	Duration time.Duration
}

// NewClient returns a Client that reaches only what p allows (nil p: only
// https URLs of public addresses).
func NewClient(p *Policy, o Options) *Client {
	if p == nil {
		p = &Policy{}
	}
	o.Timeout = positiveOr(o.Timeout, DefaultTimeout)
	o.MaxResponseBytes = positiveOr(o.MaxResponseBytes, DefaultMaxResponseBytes)
	o.MaxIdlePerHost = positiveOr(o.MaxIdlePerHost, DefaultMaxIdlePerHost)
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &dialer{policy: p, net: net.Dialer{KeepAlive: 30 * time.Second}}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.dialContext,
		TLSClientConfig:        tlsConfig(o.TLS),
		TLSHandshakeTimeout:    o.Timeout,
		ForceAttemptHTTP2:      true,
		DisableCompression:     true,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    o.MaxIdlePerHost,
		IdleConnTimeout:        idleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &Client{
		policy: p,
		http: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		timeout: o.Timeout,
		maxBody: o.MaxResponseBytes,
		now:     o.Now,
		tracer:  o.Tracer,
	}
}

// positiveOr is v, or def when v is not positive.
func positiveOr[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// tlsConfig is c, or a fresh one, requiring TLS 1.2 at least.
func tlsConfig(c *tls.Config) *tls.Config {
	if c == nil {
		c = &tls.Config{}
	} else {
		c = c.Clone()
	}
	c.MinVersion = max(c.MinVersion, tls.VersionTLS12)
	return c
}

// Post sends body to rawURL with header (sent as it is; the caller sets
// Content-Type), never following redirects (a 3xx is a result like any
// other status), and reports what the receiver answered. The URL is
// checked again as CheckURL would, without resolving: a refusal matches
// ErrRefusedURL or ErrForbiddenAddress. Every address the host resolves
// to is checked when connecting, so a name that now resolves to a
// forbidden address (DNS rebinding) is refused with an error matching
// ErrForbiddenAddress and nothing is sent. Any answer is a Result; an
// error means no status arrived: the policy refused, the connection
// failed, or Options.Timeout passed (the error then matches
// context.DeadlineExceeded). A body that fails midway is cut where it
// stopped; the status stands. Errors name the host, never the whole URL,
// which may carry a token.
func (c *Client) Post(ctx context.Context, rawURL string, header http.Header, body []byte) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, refuse(violationInvalidURL, "callback URL does not parse as a URL")
	}
	if _, r := c.policy.target(rawURL, req.URL); r != nil {
		return nil, r
	}
	if header != nil {
		req.Header = header
	}
	req, span := c.trace(req)
	res, err := c.send(req)
	status := 0
	if res != nil {
		status = res.Status
	}
	tracing.EndClient(span, status, err)
	return res, err
}

// send sends req and reads the answer, as Post says.
func (c *Client) send(req *http.Request) (*Result, error) {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("egress: POST to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, c.maxBody))
	return &Result{
		Status:     resp.StatusCode,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()),
		Body:       b,
		Duration:   time.Since(start),
	}, nil
}

// CloseIdleConnections closes the connections kept for reuse, when the
// engine stops or a receiver is deleted; connections in use are left to
// finish.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// retryAfter reads a Retry-After value, delay-seconds or an HTTP date
// (RFC 9110 section 10.2.3) measured from now, capped at MaxRetryAfter;
// 0 when empty, invalid or past.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n >= uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter)
}
