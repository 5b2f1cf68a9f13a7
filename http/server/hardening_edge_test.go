package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// Issue 9, the HTTP edge: points 1 (panics contained), 2 (descriptors and
// connections), 9 (the client address behind trusted proxies) and 15
// (ambiguous input refused at the edge).

// openLogged starts an instance logging JSON to the returned buffer, with
// edge settings and plugin connectors; it closes when the test ends.
func openLogged(t testing.TB, edge server.EdgeConfig, plugins map[string]connector.Connector) (*enginetest.Engine, *enginetest.LogBuffer) {
	t.Helper()
	logs := &enginetest.LogBuffer{}
	cfg := enginetest.Config(t.TempDir())
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	cfg.Edge = edge
	cfg.Connectors.Plugins = plugins
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	return inst, logs
}

// panicConnector is a Go plugin connector whose every call panics.
type panicConnector struct{}

func (panicConnector) Prepare(m *connector.Method, _ connector.Params) (connector.Invoker, error) {
	return connector.InvokerFunc(func(context.Context, *connector.Request) (*connector.Result, error) {
		panic("edge-test-panic in " + m.Name)
	}), nil
}

// echoConnector answers a dynamic operation with its first path parameter.
type echoConnector struct{}

func (echoConnector) Prepare(*connector.Method, connector.Params) (connector.Invoker, error) {
	return connector.InvokerFunc(func(_ context.Context, req *connector.Request) (*connector.Result, error) {
		return &connector.Result{Data: map[string]any{"item_id": req.Call.Path.Value(0)}}, nil
	}), nil
}

// failingConnector is a back end that is down.
type failingConnector struct{}

func (failingConnector) Prepare(*connector.Method, connector.Params) (connector.Invoker, error) {
	return connector.InvokerFunc(func(context.Context, *connector.Request) (*connector.Result, error) {
		return nil, errors.New("core banking system down")
	}), nil
}

// TestHardeningEdgePanicsAreContained: a connector that panics, reached
// from a banking-core route (getBanks) and from a dynamic operation, is a
// 500 problem with a correlation id whose log line carries the route, the
// panic and the stack; the client sees neither, and the process keeps
// serving, with the pooled per-request state of other requests intact.
func TestHardeningEdgePanicsAreContained(t *testing.T) {
	inst, logs := openLogged(t, server.EdgeConfig{}, map[string]connector.Connector{
		"edge_panic": panicConnector{}, "edge_echo": echoConnector{}})
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "edge-hardening.yaml")))
	inst.CreateRouting(t, map[string]any{"method_name": "getBanks", "connector_name": "edge_panic"})
	inst.CreateRouting(t, map[string]any{"method_name": "edgeExplode", "connector_name": "edge_panic"})
	inst.CreateRouting(t, map[string]any{"method_name": "edgeEchoItem", "connector_name": "edge_echo"})
	addr := inst.Addr(t)

	for _, tc := range []struct {
		name, path, route string
		anonymous         bool
	}{
		{name: "banking core route", path: "/banks", route: "/banks", anonymous: true},
		{name: "dynamic operation", path: "/edge/explode/x-1", route: "/edge/explode/{itemId}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cid := "edge-panic-" + strings.ReplaceAll(tc.name, " ", "-")
			caller := inst.Admin()
			if tc.anonymous {
				caller = inst.Anonymous()
			}
			r := caller.Loopback().Send(t, enginetest.Request{Method: "GET", Path: tc.path,
				Header: map[string]string{server.HeaderCorrelationID: cid}})
			if r.Status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500: %s", r.Status, r.Body)
			}
			p := r.Problem(t)
			if p.Code != engine.CodeInternal || p.CorrelationID != cid || r.Header.Get(server.HeaderCorrelationID) != cid {
				t.Fatalf("problem %+v, header %q; want internal_error with correlation id %s", p, r.Header.Get(server.HeaderCorrelationID), cid)
			}
			if strings.Contains(string(r.Body), "edge-test-panic") || strings.Contains(string(r.Body), "goroutine") {
				t.Fatalf("the client sees the panic: %s", r.Body)
			}
			rec := logs.Record(t, "handler panicked", cid)
			if rec == nil {
				t.Fatalf("no panic log line for %s:\n%s", cid, logs.String())
			}
			if rec["route"] != tc.route || rec["path"] != tc.path || !strings.Contains(fmt.Sprint(rec["panic"]), "edge-test-panic") ||
				!strings.Contains(fmt.Sprint(rec["stack"]), "hardening_edge_test.go") {
				t.Fatalf("panic log line lacks route, path, panic or stack: %v", rec)
			}
		})
	}

	t.Run("keeps serving with intact request state", func(t *testing.T) {
		token := inst.AdminToken()
		client := &http.Client{Timeout: 10 * time.Second}
		// get is doLoopback for goroutines: it reports instead of failing.
		get := func(path string) (int, string, error) {
			req, err := http.NewRequest("GET", "http://"+addr+path, nil)
			if err != nil {
				return 0, "", err
			}
			req.Header.Set("Authorization", enginetest.DirectLogin(token))
			resp, err := client.Do(req)
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), err
		}
		const workers, rounds = 16, 4
		var wg sync.WaitGroup
		errs := make(chan string, 2*workers*rounds)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range rounds {
					id := fmt.Sprintf("item-%d-%d", i, j)
					if status, body, err := get("/edge/explode/" + id); err != nil || status != http.StatusInternalServerError {
						errs <- fmt.Sprintf("explode %s: %d %s %v", id, status, body, err)
					}
					if status, body, err := get("/edge/items/" + id); err != nil || status != http.StatusOK || body != `{"item_id":"`+id+`"}` {
						errs <- fmt.Sprintf("echo %s: %d %s %v", id, status, body, err)
					}
				}
			}()
		}
		wg.Wait()
		// Spare connections the client dialed but never used would hold
		// the server's shutdown until their header timeout.
		client.CloseIdleConnections()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if r := inst.Anonymous().Loopback().Get(t, "/healthz"); r.Status != http.StatusOK {
			t.Fatalf("healthz after panics: %d", r.Status)
		}
	})
}

