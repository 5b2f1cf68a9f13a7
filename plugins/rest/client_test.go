package rest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// countingBackend answers okEnvelope and counts the connections it
// accepted and the requests it answered.
type countingBackend struct {
	*httptest.Server
	conns, calls atomic.Int64
}

func newCountingBackend(t *testing.T, answer http.HandlerFunc) *countingBackend {
	t.Helper()
	b := &countingBackend{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		answer(w, r)
	}))
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func okAnswer(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, okEnvelope)
}

// TestConnectionsKeptAlive checks that calls one after the other share one
// connection to the back end.
func TestConnectionsKeptAlive(t *testing.T) {
	c, _ := newConnector(t, Options{})
	be := newCountingBackend(t, okAnswer)
	inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
	for range 20 {
		if _, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u")); err != nil {
			t.Fatal(err)
		}
	}
	if n := be.conns.Load(); n != 1 {
		t.Fatalf("20 calls opened %d connections, want 1", n)
	}
}

// TestConnectionClosedByBackend checks a call after the back end closed
// the kept-alive connection: it succeeds on a new connection, and the back
// end sees it once, whether or not it may be sent twice.
func TestConnectionClosedByBackend(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *connector.Method
		args []any
	}{
		{"idempotent", getAccounts, []any{"b", "u"}},
		{"not idempotent", createThing, []any{"b", map[string]any{"x": 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newConnector(t, Options{Retries: -1})
			be := newCountingBackend(t, okAnswer)
			inv := prepare(t, c, tc.m, connector.Params{"url": be.URL})
			for i := range 3 {
				if _, err := invoke(inv, builtinRequest(tc.m, "b", tc.args...)); err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
				be.CloseClientConnections()
			}
			if n := be.calls.Load(); n != 3 {
				t.Fatalf("the back end answered %d requests for 3 calls", n)
			}
		})
	}
}

// TestUserInfoIsBasicCredentials checks that the url's user info is sent
// as Basic credentials, unless the routing sets Authorization itself.
func TestUserInfoIsBasicCredentials(t *testing.T) {
	c, _ := newConnector(t, Options{})
	for _, tc := range []struct {
		name   string
		header string
		want   string
	}{
		{"from the url", "", "Basic c3ZjOnBhNTU="},
		{"the routing's own", "Bearer k", "Bearer k"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newBackend(t, reply(http.StatusOK, okEnvelope))
			params := connector.Params{"url": strings.Replace(be.URL, "http://", "http://svc:pa55@", 1)}
			if tc.header != "" {
				params["header.Authorization"] = tc.header
			}
			if _, err := invoke(prepare(t, c, getAccounts, params), builtinRequest(getAccounts, "b", "b", "u")); err != nil {
				t.Fatal(err)
			}
			if got := be.last(t).header.Get("Authorization"); got != tc.want {
				t.Fatalf("Authorization %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAnswerTooLarge checks the bound on a back end's answer.
func TestAnswerTooLarge(t *testing.T) {
	c, _ := newConnector(t, Options{})
	be := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(make([]byte, maxAnswer+1))
	})
	inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "retries": "0"})
	_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
	if e := wantError(t, err, http.StatusBadGateway, engine.CodeInvalidResult); !strings.Contains(e.Message, "more than 16 MiB") {
		t.Fatalf("message %q", e.Message)
	}
}

// TestTLSBackend checks https back ends: the certificate is verified
// against the system's roots unless Options.TLS names others.
func TestTLSBackend(t *testing.T) {
	be := httptest.NewTLSServer(http.HandlerFunc(okAnswer))
	t.Cleanup(be.Close)
	roots := x509.NewCertPool()
	roots.AddCert(be.Certificate())

	t.Run("unknown authority", func(t *testing.T) {
		c, _ := newConnector(t, Options{Retries: -1})
		_, err := invoke(prepare(t, c, getAccounts, connector.Params{"url": be.URL}), builtinRequest(getAccounts, "b", "b", "u"))
		if e := wantError(t, err, http.StatusBadGateway, engine.CodeBackendUnreachable); !strings.Contains(e.Message, "TLS handshake failed") {
			t.Fatalf("message %q", e.Message)
		}
	})
	t.Run("trusted root", func(t *testing.T) {
		c, _ := newConnector(t, Options{TLS: &tls.Config{RootCAs: roots}})
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		for range 3 {
			res, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(res.Data); got != "[map[account_id:a-1]]" {
				t.Fatalf("data %s", got)
			}
		}
	})
}

// TestRequestsWithoutBody checks dynamic operations that send no body:
// no Content-Type or body goes out, and a HEAD answer, which announces a
// length it does not send, is read without waiting for it.
func TestRequestsWithoutBody(t *testing.T) {
	c, _ := newConnector(t, Options{})
	be := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		_, _ = io.WriteString(w, "{}")
	})
	for _, method := range []string{http.MethodGet, http.MethodDelete, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			inv := prepare(t, c, showPet, connector.Params{"url": be.URL, "timeout": "2s"})
			res, err := invoke(inv, dynamicRequest(petOperation(method), "1", "", nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			if res.Reply == nil || res.Reply.Status != http.StatusOK {
				t.Fatalf("reply %+v", res.Reply)
			}
			got := be.last(t)
			if got.method != method || len(got.body) != 0 || got.header.Get("Content-Type") != "" {
				t.Fatalf("%s with body %q and Content-Type %q", got.method, got.body, got.header.Get("Content-Type"))
			}
		})
	}
}
