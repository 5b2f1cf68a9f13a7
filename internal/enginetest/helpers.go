package enginetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token calls with a DirectLogin token the test got itself (a login, a
// session it keeps), for callers that are no User.
func (e *Engine) Token(token string) Caller {
	return Caller{e: e, name: "token " + token, auth: DirectLogin(token)}
}

// JSONHeader is a header saying the body is JSON.
func JSONHeader() map[string]string { return map[string]string{"Content-Type": "application/json"} }

// MustJSON encodes v as JSON, failing the test when it cannot.
func MustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Addr serves the instance on a loopback listener, once, and returns its
// address (host:port), for tests that open connections of their own.
func (e *Engine) Addr(t testing.TB) string {
	t.Helper()
	return e.listen(t)
}

// LogBuffer is a log sink a test reads while the server writes to it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Record is the JSON log record with message msg and correlation id cid,
// nil when there is none; it fails the test on a line that is not JSON.
func (l *LogBuffer) Record(t testing.TB, msg, cid string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(l.String(), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		if r["msg"] == msg && r["correlation_id"] == cid {
			return r
		}
	}
	return nil
}

// WaitUntil polls cond until it holds, failing the test after limit; it is
// for what a real socket or a real timer decides, which no fake clock
// drives.
func WaitUntil(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		case <-tick.C:
		}
	}
}

// OpenConnections is the number of connections the instance's listener
// holds open, for tests that wait for the server to take or drop one.
func (e *Engine) OpenConnections() int32 { return e.Server.App().Server().GetOpenConnectionsCount() }
