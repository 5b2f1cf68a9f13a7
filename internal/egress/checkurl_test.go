package egress

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// names is what the test resolver knows.
func names() map[string][]netip.Addr {
	return map[string][]netip.Addr{
		"bank.example":      {publicV4},
		"v6.bank.example":   {publicV6},
		"internal.example":  {netip.MustParseAddr("10.0.0.5")},
		"metadata.example":  {netip.MustParseAddr("169.254.169.254")},
		"mapped.example":    {netip.MustParseAddr("::ffff:127.0.0.1")},
		"mixed.example":     {publicV4, netip.MustParseAddr("127.0.0.1")},
		"hooks.bank.intern": {netip.MustParseAddr("10.9.9.9")},
	}
}

func TestCheckURLRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		allow     []string
		code      string
		kind      error
	}{
		{"loopback literal", "http://127.0.0.1:8080/x", nil, violationForbidden, ErrForbiddenAddress},
		{"loopback literal over https", "https://127.0.0.1/x", nil, violationForbidden, ErrForbiddenAddress},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data", nil, violationForbidden, ErrForbiddenAddress},
		{"private", "http://10.0.0.1/", nil, violationForbidden, ErrForbiddenAddress},
		{"private 172.16/12", "https://172.20.1.1/", nil, violationForbidden, ErrForbiddenAddress},
		{"private 192.168/16", "https://192.168.1.1/", nil, violationForbidden, ErrForbiddenAddress},
		{"IPv4-mapped private", "https://[::ffff:10.0.0.1]/", nil, violationForbidden, ErrForbiddenAddress},
		{"NAT64 of private", "https://[64:ff9b::a00:1]/", nil, violationForbidden, ErrForbiddenAddress},
		{"IPv6 loopback", "https://[::1]/", nil, violationForbidden, ErrForbiddenAddress},
		{"IPv6 unique local", "https://[fd00::1]/", nil, violationForbidden, ErrForbiddenAddress},
		{"IPv6 link-local", "https://[fe80::1]/", nil, violationForbidden, ErrForbiddenAddress},
		{"IPv6 documentation", "https://[2001:db8::1]/", nil, violationForbidden, ErrForbiddenAddress},
		{"unspecified", "https://0.0.0.0/", nil, violationForbidden, ErrForbiddenAddress},
		{"this network", "https://0.1.2.3/", nil, violationForbidden, ErrForbiddenAddress},
		{"carrier-grade NAT", "https://100.64.0.1/", nil, violationForbidden, ErrForbiddenAddress},
		{"IETF protocol assignment", "https://192.0.0.8/", nil, violationForbidden, ErrForbiddenAddress},
		{"benchmarking", "https://198.18.0.1/", nil, violationForbidden, ErrForbiddenAddress},
		{"multicast", "https://224.0.0.1/", nil, violationForbidden, ErrForbiddenAddress},
		{"broadcast", "https://255.255.255.255/", nil, violationForbidden, ErrForbiddenAddress},
		{"name resolving to private", "https://internal.example/cb", nil, violationForbidden, ErrForbiddenAddress},
		{"name resolving to metadata", "https://metadata.example/cb", nil, violationForbidden, ErrForbiddenAddress},
		{"name resolving to mapped loopback", "https://mapped.example/cb", nil, violationForbidden, ErrForbiddenAddress},
		{"name resolving to public and loopback", "https://mixed.example/cb", nil, violationForbidden, ErrForbiddenAddress},
		{"literal outside the allowed prefix", "http://10.0.0.1/", []string{"10.1.0.0/16"}, violationForbidden, ErrForbiddenAddress},
		{"unknown name", "https://nowhere.example/cb", nil, violationUnresolvable, ErrRefusedURL},
		{"user info", "https://user:pw@bank.example/", nil, violationUserInfo, ErrRefusedURL},
		{"user name only", "https://user@bank.example/", nil, violationUserInfo, ErrRefusedURL},
		{"ftp", "ftp://x", nil, violationScheme, ErrRefusedURL},
		{"javascript", "javascript:alert(1)", nil, violationInvalidURL, ErrRefusedURL},
		{"http to a public host", "http://bank.example/cb", nil, violationScheme, ErrRefusedURL},
		{"http to an allowed prefix's name", "http://internal.example/cb", []string{"10.0.0.0/8"}, violationScheme, ErrRefusedURL},
		{"http on a port the allow-list does not name", "http://localhost:9090/", []string{"localhost:8080"}, violationScheme, ErrRefusedURL},
		{"suffix pattern does not name its apex", "http://bank.intern/", []string{"*.bank.intern"}, violationScheme, ErrRefusedURL},
		{"relative path", "/hooks/cb", nil, violationInvalidURL, ErrRefusedURL},
		{"scheme-relative", "//bank.example/cb", nil, violationInvalidURL, ErrRefusedURL},
		{"no host", "https:///cb", nil, violationInvalidURL, ErrRefusedURL},
		{"opaque", "https:bank.example", nil, violationInvalidURL, ErrRefusedURL},
		{"empty", "", nil, violationInvalidURL, ErrRefusedURL},
		{"does not parse", "https://bank.example:port/", nil, violationInvalidURL, ErrRefusedURL},
		{"fragment", "https://bank.example/cb#part", nil, violationFragment, ErrRefusedURL},
		{"empty fragment", "https://bank.example/cb#", nil, violationFragment, ErrRefusedURL},
		{"port 0", "https://bank.example:0/", nil, violationInvalidHost, ErrRefusedURL},
		{"port over 65535", "https://bank.example:65536/", nil, violationInvalidHost, ErrRefusedURL},
		{"short IPv4 form", "https://127.1/", nil, violationInvalidHost, ErrRefusedURL},
		{"decimal IPv4 form", "https://2130706433/", nil, violationInvalidHost, ErrRefusedURL},
		{"hex IPv4 form", "https://0x7f.1/", nil, violationInvalidHost, ErrRefusedURL},
		{"IPv4 with a trailing dot", "https://127.0.0.1./", nil, violationInvalidHost, ErrRefusedURL},
		{"IPv6 zone", "https://[fe80::1%25eth0]/", nil, violationInvalidHost, ErrRefusedURL},
		{"non-ASCII host", "https://bücher.example/", nil, violationInvalidHost, ErrRefusedURL},
		{"oversize", "https://bank.example/" + strings.Repeat("a", MaxURLBytes), nil, violationTooLong, ErrRefusedURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := policy(t, newResolver(names()), tc.allow...).CheckURL(context.Background(), tc.url, "/url")
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckURL(%q) = %v, want an *engine.Error", tc.url, err)
			}
			if e.Status != http.StatusBadRequest || e.Code != CodeURLRefused || len(e.Violations) != 1 {
				t.Fatalf("CheckURL(%q) = %d %s %+v, want 400 %s with one violation", tc.url, e.Status, e.Code, e.Violations, CodeURLRefused)
			}
			if v := e.Violations[0]; v.Code != tc.code || v.Pointer != "/url" || v.Location != "body" || v.Message == "" {
				t.Errorf("violation %+v, want code %s at body /url with a message", v, tc.code)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("CheckURL(%q) = %v, want it to match %v", tc.url, err, tc.kind)
			}
		})
	}
}

func TestCheckURLAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		allow     []string
	}{
		{"public name", "https://bank.example/cb", nil},
		{"public name, upper case, trailing dot, port", "https://BANK.example.:8443/cb?x=1", nil},
		{"public IPv6 name", "https://v6.bank.example/cb", nil},
		{"public IPv4 literal", "https://93.184.215.14/cb", nil},
		{"public IPv6 literal", "https://[2a00:1450:4001::1]/cb", nil},
		{"NAT64 of a public address", "https://[64:ff9b::5db8:d70e]/cb", nil},
		{"allow-listed loopback address", "http://127.0.0.1:8080/cb", []string{"127.0.0.1"}},
		{"allow-listed loopback address and port", "http://127.0.0.1:8080/cb", []string{"127.0.0.1:8080"}},
		{"allow-listed IPv6 loopback", "http://[::1]:8080/cb", []string{"::1"}},
		{"allow-listed prefix", "http://10.1.2.3/cb", []string{"10.1.0.0/16"}},
		{"allow-listed prefix reached by name", "https://internal.example/cb", []string{"10.0.0.0/8"}},
		{"allow-listed name", "http://internal.example/cb", []string{"Internal.Example"}},
		{"allow-listed name and port", "http://localhost:8080/cb", []string{"localhost:8080"}},
		{"allow-listed suffix", "http://hooks.bank.intern/cb", []string{"*.bank.intern"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := policy(t, newResolver(names()), tc.allow...).CheckURL(context.Background(), tc.url, "/url"); err != nil {
				t.Fatalf("CheckURL(%q) = %v, want accepted", tc.url, err)
			}
		})
	}
}

func TestCheckURLStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := policy(t, nil)
	p.Resolver = resolverFunc(func(ctx context.Context) ([]netip.Addr, error) { return nil, ctx.Err() })
	if err := p.CheckURL(ctx, "https://bank.example/cb", "/url"); !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckURL with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestParsePolicy(t *testing.T) {
	t.Run("valid entries", func(t *testing.T) {
		if _, err := ParsePolicy([]string{"127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8", "localhost", "localhost:8080",
			"[::1]:8443", "127.0.0.1:9000", "*.bank.internal", "*.bank.internal:443", " hooks.example "}); err != nil {
			t.Fatal(err)
		}
	})
	bad := []string{"", "10.0.0.0/33", "10.0.0.0/x", "::ffff:10.0.0.0/104", "*.", "*", "a b", "host:99999", "host:0",
		"*foo.example", "http://x", "x..example", "127.1", "bücher.example", strings.Repeat("a", 64) + ".example"}
	for _, entry := range bad {
		t.Run(entry, func(t *testing.T) {
			_, err := ParsePolicy([]string{"localhost", entry})
			if err == nil || !strings.Contains(err.Error(), strconv.Quote(entry)) {
				t.Fatalf("ParsePolicy(%q) = %v, want an error naming it", entry, err)
			}
		})
	}
	t.Run("every malformed entry named", func(t *testing.T) {
		_, err := ParsePolicy(bad)
		for _, entry := range bad {
			if err == nil || !strings.Contains(err.Error(), strconv.Quote(entry)) {
				t.Errorf("error %v does not name %q", err, entry)
			}
		}
	})
}
