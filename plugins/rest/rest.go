package rest

import (
	"cmp"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// Name is the connector's name in method routings.
const Name = "rest"

// Defaults of zero Options fields, and bounds of routing parameters.
const (
	DefaultContextHeader   = "Account-Request-Information"
	DefaultTimeout         = 10 * time.Second
	DefaultRetries         = 2
	DefaultBackoff         = 100 * time.Millisecond
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second

	MaxTimeout         = 5 * time.Minute
	MaxBackoff         = time.Minute // the ceiling of any retry delay
	MaxRetries         = 10
	MaxBreakerFailures = 1000
	MaxBreakerCooldown = time.Hour
)

// Signer signs the context header's claims (implemented by
// *oauth2.Issuer.SignContext).
type Signer interface {
	SignContext(claims map[string]any, ttl time.Duration) (string, error)
}

// Options configures New.
type Options struct {
	// TLS configures connections to https back ends (its ServerName is set
	// per back end); nil means the system's roots and at least TLS 1.2.
	TLS *tls.Config
	// Signer signs the context header; nil sends none.
	Signer Signer
	// ContextHeader names the signed context header; default
	// DefaultContextHeader, as WSO2 Open Banking sends to core banking.
	ContextHeader string
	// DefaultTimeout bounds each attempt; default DefaultTimeout.
	DefaultTimeout time.Duration
	// Retries is the number of extra attempts of calls that only read;
	// zero means DefaultRetries, negative none.
	Retries int
	// Backoff is the ceiling of the delay before the first retry, doubled
	// for each next one up to MaxBackoff; each delay is drawn at random
	// between zero and its ceiling (full jitter). Default DefaultBackoff.
	Backoff time.Duration
	// BreakerFailures is the number of failed attempts in a row that open
	// a back end's circuit; default DefaultBreakerFailures.
	BreakerFailures int
	// BreakerCooldown is how long a circuit stays open before one trial
	// call is let through; default DefaultBreakerCooldown.
	BreakerCooldown time.Duration
	// Logger receives a warning for every failed attempt; nil discards.
	Logger *slog.Logger
	// Now is the circuit breakers' clock (time.Now when nil); tests pass a
	// fake one to pass a cooldown without waiting.
	Now func() time.Time
}

// Connector calls back ends over HTTP/1.1. It keeps one circuit breaker and
// one pool of kept-alive connections per back end, shared by every routing
// to it, and is safe for concurrent use. Back ends are reached directly:
// proxy settings of the environment do not apply.
type Connector struct {
	pools         pools
	dial          dialFunc    // opens connections to back ends
	tls           *tls.Config // of https back ends, before ServerName
	signer        Signer
	contextHeader string
	timeout       time.Duration
	retries       int
	backoff       time.Duration
	failures      int
	cooldown      time.Duration
	log           *slog.Logger
	breakers      breakers
	tokens        contextTokens
	now           func() time.Time // the breakers' clock
	// randN draws the retry delays: a number in [0, n).
	randN func(n int64) int64
}

var _ connector.Connector = (*Connector)(nil)

// New returns a rest connector.
func New(o Options) *Connector {
	c := &Connector{dial: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext, tls: o.TLS, signer: o.Signer, contextHeader: http.CanonicalHeaderKey(cmp.Or(o.ContextHeader, DefaultContextHeader)),
		timeout: o.DefaultTimeout, retries: o.Retries, backoff: o.Backoff, failures: o.BreakerFailures,
		cooldown: o.BreakerCooldown, log: o.Logger, now: o.Now, randN: rand.Int64N,
		tokens: contextTokens{max: maxContextTokens}}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.backoff <= 0 {
		c.backoff = DefaultBackoff
	}
	if c.failures <= 0 {
		c.failures = DefaultBreakerFailures
	}
	if c.cooldown <= 0 {
		c.cooldown = DefaultBreakerCooldown
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// methods are the HTTP methods a routing may name.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// reservedHeaders may not be set with header.<Name>: the connector or the
// transport sets them.
var reservedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "X-Correlation-Id"}

// Prepare checks the routing parameters for method m (see the package doc)
// and returns the invoker of its calls. Anything wrong is a 400 naming
// every faulty parameter.
func (c *Connector) Prepare(m *connector.Method, params connector.Params) (connector.Invoker, error) {
	inv := &invoker{c: c, m: m, timeout: c.timeout, retries: c.retries, failures: c.failures,
		cooldown: c.cooldown, contextHeader: c.contextHeader}
	headers := http.Header{} // header.<Name> parameters, canonical names
	if !m.Dynamic {
		inv.method = http.MethodPost
	}
	var faults []engine.Violation
	fault := func(key, code, format string, args ...any) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/parameters", Code: code,
			Message: "parameter " + key + ": " + fmt.Sprintf(format, args...)})
	}
	for _, key := range slices.Sorted(maps.Keys(params)) {
		value := params[key]
		switch {
		case key == "url":
			u, err := parseURL(value, m)
			if err != nil {
				fault(key, "invalid", "%v", err)
				continue
			}
			inv.url = u
		case key == "method":
			method := strings.ToUpper(strings.TrimSpace(value))
			if !slices.Contains(methods, method) {
				fault(key, "invalid", "%q is not one of %s", value, strings.Join(methods, ", "))
				continue
			}
			inv.method = method
		case key == "timeout":
			d, err := parseDuration(value, MaxTimeout)
			if err != nil {
				fault(key, "invalid", "%v", err)
				continue
			}
			inv.timeout = d
		case key == "retries":
			n, err := parseCount(value, 0, MaxRetries)
			if err != nil {
				fault(key, "invalid", "%v", err)
				continue
			}
			inv.retries = n
		case key == "breaker_failures":
			n, err := parseCount(value, 1, MaxBreakerFailures)
			if err != nil {
				fault(key, "invalid", "%v", err)
				continue
			}
			inv.failures = n
		case key == "breaker_cooldown":
			d, err := parseDuration(value, MaxBreakerCooldown)
			if err != nil {
				fault(key, "invalid", "%v", err)
				continue
			}
			inv.cooldown = d
		case key == "context_header":
			if !validHeaderName(value) {
				fault(key, "invalid", "%q is not a header name", value)
				continue
			}
			inv.contextHeader = http.CanonicalHeaderKey(value)
		case strings.HasPrefix(key, "header."):
			name := http.CanonicalHeaderKey(strings.TrimPrefix(key, "header."))
			switch {
			case !validHeaderName(name):
				fault(key, "invalid", "%q is not a header name", name)
			case slices.Contains(reservedHeaders, name):
				fault(key, "reserved", "the connector sets %s itself", name)
			case strings.ContainsAny(value, "\r\n\x00"):
				fault(key, "invalid", "a header value may not hold line breaks or NUL")
			default:
				headers.Set(name, value)
			}
		case key == "outBoundMapping" || key == "inBoundMapping":
			t, err := parseTemplate(value)
			if err != nil {
				fault(key, "invalid", "%v", err)
				continue
			}
			if key == "outBoundMapping" {
				inv.outMap = t
			} else {
				inv.inMap = t
			}
		default:
			fault(key, "unknown", "not a parameter of the rest connector (url, method, timeout, retries, "+
				"breaker_failures, breaker_cooldown, context_header, header.<Name>, outBoundMapping, inBoundMapping)")
		}
	}
	if _, ok := params["url"]; !ok {
		fault("url", "required", "the back end's URL is required")
	}
	if c.signer != nil && headers.Get(inv.contextHeader) != "" {
		fault("header."+inv.contextHeader, "reserved", "%s is the signed context header", inv.contextHeader)
	}
	if inv.outMap != nil && !m.Dynamic && !sendsBody(inv.method) {
		fault("outBoundMapping", "invalid", "method %s sends no body to map", inv.method)
	}
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest,
			fmt.Sprintf("the rest connector cannot call method %s with these parameters", m.Name), faults...)
	}
	inv.breaker = c.breakers.of(inv.url.key)
	inv.pool = c.pools.of(inv.url, c.dial, c.tls)
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		inv.static = append(inv.static, [2]string{name, headers.Get(name)})
	}
	if inv.url.authorization != "" && headers.Get("Authorization") == "" {
		inv.static = append(inv.static, [2]string{"Authorization", inv.url.authorization})
	}
	return inv, nil
}

