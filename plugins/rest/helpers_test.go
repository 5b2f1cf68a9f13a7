package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/specs"
)

var (
	getAccounts = &connector.Method{Name: "getAccounts", Idempotent: true,
		Args: []connector.Arg{{Name: "bankId"}, {Name: "userId"}}}
	createThing = &connector.Method{Name: "createThing",
		Args: []connector.Arg{{Name: "bankId"}, {Name: "thing"}}}
	showPet = &connector.Method{Name: "showPetById", Dynamic: true, Args: []connector.Arg{{Name: "request"}}}
)

// okEnvelope is OBP's inbound message with data and no error.
const okEnvelope = `{"inboundAdapterCallContext":{"correlationId":"corr-1","generalContext":[]},` +
	`"status":{"errorCode":"","backendMessages":[]},"data":[{"account_id":"a-1"}]}`

// recorded is one request a back end received.
type recorded struct {
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
}

// backend is a fake back end that records requests and answers with
// answer, given the 1-based number of the request.
type backend struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	calls  atomic.Int64
	answer atomic.Pointer[func(w http.ResponseWriter, r *http.Request, n int)]
}

func newBackend(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, n int)) *backend {
	t.Helper()
	b := &backend{}
	b.setAnswer(answer)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(b.calls.Add(1))
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.reqs = append(b.reqs, recorded{method: r.Method, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery,
			header: r.Header.Clone(), body: body})
		b.mu.Unlock()
		(*b.answer.Load())(w, r, n)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) setAnswer(f func(w http.ResponseWriter, r *http.Request, n int)) {
	b.answer.Store(&f)
}

func (b *backend) last(t testing.TB) recorded {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatal("the back end received no request")
	}
	return b.reqs[len(b.reqs)-1]
}

// reply answers with a status and a JSON body.
func reply(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// newConnector is a connector with quick retries and a fake clock for the
// breakers.
func newConnector(t testing.TB, o Options) (*Connector, *authtest.Clock) {
	t.Helper()
	if o.Backoff == 0 {
		o.Backoff = time.Millisecond
	}
	c := New(o)
	clk := authtest.NewClock()
	c.now = clk.Now
	return c, clk
}

func prepare(t testing.TB, c *Connector, m *connector.Method, params connector.Params) connector.Invoker {
	t.Helper()
	inv, err := c.Prepare(m, params)
	if err != nil {
		t.Fatalf("Prepare(%s, %v): %v", m.Name, params, err)
	}
	return inv
}

// caller is alice, calling through consumer c-1.
func newCall() *engine.Call {
	return &engine.Call{CorrelationID: "corr-1",
		Principal: &engine.Principal{UserID: "u-1", Username: "alice", ConsumerID: "c-1"}}
}

func builtinRequest(m *connector.Method, bank string, args ...any) *connector.Request {
	return &connector.Request{Method: m, BankID: bank, Args: args, Call: newCall()}
}

// httpRequest is a fake engine.HTTPRequest.
type httpRequest struct {
	method, path, query string
	header              map[string]string
}

func (h httpRequest) Method() string   { return h.method }
func (h httpRequest) Path() string     { return h.path }
func (h httpRequest) RawQuery() string { return h.query }
func (h httpRequest) Header(name string) (string, bool) {
	v, ok := h.header[textproto.CanonicalMIMEHeaderKey(name)]
	return v, ok
}

// pathValues are fake engine.PathValues.
type pathValues []string

func (p pathValues) Len() int           { return len(p) }
func (p pathValues) Value(i int) string { return p[i] }

// petOperation is a dynamic operation with one path parameter.
func petOperation(method string) *specs.Operation {
	return &specs.Operation{ID: "showPetById", Method: method, Path: "/pets/{petId}",
		Params: []*specs.Parameter{{Name: "limit", In: "query"}, {Name: "petId", In: "path", PathIndex: 0}}}
}

func dynamicRequest(op *specs.Operation, petID, query string, body any, header map[string]string) *connector.Request {
	call := newCall()
	call.OperationID = op.ID
	call.Path = pathValues{petID}
	call.Body = body
	call.HTTP = httpRequest{method: op.Method, path: "/v1/pets/" + petID, query: query, header: header}
	return &connector.Request{Method: showPet, Args: []any{connector.RequestArg(call, op)}, Call: call, Operation: op}
}

// wantError checks err is an *engine.Error with status and code.
func wantError(t testing.TB, err error, status int, code string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *engine.Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %s %q, want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

func invoke(inv connector.Invoker, req *connector.Request) (*connector.Result, error) {
	return inv.Invoke(context.Background(), req)
}
