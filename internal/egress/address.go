package egress

import "net/netip"

// rangeName names an address range that must not be reached unless the
// policy allows it.
type rangeName struct {
	prefix netip.Prefix
	name   string
}

// reservedV4 are the IPv4 ranges netip's predicates do not cover that are
// not public unicast (RFC 6890 and its updates).
var reservedV4 = []rangeName{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
}

// reservedV6 are the IPv6 ranges inside global unicast (2000::/3) that are
// not public unicast; anything outside 2000::/3 is refused whole.
var reservedV6 = []rangeName{
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignment"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
}

var (
	// globalV6 is IPv6 global unicast, the only IPv6 space assigned for
	// public use.
	globalV6 = netip.MustParsePrefix("2000::/3")
	// nat64 is the well-known NAT64 prefix (RFC 6052): its last four bytes
	// are the IPv4 address the translator connects to.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// forbiddenRange names the range a belongs to when it is not a public
// unicast address, and is "" when a is public. IPv4-mapped and NAT64
// addresses are judged by the IPv4 address they carry; a zone is ignored.
func forbiddenRange(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return forbiddenRange(netip.AddrFrom4([4]byte(b[12:])))
	}
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	}
	list := reservedV4
	if a.Is6() {
		if !globalV6.Contains(a) {
			return "reserved"
		}
		list = reservedV6
	}
	for _, r := range list {
		if r.prefix.Contains(a) {
			return r.name
		}
	}
	return ""
}
