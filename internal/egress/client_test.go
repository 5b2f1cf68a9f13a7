package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/fakeclock"
)

// loopback is the address httptest servers listen on.
var loopback = netip.MustParseAddr("127.0.0.1")

// receiver is an httptest server counting the connections it accepted.
type receiver struct {
	*httptest.Server
	conns atomic.Int32
}

// newReceiver serves h on loopback, counting connections.
func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{Server: httptest.NewUnstartedServer(h)}
	r.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.Start()
	t.Cleanup(r.Close)
	return r
}

// port is the receiver's port.
func (r *receiver) port() string {
	_, p, _ := net.SplitHostPort(r.Listener.Addr().String())
	return p
}

func TestPostDelivers(t *testing.T) {
	var got struct {
		method, contentType, id string
		body                    []byte
	}
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		got.method, got.contentType, got.id = r.Method, r.Header.Get("Content-Type"), r.Header.Get("Webhook-Id")
		got.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "thanks")
	})
	c := NewClient(policy(t, nil, "127.0.0.1"), Options{})
	h := http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {"msg_1"}}
	res, err := c.Post(context.Background(), rcv.URL+"/cb", h, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusAccepted || string(res.Body) != "thanks" || res.Duration <= 0 || res.RetryAfter != 0 {
		t.Errorf("result %+v, want 202 thanks with a duration", res)
	}
	if got.method != http.MethodPost || got.contentType != "application/json" || got.id != "msg_1" || string(got.body) != `{"a":1}` {
		t.Errorf("receiver saw %+v", got)
	}
}

func TestPostReusesConnections(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := NewClient(policy(t, nil, "127.0.0.1"), Options{})
	for range 3 {
		if _, err := c.Post(context.Background(), rcv.URL, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := rcv.conns.Load(); n != 1 {
		t.Errorf("3 posts opened %d connections, want 1", n)
	}
	c.CloseIdleConnections()
	if _, err := c.Post(context.Background(), rcv.URL, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := rcv.conns.Load(); n != 2 {
		t.Errorf("a post after CloseIdleConnections made %d connections in all, want 2", n)
	}
}

func TestPostVerifiesTheHostNameOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	// The test certificate names example.com: both names lead to the
	// same loopback server, only the one it names passes.
	res := newResolver(map[string][]netip.Addr{"example.com": {loopback}, "other.example": {loopback}})
	c := NewClient(policy(t, res, "127.0.0.0/8"), Options{TLS: &tls.Config{RootCAs: roots}})
	for _, tc := range []struct {
		host string
		ok   bool
	}{{"example.com", true}, {"other.example", false}} {
		t.Run(tc.host, func(t *testing.T) {
			r, err := c.Post(context.Background(), "https://"+tc.host+":"+port+"/cb", nil, nil)
			if tc.ok && (err != nil || r.Status != http.StatusOK) {
				t.Fatalf("Post = %+v, %v, want 200", r, err)
			}
			var unknownName x509.HostnameError
			if !tc.ok && !errors.As(err, &unknownName) {
				t.Fatalf("Post = %+v, %v, want a certificate name error", r, err)
			}
		})
	}
}

func TestPostRefusesRebinding(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addrs []netip.Addr
	}{
		{"loopback", []netip.Addr{loopback}},
		{"IPv4-mapped loopback", []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}},
		{"public then loopback", []netip.Addr{publicV4, loopback}},
		{"private", []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		{"cloud metadata", []netip.Addr{netip.MustParseAddr("169.254.169.254")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			res := newResolver(map[string][]netip.Addr{"bank.example": {publicV4}})
			p := policy(t, res)
			url := "https://bank.example:" + rcv.port() + "/cb"
			if err := p.CheckURL(context.Background(), url, "/url"); err != nil {
				t.Fatalf("registration refused: %v", err)
			}
			res.set("bank.example", tc.addrs...)
			r, err := NewClient(p, Options{}).Post(context.Background(), url, nil, []byte("{}"))
			if !errors.Is(err, ErrForbiddenAddress) || r != nil {
				t.Fatalf("Post after rebinding = %+v, %v, want ErrForbiddenAddress", r, err)
			}
			if !strings.Contains(err.Error(), "bank.example") {
				t.Errorf("error %q does not name the host", err)
			}
			if n := rcv.conns.Load(); n != 0 {
				t.Errorf("receiver saw %d connections", n)
			}
		})
	}
}

func TestPostRefusesWhatThePolicyRefuses(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	c := NewClient(policy(t, newResolver(names())), Options{})
	for _, tc := range []struct {
		name, url string
		kind      error
	}{
		{"loopback literal", rcv.URL, ErrForbiddenAddress},
		{"loopback literal over https", strings.Replace(rcv.URL, "http:", "https:", 1), ErrForbiddenAddress},
		{"http to a public name", "http://bank.example/cb", ErrRefusedURL},
		{"user info", "https://u:p@bank.example/cb", ErrRefusedURL},
		{"not a URL", "https://bank.example:port/", ErrRefusedURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := c.Post(context.Background(), tc.url, nil, nil); !errors.Is(err, tc.kind) {
				t.Fatalf("Post(%q) = %+v, %v, want %v", tc.url, r, err, tc.kind)
			}
		})
	}
	if n := rcv.conns.Load(); n != 0 {
		t.Errorf("receiver saw %d connections", n)
	}
}

func TestPostDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			target := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			first := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", status)
			})
			res, err := NewClient(policy(t, nil, "127.0.0.1"), Options{}).Post(context.Background(), first.URL, nil, []byte("{}"))
			if err != nil || res.Status != status {
				t.Fatalf("Post = %+v, %v, want status %d", res, err, status)
			}
			if n := target.conns.Load(); n != 0 {
				t.Errorf("redirect target saw %d connections", n)
			}
		})
	}
}

func TestPostCapsTheResponseBody(t *testing.T) {
	mib := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	endless := func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil {
			if _, err := w.Write(mib[:32<<10]); err != nil {
				return
			}
		}
	}
	for _, tc := range []struct {
		name    string
		max     int64
		handler http.HandlerFunc
		want    int
	}{
		{"1 MiB, default cap", 0, func(w http.ResponseWriter, r *http.Request) { w.Write(mib) }, DefaultMaxResponseBytes},
		{"1 MiB, cap of 100", 100, func(w http.ResponseWriter, r *http.Request) { w.Write(mib) }, 100},
		{"under the cap", 0, func(w http.ResponseWriter, r *http.Request) { w.Write(mib[:10]) }, 10},
		{"endless", 0, endless, DefaultMaxResponseBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.handler)
			c := NewClient(policy(t, nil, "127.0.0.1"), Options{MaxResponseBytes: tc.max, Timeout: 5 * time.Second})
			start := time.Now()
			res, err := c.Post(context.Background(), rcv.URL, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.Body, mib[:tc.want]) {
				t.Errorf("body of %d bytes, want the first %d", len(res.Body), tc.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("Post took %v: it read past the cap", time.Since(start))
			}
		})
	}
}

func TestPostReadsRetryAfter(t *testing.T) {
	clock := fakeclock.New()
	date := func(d time.Duration) string { return clock.Now().Add(d).Format(http.TimeFormat) }
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Want-Retry-After"); v != "" {
			w.Header().Set("Retry-After", v)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := NewClient(policy(t, nil, "127.0.0.1"), Options{Now: clock.Now})
	for _, tc := range []struct {
		name, value string
		want        time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"zero seconds", "0", 0},
		{"seconds over the cap", "999999999", MaxRetryAfter},
		{"seconds overflowing", "99999999999999999999999", MaxRetryAfter},
		{"negative seconds", "-5", 0},
		{"fraction", "1.5", 0},
		{"date", date(90 * time.Second), 90 * time.Second},
		{"date past", date(-time.Hour), 0},
		{"date over the cap", date(48 * time.Hour), MaxRetryAfter},
		{"junk", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Post(context.Background(), rcv.URL, http.Header{"Want-Retry-After": {tc.value}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusServiceUnavailable || res.RetryAfter != tc.want {
				t.Errorf("Retry-After %q: %d, %v, want 503, %v", tc.value, res.Status, res.RetryAfter, tc.want)
			}
		})
	}
}

func TestPostTimesOut(t *testing.T) {
	release := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	c := NewClient(policy(t, nil, "127.0.0.1"), Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	res, err := c.Post(context.Background(), rcv.URL+"/cb?token=s3cret", nil, []byte("{}"))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Post took %v with a 200ms timeout", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) || res != nil {
		t.Fatalf("Post = %+v, %v, want context.DeadlineExceeded", res, err)
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), rcv.Listener.Addr().String()) {
		t.Errorf("error %q should name the host and not the URL's token", err)
	}
}

func TestPostReachesAllowListedHosts(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	res := newResolver(map[string][]netip.Addr{"hooks.bank.intern": {loopback}, "core.bank.intern": {loopback}})
	for _, tc := range []struct {
		name, url string
		allow     []string
	}{
		{"address", rcv.URL, []string{"127.0.0.1"}},
		{"address and port", rcv.URL, []string{"127.0.0.1:" + rcv.port()}},
		{"prefix", rcv.URL, []string{"127.0.0.0/8"}},
		{"name", "http://HOOKS.bank.intern:" + rcv.port(), []string{"hooks.bank.intern"}},
		{"name and port", "http://hooks.bank.intern:" + rcv.port(), []string{"hooks.bank.intern:" + rcv.port()}},
		{"suffix", "http://core.bank.intern:" + rcv.port(), []string{"*.bank.intern"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewClient(policy(t, res, tc.allow...), Options{}).Post(context.Background(), tc.url, nil, nil)
			if err != nil || r.Status != http.StatusNoContent {
				t.Fatalf("Post(%q) = %+v, %v, want 204", tc.url, r, err)
			}
		})
	}
}

func TestPostKeepsTheStatusOfABodyCutShort(t *testing.T) {
	release := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, "gone")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	c := NewClient(policy(t, nil, "127.0.0.1"), Options{Timeout: 200 * time.Millisecond})
	res, err := c.Post(context.Background(), rcv.URL, nil, nil)
	if err != nil || res.Status != http.StatusGone || string(res.Body) != "gone" {
		t.Fatalf("Post = %+v, %v, want 410 with the body read so far", res, err)
	}
}