// fdChildEnv tells the test binary it runs as TestHardeningEdgeFDChild.
const fdChildEnv = "DYNAPI_EDGE_FD_CHILD"

// TestHardeningEdgeFDChild is the server of
// TestHardeningEdgeDescriptorExhaustion: it lowers its descriptor limit to
// 64, serves with caps above it, prints its address and serves until
// killed. Serve returning is the failure the parent looks for.
func TestHardeningEdgeFDChild(t *testing.T) {
	if os.Getenv(fdChildEnv) != "1" {
		t.Skip("the server process of TestHardeningEdgeDescriptorExhaustion")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	cfg := enginetest.Config(t.TempDir())
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Edge = server.EdgeConfig{MaxConns: 10_000, MaxConnsPerIP: 10_000, HeaderTimeout: 30 * time.Second}
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("listening", ln.Addr())
	err = inst.Server.Serve(ln)
	t.Fatalf("Serve returned: %v", err)
}

// TestHardeningEdgeDescriptorExhaustion: idle connections exhaust the
// server's descriptors (it runs in a child process with a limit of 64 and
// caps above it); accepting fails with EMFILE, is retried, and the server
// never exits: once the connections close it answers again.
func TestHardeningEdgeDescriptorExhaustion(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHardeningEdgeFDChild$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	stderr := &enginetest.LogBuffer{} // the child's log and test output
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addrc <- a
			} else {
				fmt.Fprintln(stderr, sc.Text())
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	})
	var addr string
	select {
	case addr = <-addrc:
	case err := <-exited:
		t.Fatalf("server exited before listening: %v\n%s", err, stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start\n%s", stderr)
	}

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range 120 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	serving := func() {
		select {
		case err := <-exited:
			t.Fatalf("the server exited when out of descriptors: %v\n%s", err, stderr)
		default:
		}
	}
	enginetest.WaitUntil(t, 5*time.Second, "the server to run out of descriptors", func() bool {
		serving()
		log := stderr.String()
		return strings.Contains(log, "accepting connections failed") && strings.Contains(log, "too many open files")
	})
	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil
	client := &http.Client{Timeout: time.Second}
	enginetest.WaitUntil(t, 8*time.Second, "the server to answer again", func() bool {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	serving()
	if !strings.Contains(stderr.String(), "accepting connections again") {
		t.Errorf("no recovery logged:\n%s", stderr)
	}
}

// dialFrom connects to addr from the loopback address local; the
// connection closes when the test ends.
func dialFrom(t testing.TB, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closed c within wait: a read
// ends in EOF or a reset rather than the deadline.
func closedByServer(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestHardeningEdgeConnectionCaps: connections over the per-address cap
// and over the total cap are closed as soon as they are accepted; a
// trusted proxy counts only towards the total; a freed place serves again.
func TestHardeningEdgeConnectionCaps(t *testing.T) {
	inst, _ := openLogged(t, server.EdgeConfig{MaxConns: 6, MaxConnsPerIP: 2, HeaderTimeout: 5 * time.Second,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")}}, nil)
	addr := inst.Addr(t)
	const held = 300 * time.Millisecond

	first := dialFrom(t, "127.0.0.1", addr)
	dialFrom(t, "127.0.0.1", addr)
	if over := dialFrom(t, "127.0.0.1", addr); !closedByServer(over, 2*time.Second) {
		t.Fatal("a third connection from one address stayed open over a per-address cap of 2")
	}
	var proxy []net.Conn
	for range 3 {
		proxy = append(proxy, dialFrom(t, "127.0.0.4", addr))
	}
	other := dialFrom(t, "127.0.0.2", addr)
	if over := dialFrom(t, "127.0.0.3", addr); !closedByServer(over, 2*time.Second) {
		t.Fatal("a seventh connection stayed open over a total cap of 6")
	}
	for i, c := range append(proxy, other) {
		if closedByServer(c, held) {
			t.Fatalf("connection %d under the caps was closed", i)
		}
	}

	_ = first.Close()
	enginetest.WaitUntil(t, 3*time.Second, "a freed place to serve again", func() bool {
		c := dialFrom(t, "127.0.0.1", addr)
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return false
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		return err == nil && resp.StatusCode == http.StatusOK
	})
}

// TestHardeningEdgeSlowClients: a header that trickles in, a body slower
// than the minimum rate, and an idle keep-alive connection are each cut
// off within a bounded time.
func TestHardeningEdgeSlowClients(t *testing.T) {
	inst, _ := openLogged(t, server.EdgeConfig{HeaderTimeout: 300 * time.Millisecond, MinBodyRate: 1000,
		IdleTimeout: 300 * time.Millisecond}, nil)
	addr := inst.Addr(t)

	// trickle writes head, then the bytes of tail one every 50ms until the
	// server closes the connection; it returns how long the server took.
	trickle := func(t *testing.T, head, tail string) time.Duration {
		c := dialFrom(t, "127.0.0.1", addr)
		start := time.Now()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		go func() {
			pace := time.NewTicker(50 * time.Millisecond) // the client's rate, not a wait
			defer pace.Stop()
			for i := range len(tail) {
				<-pace.C
				if _, err := io.WriteString(c, tail[i:i+1]); err != nil {
					return
				}
			}
		}()
		if !closedByServer(c, 4*time.Second) {
			t.Fatal("the server kept the connection of a slow client open")
		}
		return time.Since(start)
	}
	t.Run("slow header", func(t *testing.T) {
		if took := trickle(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n", strings.Repeat("X-Slow: a\r\n", 100)); took > 2*time.Second {
			t.Fatalf("slow header cut off after %v, want about the 300ms header timeout", took)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		// 500 bytes at 1000 B/s: due 0.3s + 0.5s after the header.
		head := "POST /my/logins/direct HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
		if took := trickle(t, head, strings.Repeat("a", 500)); took > 2500*time.Millisecond {
			t.Fatalf("slow body cut off after %v, want about 0.8s", took)
		}
	})
	t.Run("a body at a fair rate is read", func(t *testing.T) {
		body := strings.Repeat("a", 500)
		c := dialFrom(t, "127.0.0.1", addr)
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(c, "POST /my/logins/direct HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode == http.StatusRequestTimeout {
			t.Fatalf("response %v, %v", resp, err)
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("response %v, %v", resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = io.Copy(io.Discard, br)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("an idle keep-alive connection stayed open past the 300ms idle timeout")
		}
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Fatalf("idle connection closed after %v", took)
		}
	})
}

// TestHardeningEdgeResetsAreNotServerErrors: connections a client resets
// in the middle of a request are the client's failure: nothing is logged
// as a server error, so resets cannot flood the error log.
func TestHardeningEdgeResetsAreNotServerErrors(t *testing.T) {
	inst, logs := openLogged(t, server.EdgeConfig{}, nil)
	addr := inst.Addr(t)
	for _, partial := range []string{
		"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half: ",
		"POST /my/logins/direct HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"half\":",
	} {
		for range 10 {
			c := dialFrom(t, "127.0.0.1", addr)
			if _, err := io.WriteString(c, partial); err != nil {
				t.Fatal(err)
			}
			enginetest.WaitUntil(t, 2*time.Second, "the server to take the connection", func() bool { return inst.OpenConnections() == 1 })
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
			enginetest.WaitUntil(t, 2*time.Second, "the server to drop the reset connection", func() bool { return inst.OpenConnections() == 0 })
		}
	}
	if r := inst.Anonymous().Loopback().Get(t, "/healthz"); r.Status != http.StatusOK {
		t.Fatalf("healthz: %d", r.Status)
	}
	inst.Close(t) // waits for every connection, and what it logs
	if log := logs.String(); strings.Contains(log, `"level":"ERROR"`) {
		t.Fatalf("client resets logged as server errors:\n%s", log)
	}
}

// TestHardeningEdgeStalledReader: a client that asks for a large answer
// and stops reading it holds the connection no longer than the write
// timeout.
func TestHardeningEdgeStalledReader(t *testing.T) {
	inst, _ := openLogged(t, server.EdgeConfig{WriteTimeout: 300 * time.Millisecond}, nil)
	const size = 6 << 20 // more than loopback's socket buffers hold
	doc := enginetest.MustJSON(t, map[string]any{"openapi": "3.0.3", "info": map[string]any{"title": "big", "version": "1"},
		"servers": []any{map[string]any{"url": "/edge-big"}},
		"paths": map[string]any{"/blob": map[string]any{"get": map[string]any{"operationId": "edgeBlob",
			"security": []any{}, "x-dynapi-public": true,
			"responses": map[string]any{"200": map[string]any{"description": "big", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"type": "string"}, "example": strings.Repeat("x", size)}}}}}}}})
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", doc)
	addr := inst.Addr(t)

	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /edge-big/blob HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// A stalled reader: the server takes the connection, then gives up on
	// it after the write timeout.
	enginetest.WaitUntil(t, 3*time.Second, "the server to take the connection", func() bool { return inst.OpenConnections() == 1 })
	enginetest.WaitUntil(t, 3*time.Second, "the server to drop the stalled reader", func() bool { return inst.OpenConnections() == 0 })
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection of a stalled reader stayed open (%d bytes read)", n)
	}
	if n >= size {
		t.Fatalf("read %d bytes, the whole answer: the server waited for the stalled reader", n)
	}
}

// TestHardeningEdgeClientAddress: the client address (what the login
// throttle and the logs use) comes from the forwarding header only when
// the peer is a trusted proxy, walking back past trusted proxies; an
// untrusted peer's header is ignored. Seen in the log line of a failed
// request.
func TestHardeningEdgeClientAddress(t *testing.T) {
	inst, logs := openLogged(t, server.EdgeConfig{ClientIPHeader: "X-Forwarded-For",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}},
		map[string]connector.Connector{"edge_down": failingConnector{}})
	inst.CreateRouting(t, map[string]any{"method_name": "getBanks", "connector_name": "edge_down"})
	addr := inst.Addr(t)

	for i, tc := range []struct {
		name, from string
		forwarded  []string
		want       string
	}{
		{name: "trusted proxy", from: "127.0.0.1", forwarded: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "spoofed hops left of the client", from: "127.0.0.1", forwarded: []string{"198.51.100.1, 203.0.113.9, 10.1.2.3"}, want: "203.0.113.9"},
		{name: "header on two lines", from: "127.0.0.1", forwarded: []string{"198.51.100.1", "203.0.113.9:4431"}, want: "203.0.113.9"},
		{name: "IPv6 client", from: "127.0.0.1", forwarded: []string{"[2001:db8::7]:443"}, want: "2001:db8::7"},
		{name: "no header", from: "127.0.0.1", want: "127.0.0.1"},
		{name: "garbage", from: "127.0.0.1", forwarded: []string{"not-an-address"}, want: "127.0.0.1"},
		{name: "untrusted peer", from: "127.0.0.2", forwarded: []string{"203.0.113.9"}, want: "127.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cid := fmt.Sprintf("edge-client-%d", i)
			raw := "GET /banks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Correlation-Id: " + cid + "\r\n"
			for _, f := range tc.forwarded {
				raw += "X-Forwarded-For: " + f + "\r\n"
			}
			resps, _ := exchange(t, tc.from, addr, raw+"\r\n")
			if len(resps) != 1 || resps[0].Status != http.StatusInternalServerError {
				t.Fatalf("responses %v, want one 500", resps)
			}
			rec := logs.Record(t, "request failed", cid)
			if rec == nil || rec["client_addr"] != tc.want {
				t.Fatalf("log record %v, want client_addr %s", rec, tc.want)
			}
		})
	}
}

// exchange sends raw bytes on a new connection from local and reads every
// response until the server closes the connection (or 3s pass); it
// reports whether the server closed it.
func exchange(t testing.TB, local, addr, raw string) (resps []enginetest.Response, closed bool) {
	t.Helper()
	c := dialFrom(t, local, addr)
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var out []enginetest.Response
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			return out, !(errors.As(err, &ne) && ne.Timeout())
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		out = append(out, enginetest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b})
	}
}

