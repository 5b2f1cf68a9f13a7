package netguard

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// Forwarding says whose forwarding header to believe: only trusted
// proxies', since any client can send one.
type Forwarding struct {
	// Header names the forwarding header, a comma-separated list of
	// addresses each proxy appends its peer to (X-Forwarded-For style;
	// default DefaultClientIPHeader). Addresses may carry a port.
	Header string
	// Trusted are the proxies whose header is believed; none by default.
	Trusted []netip.Prefix
}

// Header reads every line of a request header field; *fasthttp.RequestHeader
// has it.
type Header interface {
	PeekAll(name string) [][]byte
}

// Client is the client behind peer. When peer is a trusted proxy it walks
// the forwarding header from its last address back, skipping trusted
// proxies, and returns the first address it may not trust: addresses to
// its left were written by whoever that is, so they prove nothing. When
// every address is a trusted proxy, the first one is the client. An
// address that does not parse ends the walk at the peer, as does a header
// that is absent.
func (f *Forwarding) Client(peer netip.Addr, h Header) netip.Addr {
	if !f.trusts(peer) {
		return peer
	}
	lines := h.PeekAll(f.Header)
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for len(rest) > 0 {
			var hop []byte
			if j := bytes.LastIndexByte(rest, ','); j >= 0 {
				hop, rest = rest[j+1:], rest[:j]
			} else {
				hop, rest = rest, nil
			}
			hop = bytes.TrimSpace(hop)
			if len(hop) == 0 {
				continue
			}
			a, ok := parseHop(hop)
			if !ok {
				return peer
			}
			if !f.trusts(a) {
				return a
			}
			client = a
		}
	}
	return client
}

// trusts reports whether a is a trusted proxy.
func (f *Forwarding) trusts(a netip.Addr) bool {
	for _, p := range f.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop parses one forwarded address: an IP, or an IP with a port
// ("192.0.2.1:443", "[2001:db8::1]:443").
func parseHop(b []byte) (netip.Addr, bool) {
	s := string(b)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	return netip.Addr{}, false
}

// ParsePrefixes parses trusted proxies: addresses ("192.0.2.10", "::1") or
// networks ("10.0.0.0/8", "2001:db8::/32").
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
