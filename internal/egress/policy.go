// Package egress makes the engine's outbound calls to addresses that
// callers (TPPs, admins) registered: webhooks, UK event notifications,
// Berlin Group TPP-Notification-URI. It refuses what could reach the
// bank's internal network (SSRF): a URL is checked when it is registered
// (Policy.CheckURL) and every address is checked again when a delivery
// connects to it (Client.Post), so a name that later resolves elsewhere
// (DNS rebinding) reaches nothing it should not.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which callback URLs may be reached. Build it with
// ParsePolicy; the zero Policy allows only https URLs whose host resolves
// to public unicast addresses, through net.DefaultResolver.
type Policy struct {
	// Allow lists, as given to ParsePolicy (setting it afterwards changes
	// nothing), the host names (exact,
	// case-insensitive, optionally "host:port"; or "*.example.com" for any
	// name under example.com) and addresses or CIDR prefixes
	// ("127.0.0.1", "10.1.0.0/16") that may be reached over plain http and
	// at private, loopback or otherwise reserved addresses: for tests and
	// the bank's own systems (flag --callback-allow). An allowed host name
	// may resolve to any address; an allowed prefix allows its addresses
	// whatever name led there. Empty: only https URLs resolving to public
	// unicast addresses.
	Allow []string
	// Resolver looks up host names (nil: net.DefaultResolver); tests
	// replace it to simulate DNS rebinding.
	Resolver Resolver

	hosts    map[hostPort]struct{}
	suffixes []hostPort
	prefixes []netip.Prefix
}

// hostPort is an allowed host name (lower case, no trailing dot) or, for a
// suffix pattern, the suffix with its leading dot; port 0 is any port.
type hostPort struct {
	host string
	port uint16
}

// ParsePolicy compiles the allow-list. Every malformed entry is refused,
// each named in the error.
func ParsePolicy(allow []string) (*Policy, error) {
	p := &Policy{Allow: allow, hosts: map[hostPort]struct{}{}}
	var errs []error
	for _, entry := range allow {
		if err := p.add(strings.TrimSpace(entry)); err != nil {
			errs = append(errs, fmt.Errorf("callback allow-list entry %q: %w", entry, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// add compiles one allow-list entry.
func (p *Policy) add(entry string) error {
	if strings.Contains(entry, "/") {
		pre, err := netip.ParsePrefix(entry)
		switch {
		case err != nil:
			return errors.New("not a CIDR prefix")
		case pre.Addr().Is4In6():
			return errors.New("write an IPv4-mapped prefix as IPv4")
		}
		p.prefixes = append(p.prefixes, pre.Masked())
		return nil
	}
	if a, err := netip.ParseAddr(entry); err == nil {
		a = a.WithZone("").Unmap()
		p.prefixes = append(p.prefixes, netip.PrefixFrom(a, a.BitLen()))
		return nil
	}
	host, port := entry, uint16(0)
	if h, ps, err := net.SplitHostPort(entry); err == nil {
		n, ok := parsePort(ps)
		if !ok {
			return errors.New("port must be 1 to 65535")
		}
		host, port = h, n
		if a, err := netip.ParseAddr(host); err == nil {
			host = a.WithZone("").Unmap().String()
			p.hosts[hostPort{host, port}] = struct{}{}
			return nil
		}
	}
	host = canonicalHost(host)
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		if !validHostName(rest) {
			return errors.New("not a host name pattern (*.example.com)")
		}
		p.suffixes = append(p.suffixes, hostPort{"." + rest, port})
		return nil
	}
	if !validHostName(host) {
		return errors.New("not a host name, address or CIDR prefix")
	}
	p.hosts[hostPort{host, port}] = struct{}{}
	return nil
}

// hostAllowed reports whether the allow-list names host (canonical) on
// port.
func (p *Policy) hostAllowed(host string, port uint16) bool {
	if p == nil || (len(p.hosts) == 0 && len(p.suffixes) == 0) {
		return false
	}
	if _, ok := p.hosts[hostPort{host, 0}]; ok {
		return true
	}
	if _, ok := p.hosts[hostPort{host, port}]; ok {
		return true
	}
	for _, s := range p.suffixes {
		if (s.port == 0 || s.port == port) && len(host) > len(s.host) && strings.HasSuffix(host, s.host) {
			return true
		}
	}
	return false
}

// addrAllowed reports whether an allowed prefix holds a.
func (p *Policy) addrAllowed(a netip.Addr) bool {
	if p == nil {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, pre := range p.prefixes {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// refusedAddr names why a may not be reached for a host the allow-list
// does not name, "" when it may.
func (p *Policy) refusedAddr(a netip.Addr) string {
	if p.addrAllowed(a) {
		return ""
	}
	return forbiddenRange(a)
}

// firstRefused returns the first of addrs refusedAddr refuses and why,
// or "" when it refuses none.
func (p *Policy) firstRefused(addrs []netip.Addr) (netip.Addr, string) {
	for _, a := range addrs {
		if name := p.refusedAddr(a); name != "" {
			return a, name
		}
	}
	return netip.Addr{}, ""
}

// resolver is the policy's resolver or the default one.
func (p *Policy) resolver() Resolver {
	if p == nil || p.Resolver == nil {
		return net.DefaultResolver
	}
	return p.Resolver
}

// parsePort parses a decimal port from 1 to 65535.
func parsePort(s string) (uint16, bool) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint16(n), true
}

// canonicalHost is a host name as compared: lower case, without the
// trailing dot of a fully qualified name.
func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// validHostName reports whether h (canonical) is a DNS host name: labels
// of letters, digits, hyphens and underscores, none empty or over 63
// bytes, at most 253 bytes in all, and a last label that starts with a
// letter, as top-level domains do: resolvers read names such as "127.1",
// "0x7f.1" or "2130706433" as IPv4 addresses.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	if label == 0 {
		return false
	}
	last := h[strings.LastIndexByte(h, '.')+1]
	return 'a' <= last && last <= 'z'
}