// TestHardeningEdgeAmbiguousFraming: a request whose body length two
// headers give (or a transfer coding fasthttp and a proxy would read
// differently) is a 400 and the connection is closed, so a request
// smuggled behind it is never served.
func TestHardeningEdgeAmbiguousFraming(t *testing.T) {
	inst := enginetest.New(t)
	addr := inst.Addr(t)
	const smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

	t.Run("pipelined requests are served", func(t *testing.T) {
		raw := "POST /my/logins/direct HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}" + smuggled +
			"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		if resps, _ := exchange(t, "127.0.0.1", addr, raw); len(resps) != 3 {
			t.Fatalf("%d responses, want 3 (the control for the cases below)", len(resps))
		}
	})
	for _, tc := range []struct{ name, head, body string }{
		{"chunked then length", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"},
		{"length then chunked", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"},
		{"two lengths", "Content-Length: 2\r\nContent-Length: 5\r\n", "{}xyz"},
		{"coding other than chunked", "Transfer-Encoding: gzip\r\n", "0\r\n\r\n"},
		{"identity coding and length", "Transfer-Encoding: identity\r\nContent-Length: 2\r\n", "{}"},
		{"two codings", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := "POST /my/logins/direct HTTP/1.1\r\nHost: x\r\n" + tc.head + "\r\n" + tc.body + smuggled
			resps, closed := exchange(t, "127.0.0.1", addr, raw)
			if len(resps) != 1 {
				t.Fatalf("%d responses, want one (the smuggled request must not be served): %v", len(resps), resps)
			}
			if !closed {
				t.Fatal("the connection stayed open after an ambiguous request")
			}
			r := resps[0]
			if r.Status != http.StatusBadRequest || r.Problem(t).Code != engine.CodeAmbiguousFraming {
				t.Fatalf("status %d %s, want 400 %s", r.Status, r.Body, engine.CodeAmbiguousFraming)
			}
		})
	}
}

