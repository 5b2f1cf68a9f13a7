package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// dialer connects deliveries only to addresses the policy allows. It
// resolves the host itself, checks every address it got, then dials an
// address literal, so the address checked is the address connected: a
// name that resolved to a public address at registration and now
// resolves to 10.0.0.1 (DNS rebinding) is refused here. TLS still
// verifies the URL's host name, which the transport takes from the URL.
type dialer struct {
	policy *Policy
	net    net.Dialer
}

// dialContext is the transport's DialContext.
func (d *dialer) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(address)
	port, ok := parsePort(ps)
	if err != nil || !ok {
		return nil, fmt.Errorf("egress: dial address %q is not host:port", address)
	}
	addrs, err := d.resolve(ctx, host, port)
	if err != nil {
		return nil, err
	}
	var first error
	for _, a := range addrs {
		c, err := d.net.DialContext(ctx, network, netip.AddrPortFrom(a, port).String())
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// resolve returns the addresses of host, every one allowed, or an error
// matching ErrForbiddenAddress naming the first that is not.
func (d *dialer) resolve(ctx context.Context, host string, port uint16) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.WithZone("").Unmap()
		if name := d.policy.refusedAddr(a); name != "" && !d.policy.hostAllowed(a.String(), port) {
			return nil, fmt.Errorf("%w: %s is a %s address", ErrForbiddenAddress, a, name)
		}
		return []netip.Addr{a}, nil
	}
	host = canonicalHost(host)
	addrs, err := d.policy.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("egress: resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("egress: %s resolves to no address", host)
	}
	if d.policy.hostAllowed(host, port) {
		return addrs, nil
	}
	if a, name := d.policy.firstRefused(addrs); name != "" {
		return nil, fmt.Errorf("%w: %s now resolves to %s, a %s address", ErrForbiddenAddress, host, a.WithZone(""), name)
	}
	return addrs, nil
}
