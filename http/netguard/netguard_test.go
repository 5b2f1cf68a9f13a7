package netguard

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// exhausted is a listener out of descriptors for its first failures
// accepts.
type exhausted struct {
	net.Listener
	failures atomic.Int32
}

func (e *exhausted) Accept() (net.Conn, error) {
	if e.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return e.Listener.Accept()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func dial(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// accept runs l.Accept in the background.
func accept(l *Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- c
	}()
	return ch
}

func TestAcceptRetriesWhenOutOfDescriptors(t *testing.T) {
	inner := &exhausted{Listener: listen(t)}
	inner.failures.Store(10)
	l := Listen(inner, Config{Logger: quiet})
	// The backoff's timer fires at once, noting each delay.
	var delays []time.Duration
	l.after = func(d time.Duration) <-chan time.Time {
		delays = append(delays, d)
		fired := make(chan time.Time, 1)
		fired <- time.Time{}
		return fired
	}
	dial(t, "127.0.0.1", inner.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept returned %v, want it to retry", err)
	}
	defer c.Close()
	// Doubling from 5 ms, at most a second.
	ms := time.Millisecond
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}
	if !slices.Equal(delays, want) {
		t.Fatalf("backoff %v, want %v", delays, want)
	}
}

func TestCloseEndsBackoff(t *testing.T) {
	inner := &exhausted{Listener: listen(t)}
	inner.failures.Store(1 << 30)
	l := Listen(inner, Config{Logger: quiet})
	// The backoff's timer never fires: only Close can end it.
	backingOff := make(chan struct{}, 1)
	l.after = func(time.Duration) <-chan time.Time {
		select {
		case backingOff <- struct{}{}:
		default:
		}
		return make(chan time.Time)
	}
	done := accept(l)
	select {
	case <-backingOff:
	case <-time.After(time.Second):
		t.Fatal("Accept did not back off")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case c, ok := <-done:
		if ok {
			t.Fatalf("Accept gave %v after Close", c)
		}
	case <-time.After(time.Second):
		t.Fatal("Accept kept backing off after Close")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCaps(t *testing.T) {
	ln := listen(t)
	l := Listen(ln, Config{MaxConns: 3, MaxConnsPerIP: 2, Logger: quiet,
		Forwarding: Forwarding{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}}})
	addr := ln.Addr().String()

	a1 := dial(t, "127.0.0.1", addr)
	first := (<-accept(l)).(*Conn)
	if first.Peer() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("peer %v", first.Peer())
	}
	dial(t, "127.0.0.1", addr)
	second := <-accept(l)
	over := dial(t, "127.0.0.1", addr) // over the per-address cap: closed on accept
	next := accept(l)
	if !closed(over) {
		t.Fatal("a connection over the per-address cap was kept")
	}
	dial(t, "127.0.0.9", addr) // a trusted proxy: only the total counts
	<-next

	overall := dial(t, "127.0.0.2", addr) // over the total cap
	next = accept(l)
	if !closed(overall) {
		t.Fatal("a connection over the total cap was kept")
	}
	_ = first.Close()
	_ = first.Close() // gives its place back once
	_ = a1.Close()
	dial(t, "127.0.0.2", addr)
	select {
	case c := <-next:
		_ = c.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("a freed place was not given to the next connection")
	}
	_ = second.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total != 1 || len(l.perIP) != 0 {
		t.Fatalf("total %d, per address %v after closes; want 1 (the proxy's) and none", l.total, l.perIP)
	}
}

// closed reports whether the server closed c within a second.
func closed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func TestClientKeyGroupsIPv6Networks(t *testing.T) {
	a := clientKey(netip.MustParseAddr("2001:db8:1:2::1"))
	b := clientKey(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	c := clientKey(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Fatalf("keys %v %v %v: want one per /64", a, b, c)
	}
	if v4 := netip.MustParseAddr("192.0.2.1"); clientKey(v4) != v4 {
		t.Fatal("an IPv4 address is its own key")
	}
}

// header is a request header with every line of each field.
type header map[string][]string

func (h header) PeekAll(name string) [][]byte {
	var out [][]byte
	for _, v := range h[name] {
		out = append(out, []byte(v))
	}
	return out
}

func TestForwardingClient(t *testing.T) {
	f := Forwarding{Header: "X-Forwarded-For", Trusted: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}}
	proxy := netip.MustParseAddr("10.0.0.1")
	for _, tc := range []struct {
		name string
		peer netip.Addr
		h    header
		want string
	}{
		{"untrusted peer", netip.MustParseAddr("192.0.2.1"), header{"X-Forwarded-For": {"198.51.100.7"}}, "192.0.2.1"},
		{"no header", proxy, header{}, "10.0.0.1"},
		{"one hop", proxy, header{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"spoofed left", proxy, header{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7"}}, "198.51.100.7"},
		{"trusted hops skipped", proxy, header{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.2.3.4 , 10.9.9.9"}}, "198.51.100.7"},
		{"lines in order", proxy, header{"X-Forwarded-For": {"6.6.6.6", "198.51.100.7, 10.2.3.4"}}, "198.51.100.7"},
		{"every hop trusted", proxy, header{"X-Forwarded-For": {"10.7.7.7, 10.2.3.4"}}, "10.7.7.7"},
		{"port", proxy, header{"X-Forwarded-For": {"198.51.100.7:4431"}}, "198.51.100.7"},
		{"IPv6 with port", proxy, header{"X-Forwarded-For": {"[2001:db8::1]:443"}}, "2001:db8::1"},
		{"IPv6 proxy hop", proxy, header{"X-Forwarded-For": {"2001:db8::1, 2001:db8:ffff::2"}}, "2001:db8::1"},
		{"mapped IPv4", proxy, header{"X-Forwarded-For": {"::ffff:198.51.100.7"}}, "198.51.100.7"},
		{"empty items", proxy, header{"X-Forwarded-For": {" , 198.51.100.7 ,"}}, "198.51.100.7"},
		{"garbage", proxy, header{"X-Forwarded-For": {"198.51.100.7, unknown"}}, "10.0.0.1"},
		{"other header", proxy, header{"X-Real-Ip": {"198.51.100.7"}}, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.Client(tc.peer, tc.h); got.String() != tc.want {
				t.Fatalf("Client = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes([]string{"10.0.0.0/8", " 192.0.2.10", "2001:db8::/32", "::1", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32", "::1/128", "10.0.0.0/8"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("prefix %d = %v, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", ""} {
		if _, err := ParsePrefixes([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDefaultMaxConns(t *testing.T) {
	if n := DefaultMaxConns(); n < 1 || n > maxDefaultConns {
		t.Fatalf("DefaultMaxConns = %d, want 1..%d", n, maxDefaultConns)
	}
}