// TestHardeningEdgeOneCredential: a request carrying more than one
// credential, in any two of the credential header lines, is a 400 whatever
// the route, before any authenticator reads one.
func TestHardeningEdgeOneCredential(t *testing.T) {
	inst := enginetest.New(t)
	token := inst.AdminToken()
	auth := enginetest.DirectLogin(token)
	loginHeader := fmt.Sprintf(`username="%s", password="%s", consumer_key="%s"`, enginetest.AdminUsername, enginetest.AdminPassword, enginetest.ConsumerKey)

	for _, tc := range []struct {
		name, method, path string
		lines              [][2]string
		want               int
	}{
		{"Authorization and DirectLogin", "GET", "/my/user", [][2]string{{"Authorization", auth}, {"DirectLogin", `token="` + token + `"`}}, 400},
		{"two Authorization lines", "GET", "/my/user", [][2]string{{"Authorization", auth}, {"Authorization", "Bearer x.y.z"}}, 400},
		{"two DirectLogin lines at login", "POST", "/my/logins/direct", [][2]string{{"DirectLogin", loginHeader}, {"DirectLogin", loginHeader}}, 400},
		{"login header beside a token", "POST", "/my/logins/direct", [][2]string{{"DirectLogin", loginHeader}, {"Authorization", "Bearer x.y.z"}}, 400},
		{"on a public route", "GET", "/banks", [][2]string{{"Authorization", auth}, {"DirectLogin", `token="x"`}}, 400},
		{"one credential", "GET", "/my/user", [][2]string{{"Authorization", auth}}, 200},
		{"an empty line beside one", "GET", "/my/user", [][2]string{{"Authorization", auth}, {"DirectLogin", ""}}, 200},
		{"login header alone", "POST", "/my/logins/direct", [][2]string{{"DirectLogin", loginHeader}}, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			for _, l := range tc.lines {
				req.Header.Add(l[0], l[1])
			}
			resp, err := inst.Server.App().Test(req, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			r := enginetest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
			if r.Status != tc.want {
				t.Fatalf("status %d %s, want %d", r.Status, r.Body, tc.want)
			}
			if tc.want == 400 && r.Problem(t).Code != engine.CodeAmbiguousCredentials {
				t.Fatalf("problem %s, want %s", r.Body, engine.CodeAmbiguousCredentials)
			}
		})
	}
}

