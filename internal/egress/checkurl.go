package egress

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// CodeURLRefused is the engine.Error code of a callback URL the policy
// refuses.
const CodeURLRefused = "callback_url_refused"

// MaxURLBytes bounds a callback URL.
const MaxURLBytes = 2048

// resolveTimeout bounds the name lookup of a registration, whatever the
// caller's context allows.
const resolveTimeout = 5 * time.Second

var (
	// ErrForbiddenAddress is matched (errors.Is) by every refusal of an
	// address the policy does not allow: an IP literal at registration or
	// delivery, a name resolving to one at registration, or at connection
	// time when the name now resolves elsewhere (DNS rebinding).
	ErrForbiddenAddress = errors.New("egress: address forbidden by the callback policy")
	// ErrRefusedURL is matched (errors.Is) by every other refusal of a
	// callback URL: its scheme, host syntax, user info, fragment or length.
	ErrRefusedURL = errors.New("egress: URL refused by the callback policy")
)

// Violation codes of a refused callback URL, stable for clients.
const (
	violationTooLong      = "too_long"
	violationInvalidURL   = "invalid_url"
	violationScheme       = "scheme"
	violationUserInfo     = "userinfo"
	violationFragment     = "fragment"
	violationInvalidHost  = "invalid_host"
	violationForbidden    = "forbidden_address"
	violationUnresolvable = "unresolvable"
)

// refusal is why a callback URL is refused: a violation code, a message
// safe to show whoever registered it, and ErrForbiddenAddress or
// ErrRefusedURL.
type refusal struct {
	code, message string
	kind          error
}

// Error implements error.
func (r *refusal) Error() string { return r.kind.Error() + ": " + r.message }

// Unwrap returns ErrForbiddenAddress or ErrRefusedURL.
func (r *refusal) Unwrap() error { return r.kind }

// tooLong refuses a URL over MaxURLBytes.
var tooLong = refuse(violationTooLong, "callback URL is longer than %d bytes", MaxURLBytes)

// refuse returns a refusal that is not about an address.
func refuse(code, format string, args ...any) *refusal {
	return &refusal{code: code, message: fmt.Sprintf(format, args...), kind: ErrRefusedURL}
}

// forbidden returns the refusal of an address in the named range.
func forbidden(format, rangeName string) *refusal {
	return &refusal{code: violationForbidden, message: fmt.Sprintf(format, rangeName), kind: ErrForbiddenAddress}
}

// target is the host a checked URL leads to.
type target struct {
	host    string     // canonical host name, or the address as a string
	port    uint16     // explicit or the scheme's
	addr    netip.Addr // valid when the host is an IP literal
	allowed bool       // the allow-list names the host or its address
}

// CheckURL is the registration-time check of a callback URL: an absolute
// https URL (http only for an allow-listed host), no user info, no
// fragment, at most MaxURLBytes, a host that is an ASCII host name or an
// IP literal not in a private or reserved range unless allowed, and a
// host name that resolves (within ctx, at most 5s) only to public
// addresses unless allowed (an allow-listed host name is not looked up).
// A refusal is an *engine.Error 400, code CodeURLRefused, with one
// Violation in the body at pointer whose code says why: too_long,
// invalid_url, scheme, userinfo, fragment, invalid_host,
// forbidden_address or unresolvable; it also matches ErrForbiddenAddress
// (forbidden_address) or ErrRefusedURL (the rest). When ctx ends before
// the name resolves, its error is returned.
func (p *Policy) CheckURL(ctx context.Context, raw, pointer string) error {
	r := p.checkURL(ctx, raw)
	switch {
	case r == nil:
		return nil
	case r.code == violationUnresolvable && ctx.Err() != nil:
		return ctx.Err()
	}
	return engine.NewError(http.StatusBadRequest, CodeURLRefused, "callback URL refused",
		engine.Violation{Location: "body", Pointer: pointer, Code: r.code, Message: r.message}).WithCause(r)
}

// checkURL is CheckURL's decision.
func (p *Policy) checkURL(ctx context.Context, raw string) *refusal {
	if len(raw) > MaxURLBytes {
		return tooLong
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refuse(violationInvalidURL, "callback URL does not parse as a URL")
	}
	t, r := p.target(raw, u)
	if r != nil || t.allowed || t.addr.IsValid() {
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := p.resolver().LookupNetIP(ctx, "ip", t.host)
	if err != nil || len(addrs) == 0 {
		return refuse(violationUnresolvable, "callback host name does not resolve")
	}
	if _, name := p.firstRefused(addrs); name != "" {
		return forbidden("callback host name resolves to a %s address", name)
	}
	return nil
}

// target checks everything about u that needs no name lookup (raw is
// its text) and returns the host it leads to. Post runs it on every
// attempt, so a policy changed since registration applies at once.
func (p *Policy) target(raw string, u *url.URL) (target, *refusal) {
	switch {
	case len(raw) > MaxURLBytes:
		return target{}, tooLong
	case !u.IsAbs() || u.Opaque != "" || u.Host == "":
		return target{}, refuse(violationInvalidURL, "callback URL must be absolute, with a host")
	case u.Scheme != "https" && u.Scheme != "http":
		return target{}, refuse(violationScheme, "callback URL must be https")
	case u.User != nil:
		return target{}, refuse(violationUserInfo, "callback URL must not carry a user name or password")
	case strings.IndexByte(raw, '#') >= 0:
		return target{}, refuse(violationFragment, "callback URL must not carry a fragment")
	}
	t := target{port: 443}
	if u.Scheme == "http" {
		t.port = 80
	}
	if ps := u.Port(); ps != "" {
		n, ok := parsePort(ps)
		if !ok {
			return target{}, refuse(violationInvalidHost, "callback URL port must be 1 to 65535")
		}
		t.port = n
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		if a.Zone() != "" {
			return target{}, refuse(violationInvalidHost, "callback URL host must not carry an IPv6 zone")
		}
		t.addr = a.Unmap()
		t.host = t.addr.String()
		t.allowed = p.addrAllowed(t.addr) || p.hostAllowed(t.host, t.port)
		if name := forbiddenRange(t.addr); name != "" && !t.allowed {
			return target{}, forbidden("callback URL host is a %s address", name)
		}
	} else {
		t.host = canonicalHost(u.Hostname())
		if !validHostName(t.host) {
			return target{}, refuse(violationInvalidHost, "callback URL host must be an IP address or an ASCII host name (punycode for international names), not numeric")
		}
		t.allowed = p.hostAllowed(t.host, t.port)
	}
	if u.Scheme == "http" && !t.allowed {
		return target{}, refuse(violationScheme, "callback URL must be https; http is only for allow-listed hosts")
	}
	return t, nil
}
