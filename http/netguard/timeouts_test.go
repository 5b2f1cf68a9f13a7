package netguard

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// The timeouts here are hours long and the sweeps are called by hand at
// chosen times: the listener's own ticks (at the real time) never reach a
// deadline, so what is cut off, and when, is decided by the test alone.
var hours = Timeouts{Header: time.Hour, Idle: 2 * time.Hour, Write: time.Hour}

// guarded is one connection of a Listener with timeouts t: the server's
// end, the client's, and the time the listener started at.
func guarded(t *testing.T, to Timeouts) (*Listener, *Conn, net.Conn, time.Time) {
	t.Helper()
	start := time.Now()
	ln := listen(t)
	l := Listen(ln, Config{Logger: quiet, Timeouts: to})
	t.Cleanup(func() { _ = l.Close() })
	client := dial(t, "127.0.0.1", ln.Addr().String())
	server := (<-accept(l)).(*Conn)
	t.Cleanup(func() { _ = server.Close() })
	return l, server, client, start
}

// exchange has the client send a request's first bytes and the server
// read them, then answer.
func exchange(t *testing.T, server *Conn, client net.Conn) {
	t.Helper()
	if _, err := client.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Read(make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Write([]byte("200")); err != nil {
		t.Fatal(err)
	}
}

// pendingRead starts a read on c and waits until it is pending; the
// channel gives its error once it returns.
func pendingRead(t *testing.T, c *Conn) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 64))
		done <- err
	}()
	waitFor(t, "the read to be pending", func() bool { return c.readBy.Load() != 0 })
	return done
}

// waitFor polls cond (a state another goroutine reaches) for up to 2s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling another goroutine's state, not a wait for time to pass
	}
}

// cutOff reports whether a pending read or write, whose result done gives,
// failed as a timeout within wait; false when it is still pending. A cut
// is looked for for seconds, its absence for a moment (a late cut would
// fail the next check).
func cutOff(t *testing.T, done <-chan error, wait time.Duration) bool {
	t.Helper()
	select {
	case err := <-done:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("the read or write ended with %v, want a timeout", err)
		}
		return true
	case <-time.After(wait):
		return false
	}
}

// cutBetween checks that the pending read or write whose result done gives
// is not cut off by a sweep at before, and is by one at after.
func cutBetween(t *testing.T, l *Listener, done <-chan error, before, after time.Time) {
	t.Helper()
	l.sweep(before)
	if cutOff(t, done, expectNone) {
		t.Fatalf("cut off at %v, before its deadline", before)
	}
	l.sweep(after)
	if !cutOff(t, done, expectCut) {
		t.Fatalf("not cut off at %v, after its deadline", after)
	}
}

// Waits of cutOff: for a cut expected, and for one that must not come.
const (
	expectCut  = 5 * time.Second
	expectNone = 50 * time.Millisecond
)