// TestHardeningEdgeDotSegments: a path with a dot segment, plain or
// percent-encoded, or an encoded slash or backslash, is a 400 and never
// reaches another route; paths that merely hold dots are served.
func TestHardeningEdgeDotSegments(t *testing.T) {
	inst := enginetest.New(t)
	token := inst.AdminToken()
	addr := inst.Addr(t)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/banks/x/../admin/v1/users", 400},
		{"/banks/x/%2e%2e/admin/v1/users", 400},
		{"/banks/x/%2E%2e/admin/v1/users", 400},
		{"/banks/x/.%2E/admin/v1/users", 400},
		{"/admin/v1/./users", 400},
		{"/admin/v1/users/.", 400},
		{"/admin/v1/users/%2e", 400},
		{"/banks/x%2F..%2Fadmin", 400},
		{"/banks/x%2fy/accounts", 400},
		{"/banks/x%5Cy", 400},
		{"/banks/x\\y", 400},
		{"http://x/banks/x/../admin/v1/users", 400},
		{"../admin/v1/users", 400},
		{"/.well-known/jwks.json", 200},
		{"/admin/v1/users", 200},
		{"/banks/v1..2", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			raw := "GET " + tc.path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: " + enginetest.DirectLogin(token) + "\r\n\r\n"
			resps, _ := exchange(t, "127.0.0.1", addr, raw)
			if len(resps) != 1 || resps[0].Status != tc.want {
				t.Fatalf("responses %v, want one %d", resps, tc.want)
			}
			if tc.want == 400 && resps[0].Problem(t).Code != engine.CodeInvalidPath {
				t.Fatalf("problem %s, want %s", resps[0].Body, engine.CodeInvalidPath)
			}
		})
	}
}

