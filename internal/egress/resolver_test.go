package egress

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// publicV4 and publicV6 are public unicast addresses that tests only ever
// resolve names to; nothing connects to them.
var (
	publicV4 = netip.MustParseAddr("93.184.215.14")
	publicV6 = netip.MustParseAddr("2a00:1450:4001::1")
)

// fakeResolver answers from a table that tests change between the check
// at registration and the connection (DNS rebinding).
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
}

// newResolver returns a resolver answering names as given.
func newResolver(answers map[string][]netip.Addr) *fakeResolver {
	return &fakeResolver{answers: answers}
}

// set makes name resolve to addrs from now on.
func (r *fakeResolver) set(name string, addrs ...netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[name] = addrs
}

// LookupNetIP implements Resolver; an unknown name is not found.
func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addrs, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// resolverFunc is a Resolver answering every name with f.
type resolverFunc func(ctx context.Context) ([]netip.Addr, error)

// LookupNetIP implements Resolver.
func (f resolverFunc) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	return f(ctx)
}

// policy parses allow and sets r as its resolver.
func policy(t testing.TB, r Resolver, allow ...string) *Policy {
	t.Helper()
	p, err := ParsePolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	p.Resolver = r
	return p
}