func TestTimeouts(t *testing.T) {
	t.Run("a request read too slowly is cut off after the header timeout", func(t *testing.T) {
		l, server, _, start := guarded(t, hours)
		done := pendingRead(t, server)
		cutBetween(t, l, done, start.Add(59*time.Minute), start.Add(61*time.Minute))
	})
	t.Run("after an answer, the wait for the next request has the idle timeout", func(t *testing.T) {
		l, server, client, start := guarded(t, hours)
		exchange(t, server, client)
		done := pendingRead(t, server)
		cutBetween(t, l, done, start.Add(90*time.Minute), start.Add(121*time.Minute)) // past the header timeout
	})
	t.Run("the first bytes of the next request start its header timeout", func(t *testing.T) {
		l, server, client, start := guarded(t, Timeouts{Header: time.Hour, Idle: time.Minute})
		if _, err := server.Write([]byte("200")); err != nil {
			t.Fatal(err)
		}
		l.sweep(start.Add(30 * time.Second)) // the clock the next bytes are stamped with
		if _, err := client.Write([]byte("GET")); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Read(make([]byte, 64)); err != nil {
			t.Fatal(err)
		}
		done := pendingRead(t, server)
		cutBetween(t, l, done, start.Add(50*time.Minute), start.Add(62*time.Minute)) // long past the idle timeout
	})
	t.Run("a read deadline takes the place of the timeouts until cleared", func(t *testing.T) {
		l, server, _, start := guarded(t, hours)
		_ = server.SetReadDeadline(start.Add(3 * time.Hour))
		done := pendingRead(t, server)
		l.sweep(start.Add(2 * time.Hour))
		if cutOff(t, done, expectNone) {
			t.Fatal("cut off by the header timeout despite a later read deadline")
		}
		_ = server.SetReadDeadline(time.Time{})
		l.sweep(start.Add(2 * time.Hour))
		if !cutOff(t, done, expectCut) {
			t.Fatal("the header timeout did not hold again once the read deadline was cleared")
		}
	})
	t.Run("a request being answered is not cut off", func(t *testing.T) {
		l, server, client, start := guarded(t, hours)
		if _, err := client.Write([]byte("GET")); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Read(make([]byte, 64)); err != nil {
			t.Fatal(err)
		}
		l.sweep(start.Add(5 * time.Hour)) // a slow handler: nothing is pending
		if _, err := server.Write([]byte("200")); err != nil {
			t.Fatalf("the answer after a long handler: %v", err)
		}
		if b, err := io.ReadAll(io.LimitReader(client, 3)); err != nil || string(b) != "200" {
			t.Fatalf("client read %q, %v", b, err)
		}
	})
	t.Run("a write to a client that stops reading is cut off after the write timeout", func(t *testing.T) {
		l, server, client, start := guarded(t, hours)
		if err := client.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			t.Fatal(err)
		}
		if raw, err := server.Conn.(*net.TCPConn).SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096) })
		}
		done := make(chan error, 1)
		go func() {
			_, err := server.Write(make([]byte, 32<<20)) // more than the socket buffers hold
			done <- err
		}()
		waitFor(t, "the write to be pending", func() bool { return server.writeBy.Load() != 0 })
		cutBetween(t, l, done, start.Add(59*time.Minute), start.Add(61*time.Minute))
	})
	t.Run("without timeouts, nothing is cut off", func(t *testing.T) {
		l, server, _, start := guarded(t, Timeouts{})
		done := pendingRead(t, server)
		l.sweep(start.Add(1000 * time.Hour))
		if cutOff(t, done, expectNone) {
			t.Fatal("cut off without a timeout")
		}
	})
}

func TestTickFor(t *testing.T) {
	for _, tc := range []struct {
		to   Timeouts
		want time.Duration
	}{
		{Timeouts{}, maxTick},
		{Timeouts{Header: 5 * time.Second, Idle: time.Minute, Write: time.Minute}, maxTick},
		{Timeouts{Header: 800 * time.Millisecond}, 100 * time.Millisecond},
		{Timeouts{Idle: time.Hour, Write: 80 * time.Millisecond}, 10 * time.Millisecond},
		{Timeouts{Header: time.Millisecond}, minTick},
	} {
		if got := tickFor(tc.to); got != tc.want {
			t.Errorf("tickFor(%+v) = %v, want %v", tc.to, got, tc.want)
		}
	}
}

// TestSweepingEndsWithTheLastConnection: once the listener is closed, the
// sweeper keeps the timeouts of the connections still open, and stops with
// the last of them.
func TestSweepingEndsWithTheLastConnection(t *testing.T) {
	l, server, _, start := guarded(t, hours)
	_ = l.Close()
	if !l.sweep(start) {
		t.Fatal("sweeping stopped while a connection was open")
	}
	_ = server.Close()
	if l.sweep(start) {
		t.Fatal("sweeping went on after the listener and its last connection closed")
	}
}