// TestHardeningEdgeLargeHeaders: header fields up to 16 KiB (an enterprise
// identity token) are accepted; larger ones are a 431 problem.
func TestHardeningEdgeLargeHeaders(t *testing.T) {
	inst := enginetest.New(t)
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"12 KiB", 12 << 10, 200},
		{"just under 16 KiB", 16<<10 - 200, 200},
		{"17 KiB", 17 << 10, 431},
		{"40 KiB", 40 << 10, 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Anonymous().Loopback().Send(t, enginetest.Request{Method: "GET", Path: "/healthz", Header: map[string]string{"X-Identity-Token": strings.Repeat("t", tc.size)}})
			if r.Status != tc.want {
				t.Fatalf("status %d %s, want %d", r.Status, r.Body, tc.want)
			}
			if tc.want == 431 && r.Problem(t).Code != engine.CodeHeaderTooLarge {
				t.Fatalf("problem %s, want %s", r.Body, engine.CodeHeaderTooLarge)
			}
		})
	}
}

// TestHardeningEdgeFixedRouteMethods: a method a fixed route does not
// serve is a 405 whose Allow lists the methods served there, not a 404.
func TestHardeningEdgeFixedRouteMethods(t *testing.T) {
	inst := enginetest.New(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"OPTIONS", "/admin/v1/users", "GET, HEAD, POST"},
		{"PUT", "/healthz", "GET, HEAD"},
		{"DELETE", "/banks/any-bank", "GET, HEAD"},
		{"PATCH", "/oauth2/token", "POST"},
		{"GET", "/my/logins/direct", "DELETE, POST"},
		{"OPTIONS", "/entities/Anything/1", "DELETE, GET, HEAD, PATCH, PUT"},
		{"PUT", "/admin/v1/users/u-1/lock", "DELETE, POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: tc.method, Path: tc.path})
			if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != tc.allow {
				t.Fatalf("status %d, Allow %q, body %s; want 405 with Allow %q", r.Status, r.Header.Get("Allow"), r.Body, tc.allow)
			}
			if r.Problem(t).Code != engine.CodeMethodNotAllowed {
				t.Fatalf("problem %s", r.Body)
			}
		})
	}
	if r := inst.Admin().Delete(t, "/admin/v1/users/u-1/lock"); r.Status == http.StatusMethodNotAllowed {
		t.Fatalf("405 for a served method: %s", r.Body)
	}
	if r := inst.Admin().Send(t, enginetest.Request{Method: "OPTIONS", Path: "/no/such/route"}); r.Status != http.StatusNotFound {
		t.Fatalf("unknown path: %d, want 404", r.Status)
	}
}

