package egress

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// mustNotReach is the fuzz oracle, written apart from forbiddenRange: the
// ranges a URL with an IP literal host must never be accepted for.
var mustNotReach = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/3"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// reachable reports whether the oracle lets a be reached, judging
// IPv4-mapped and NAT64 addresses by the IPv4 address they carry.
func reachable(a netip.Addr) bool {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if b := a.As16(); a.Is6() && netip.MustParsePrefix("64:ff9b::/96").Contains(a) {
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range mustNotReach {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://bank.example/cb", "http://127.0.0.1:8080/x", "http://169.254.169.254/latest/meta-data",
		"http://10.0.0.1/", "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::7f00:1]/", "https://[::1]:443/",
		"https://[fe80::1%25eth0]/", "https://user:pw@example.com/", "ftp://x", "/relative", "//host/x",
		"https://127.1/", "https://0x7f000001/", "https://2130706433/", "https://127.0.0.1./", "https://[::]/",
		"https://%31%32%37.0.0.1/", "https://[0:0:0:0:0:ffff:7f00:1]/", "HTTPS://BANK.EXAMPLE/", "https://a.b.c:65535/x?y#z",
	} {
		f.Add(seed)
	}
	p := policy(f, resolverFunc(func(context.Context) ([]netip.Addr, error) { return []netip.Addr{publicV4}, nil }))
	f.Fuzz(func(t *testing.T, raw string) {
		if err := p.CheckURL(context.Background(), raw, "/url"); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		host := u.Hostname()
		if u.Scheme != "https" || u.User != nil || host == "" || strings.Contains(raw, "#") || len(raw) > MaxURLBytes {
			t.Fatalf("accepted %q", raw)
		}
		if a, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil && !reachable(a) {
			t.Fatalf("accepted %q, whose host %s is in a forbidden range", raw, a)
		}
		name := strings.ToLower(strings.TrimSuffix(host, "."))
		label := name[strings.LastIndexByte(name, '.')+1:]
		if _, err := netip.ParseAddr(name); err != nil && (label == "" || label[0] < 'a' || label[0] > 'z') {
			t.Fatalf("accepted %q, whose host %s does not end in a name", raw, host)
		}
	})
}