// parseDuration reads a Go duration or a number of milliseconds, positive
// and at most limit.
func parseDuration(s string, limit time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(limit/time.Millisecond) {
			n = int64(limit/time.Millisecond) + 1
		}
		d = time.Duration(n) * time.Millisecond
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is neither a duration such as 750ms nor a number of milliseconds", s)
	}
	if d <= 0 || d > limit {
		return 0, fmt.Errorf("%q is not between 1ms and %s", s, limit)
	}
	return d, nil
}

// parseCount reads an integer between lo and hi.
func parseCount(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not an integer between %d and %d", s, lo, hi)
	}
	return n, nil
}

// validHeaderName tells whether s is an HTTP token (RFC 9110 section 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// sendsBody tells whether calls with an HTTP method carry a body.
func sendsBody(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// urlTemplate is a routing's url, split at its placeholders.
type urlTemplate struct {
	parts    []urlPart
	holes    bool   // some part is a placeholder
	hasQuery bool   // the url has a query
	base     string // the url before its query, without a trailing '/'
	query    string // the url's query, without '?'
	backend  string // scheme://host, for messages
	key      string // scheme://host:port, the breaker's and the pool's key

	secure        bool   // https
	addr          string // host:port, to dial
	hostname      string // to verify the TLS certificate
	host          string // the Host header
	pathStart     int    // where a built URL's path (or query) starts
	authorization string // Basic credentials from the URL's user info, or ""
}

// urlPart is a literal or a placeholder.
type urlPart struct {
	lit   string
	hole  bool
	name  string // the placeholder's name, normalised (see norm)
	arg   int    // built-in methods: the argument it names
	query bool   // in the query: escaped as a query component
}

// parseURL splits a routing's url; placeholders of a built-in method must
// name its arguments.
func parseURL(raw string, m *connector.Method) (*urlTemplate, error) {
	t := &urlTemplate{}
	var probe strings.Builder
	var starts []int
	rest, offset := raw, 0
	for {
		open := strings.IndexByte(rest, '{')
		if closing := strings.IndexByte(rest, '}'); closing >= 0 && (open < 0 || closing < open) {
			return nil, fmt.Errorf("%q has a '}' without '{'", raw)
		}
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%q has a '{' without '}'", raw)
		}
		name := rest[open+1 : open+end]
		if !validPlaceholder(name) {
			return nil, fmt.Errorf("placeholder {%s}: names are letters, digits, '_' and '-'", name)
		}
		if open > 0 {
			t.parts = append(t.parts, urlPart{lit: rest[:open]})
		}
		t.parts = append(t.parts, urlPart{hole: true, name: norm(name), lit: name})
		starts = append(starts, offset+open)
		probe.WriteString(rest[:open])
		probe.WriteString("x")
		rest, offset = rest[open+end+1:], offset+open+end+1
	}
	if rest != "" {
		t.parts = append(t.parts, urlPart{lit: rest})
	}
	probe.WriteString(rest)
	u, err := url.Parse(probe.String())
	switch {
	case err != nil:
		return nil, fmt.Errorf("not a URL: %v", unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("the URL must be absolute, with scheme http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return nil, fmt.Errorf("the URL has no host")
	case strings.Contains(raw, "#"):
		return nil, fmt.Errorf("the URL may not have a fragment")
	}
	authority := strings.Index(raw, "://") + 3
	pathStart := len(raw)
	if i := strings.IndexAny(raw[authority:], "/?"); i >= 0 {
		pathStart = authority + i
	}
	queryStart := strings.IndexByte(raw, '?')
	t.hasQuery = queryStart >= 0
	if !t.hasQuery {
		queryStart = len(raw)
	}
	hole := 0
	for i := range t.parts {
		p := &t.parts[i]
		if !p.hole {
			continue
		}
		at := starts[hole]
		hole++
		if at < pathStart {
			return nil, fmt.Errorf("placeholder {%s} is in the scheme or host; placeholders go in the path or query", p.lit)
		}
		p.query = at > queryStart
		t.holes = true
		if m.Dynamic {
			continue
		}
		p.arg = slices.IndexFunc(m.Args, func(a connector.Arg) bool { return norm(a.Name) == p.name })
		if p.arg < 0 {
			names := make([]string, len(m.Args))
			for i, a := range m.Args {
				names[i] = a.Name
			}
			return nil, fmt.Errorf("placeholder {%s} names no argument of method %s (its arguments: %s)",
				p.lit, m.Name, cmp.Or(strings.Join(names, ", "), "none"))
		}
	}
	t.base, t.query, _ = strings.Cut(raw, "?")
	t.base = strings.TrimRight(t.base, "/")
	host := strings.ToLower(u.Host)
	t.backend = u.Scheme + "://" + host
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	t.hostname = strings.ToLower(u.Hostname())
	t.addr = net.JoinHostPort(t.hostname, port)
	t.key = u.Scheme + "://" + t.addr
	t.secure = u.Scheme == "https"
	t.host = u.Host
	t.pathStart = pathStart
	if u.User != nil {
		password, _ := u.User.Password()
		t.authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password))
	}
	return t, nil
}

// validPlaceholder tells whether name may name a placeholder.
func validPlaceholder(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// norm is a name as placeholders compare it: without '_' and '-', lower
// case, so that bank_id, bankId and bank-id are one name.
func norm(name string) string {
	return strings.ToLower(separators.Replace(name))
}

var separators = strings.NewReplacer("_", "", "-", "")

// unwrapURLError drops the URL that *url.Error repeats, which may hold
// credentials.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