// TestHardeningEdgeContentCoding: a body in a content coding is refused
// with 415 before anything reads it, whatever the route: a few hundred
// kilobytes of gzip can stand for gigabytes, which decompressing would
// hold in memory. identity is no coding and passes.
func TestHardeningEdgeContentCoding(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/", enginetest.ReadFile(t, testpaths.Shared("bench", "accounts.yaml")))
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	if _, err := zw.Write([]byte(`{"label":"` + strings.Repeat("x", 64<<20) + `"}`)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	account := enginetest.ReadFile(t, testpaths.Shared("bench", "bodies", "account-10.json"))
	for _, tc := range []struct {
		name, path, coding string
		body               []byte
		want               int
	}{
		{"gzip to a dynamic operation", "/accounts", "gzip", bomb.Bytes(), http.StatusUnsupportedMediaType},
		{"gzip to the management API", "/admin/v1/dynamic-endpoints", "gzip", bomb.Bytes(), http.StatusUnsupportedMediaType},
		{"br, listed after identity", "/accounts", "identity, br", account, http.StatusUnsupportedMediaType},
		{"identity", "/accounts", "identity", account, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodPost, Path: tc.path, Body: tc.body,
				Header: map[string]string{"Content-Type": "application/json", "Content-Encoding": tc.coding}})
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want == http.StatusUnsupportedMediaType && !enginetest.HasViolation(r.Problem(t), "header", "/Content-Encoding", "unsupported") {
				t.Errorf("no violation naming the Content-Encoding header: %s", r.Body)
			}
		})
	}
}
