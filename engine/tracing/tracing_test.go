package tracing_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// backEnd is a REST back end that answers every call with an object and
// keeps the traceparent of each.
type backEnd struct {
	*httptest.Server
	mu      sync.Mutex
	parents []string
}

func newBackEnd(t *testing.T) *backEnd {
	b := &backEnd{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.parents = append(b.parents, r.Header.Get("traceparent"))
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"balance": "10.00"}`))
	}))
	t.Cleanup(b.Close)
	return b
}

// lastParent is the traceparent of the last call the back end received.
func (b *backEnd) lastParent(t *testing.T) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.parents) == 0 {
		t.Fatal("the back end received no call")
	}
	return b.parents[len(b.parents)-1]
}

// scriptBody answers viaScript after a call of a built-in method, which
// reads the store.
const scriptBody = `const banks = await connector.call("getBanks", []); return {banks: banks.length};`

// traced starts an engine whose spans go to a recorder, serving
// testdata/traced.json with viaRest routed to a REST back end and
// viaScript answered by a JavaScript connector method; off turns tracing
// off.
func traced(t *testing.T, off bool) (*enginetest.Engine, *tracetest.SpanRecorder, *backEnd) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	back := newBackEnd(t)
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) {
		c.Tracing = dynapi.TracingConfig{Provider: tp, Off: off}
		c.Connectors.FetchAllow = []string{strings.TrimPrefix(back.URL, "http://")}
	}))
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/traced.json"))
	inst.CreateRouting(t, map[string]any{"method_name": "viaRest", "connector_name": "rest",
		"parameters": []map[string]string{{"key": "url", "value": back.URL}}})
	// Nothing listens on port 9 (discard) of loopback.
	inst.CreateRouting(t, map[string]any{"method_name": "viaNowhere", "connector_name": "rest",
		"parameters": []map[string]string{{"key": "url", "value": "http://127.0.0.1:9"}}})
	inst.CreateScript(t, "viaScript", scriptBody, 0)
	inst.CreateScript(t, "viaFetch", `const r = await http.fetch("`+back.URL+`/balance"); return {status: r.status};`, 0)
	return inst, rec, back
}

// spanTree indexes the ended spans of one trace.
type spanTree struct {
	spans []sdktrace.ReadOnlySpan
}

// treeOf is the tree of the trace whose server span answered with
// correlation id cid.
func treeOf(t *testing.T, rec *tracetest.SpanRecorder, cid string) (*spanTree, sdktrace.ReadOnlySpan) {
	t.Helper()
	var root sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindServer && attr(s, tracing.CorrelationID) == cid {
			root = s
		}
	}
	if root == nil {
		t.Fatalf("no server span with correlation id %s among %d spans", cid, len(rec.Ended()))
	}
	tree := &spanTree{}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() == root.SpanContext().TraceID() {
			tree.spans = append(tree.spans, s)
		}
	}
	return tree, root
}

// tracedGet GETs path as the admin, requires a 200, and returns the tree
// of the request's trace and its server span.
func tracedGet(t *testing.T, inst *enginetest.Engine, rec *tracetest.SpanRecorder, path string) (*spanTree, sdktrace.ReadOnlySpan) {
	t.Helper()
	r := inst.Admin().Get(t, path)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	return treeOf(t, rec, r.Header.Get("X-Correlation-Id"))
}

// child is the one child of parent named name, failing the test when
// there is none.
func (tr *spanTree) child(t *testing.T, parent sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range tr.spans {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.Name() == name {
			return s
		}
	}
	t.Fatalf("span %q has no child %q; the trace: %s", parent.Name(), name, tr)
	return nil
}

// under tells whether s descends from ancestor.
func (tr *spanTree) under(s, ancestor sdktrace.ReadOnlySpan) bool {
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, x := range tr.spans {
		byID[x.SpanContext().SpanID()] = x
	}
	for p, ok := byID[s.Parent().SpanID()]; ok; p, ok = byID[p.Parent().SpanID()] {
		if p.SpanContext().SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
	}
	return false
}

func (tr *spanTree) String() string {
	var b strings.Builder
	for _, s := range tr.spans {
		b.WriteString("\n  " + s.Name() + " (" + s.SpanContext().SpanID().String() + " under " + s.Parent().SpanID().String() + ")")
	}
	return b.String()
}

// attr is the value of s's attribute key, as text; "" when s has none.
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

// callerTrace is the trace id and span id of the caller's traceparent.
const (
	callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID  = "00f067aa0ba902b7"
)

// TestRequestSpanTree: a call answered by a REST back end and one answered
// by a JavaScript connector method each make a server span named after
// the route, with guard, validation and connector spans below it; the
// REST call has a client span whose context the back end receives, and
// the script a script span whose built-in call reads the store. A caller's
// traceparent is continued.
func TestRequestSpanTree(t *testing.T) {
	t.Parallel()
	inst, rec, back := traced(t, false)

	t.Run("a REST back end, continuing the caller's trace", func(t *testing.T) {
		r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/traced/accounts/acc-42",
			Header: map[string]string{"traceparent": "00-" + callerTraceID + "-" + callerSpanID + "-01"}})
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		tree, root := treeOf(t, rec, r.Header.Get("X-Correlation-Id"))
		if got := root.SpanContext().TraceID().String(); got != callerTraceID {
			t.Errorf("trace id %s; want the caller's %s", got, callerTraceID)
		}
		if got := root.Parent().SpanID().String(); got != callerSpanID || !root.Parent().IsRemote() {
			t.Errorf("the request span's parent is %s (remote: %v); want the caller's %s", got, root.Parent().IsRemote(), callerSpanID)
		}
		for key, want := range map[attribute.Key]string{tracing.HTTPMethod: "GET", tracing.HTTPRoute: "/traced/accounts/{account_id}",
			tracing.HTTPStatusCode: "200", tracing.OperationID: "viaRest"} {
			if got := attr(root, key); got != want {
				t.Errorf("request span %s = %q; want %q", key, got, want)
			}
		}
		if root.Name() != "GET /traced/accounts/{account_id}" {
			t.Errorf("request span named %q; want the route template, never the path", root.Name())
		}
		tree.child(t, root, tracing.SpanGuard)
		tree.child(t, root, tracing.SpanValidate)
		call := tree.child(t, root, tracing.SpanConnector)
		if attr(call, tracing.Connector) != "rest" || attr(call, tracing.Method) != "viaRest" {
			t.Errorf("connector span says connector %q, method %q; want rest, viaRest", attr(call, tracing.Connector), attr(call, tracing.Method))
		}
		out := tree.child(t, call, http.MethodGet)
		if out.SpanKind() != trace.SpanKindClient || attr(out, tracing.HTTPStatusCode) != "200" {
			t.Errorf("outbound span: kind %s, status %q; want client, 200", out.SpanKind(), attr(out, tracing.HTTPStatusCode))
		}
		want := "00-" + callerTraceID + "-" + out.SpanContext().SpanID().String() + "-01"
		if got := back.lastParent(t); got != want {
			t.Errorf("the back end received traceparent %q; want %q (the outbound span's)", got, want)
		}
		for _, s := range tree.spans {
			for _, kv := range s.Attributes() {
				if v := kv.Value.String(); strings.Contains(v, "acc-42") || strings.Contains(v, inst.AdminToken()) {
					t.Errorf("span %s attribute %s = %q carries the path's id or the caller's token", s.Name(), kv.Key, v)
				}
			}
		}
	})

	t.Run("an unreachable back end", func(t *testing.T) {
		r := inst.Admin().Get(t, "/traced/nowhere")
		if r.Status != http.StatusBadGateway {
			t.Fatalf("%d %s; want 502", r.Status, r.Body)
		}
		tree, root := treeOf(t, rec, r.Header.Get("X-Correlation-Id"))
		out := tree.child(t, tree.child(t, root, tracing.SpanConnector), http.MethodGet)
		if out.Status().Code != codes.Error || attr(out, tracing.ErrorCode) != engine.CodeBackendUnreachable {
			t.Errorf("outbound span status %v, error code %q; want an error, %s", out.Status(), attr(out, tracing.ErrorCode), engine.CodeBackendUnreachable)
		}
		if got := attr(out, tracing.HTTPStatusCode); got != "" {
			t.Errorf("outbound span has status code %s; no answer arrived", got)
		}
		if root.Status().Code != codes.Error || attr(root, tracing.HTTPStatusCode) != "502" {
			t.Errorf("request span status %v, code %q; want an error, 502", root.Status(), attr(root, tracing.HTTPStatusCode))
		}
	})

	t.Run("a JavaScript connector method, in a new trace", func(t *testing.T) {
		tree, root := tracedGet(t, inst, rec, "/traced/script")
		if root.Parent().IsValid() || root.SpanContext().TraceID().String() == callerTraceID {
			t.Errorf("a request without traceparent continued trace %s", root.Parent().TraceID())
		}
		tree.child(t, root, tracing.SpanGuard)
		call := tree.child(t, root, tracing.SpanConnector)
		if attr(call, tracing.Connector) != "internal" {
			t.Errorf("connector span says connector %q; want internal", attr(call, tracing.Connector))
		}
		script := tree.child(t, call, tracing.SpanScript)
		builtin := tree.child(t, script, tracing.SpanConnector)
		if attr(builtin, tracing.Method) != "getBanks" || attr(builtin, tracing.Connector) != "mapped" {
			t.Errorf("the script's call is of method %q through %q; want getBanks through mapped", attr(builtin, tracing.Method),
				attr(builtin, tracing.Connector))
		}
		read := false
		for _, s := range tree.spans {
			read = read || s.Name() == tracing.SpanStoreView && tree.under(s, builtin)
		}
		if !read {
			t.Errorf("no store span under the script's call of getBanks; the trace: %s", tree)
		}
	})

	t.Run("a script's http.fetch", func(t *testing.T) {
		tree, root := tracedGet(t, inst, rec, "/traced/fetch")
		script := tree.child(t, tree.child(t, root, tracing.SpanConnector), tracing.SpanScript)
		out := tree.child(t, script, http.MethodGet)
		if out.SpanKind() != trace.SpanKindClient || attr(out, tracing.HTTPStatusCode) != "200" {
			t.Errorf("fetch span: kind %s, status %q; want client, 200", out.SpanKind(), attr(out, tracing.HTTPStatusCode))
		}
		want := "00-" + root.SpanContext().TraceID().String() + "-" + out.SpanContext().SpanID().String() + "-01"
		if got := back.lastParent(t); got != want {
			t.Errorf("the fetched host received traceparent %q; want %q (the fetch span's)", got, want)
		}
	})

	t.Run("a built-in method routed to obp_mock", func(t *testing.T) {
		id := inst.CreateRouting(t, map[string]any{"method_name": "getBanks", "connector_name": "obp_mock",
			"is_bank_id_exact_match": false, "bank_id_pattern": ".*"})
		defer inst.Admin().Delete(t, "/admin/v1/method-routings/"+id)
		tree, root := tracedGet(t, inst, rec, "/traced/script")
		script := tree.child(t, tree.child(t, root, tracing.SpanConnector), tracing.SpanScript)
		if got := attr(tree.child(t, script, tracing.SpanConnector), tracing.Connector); got != "obp_mock" {
			t.Errorf("the routed call went through %q; want obp_mock", got)
		}
	})

	t.Run("a management route", func(t *testing.T) {
		tree, root := tracedGet(t, inst, rec, "/admin/v1/method-routings")
		if root.Name() != "GET /admin/v1/method-routings" || attr(root, tracing.HTTPRoute) != "/admin/v1/method-routings" {
			t.Errorf("request span %q, route %q", root.Name(), attr(root, tracing.HTTPRoute))
		}
		tree.child(t, root, tracing.SpanGuard)
	})
}

// TestTracingOff: with tracing off no span is made, even with a provider
// and a caller's traceparent, and the back end receives no traceparent.
func TestTracingOff(t *testing.T) {
	t.Parallel()
	inst, rec, back := traced(t, true)
	r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/traced/accounts/acc-1",
		Header: map[string]string{"traceparent": "00-" + callerTraceID + "-" + callerSpanID + "-01"}})
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Get(t, "/traced/script"); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if n := len(rec.Ended()) + len(rec.Started()); n > 0 {
		t.Errorf("%d spans made with tracing off", n)
	}
	if got := back.lastParent(t); got != "" {
		t.Errorf("the back end received traceparent %q with tracing off", got)
	}
}

// TestEventDeliveryTraced: an event delivery, made by the worker and not
// by a request, is a trace of its own whose client span's context the
// receiver gets as its traceparent.
func TestEventDeliveryTraced(t *testing.T) {
	t.Parallel()
	inst, rec, _ := traced(t, false)
	receiver := newBackEnd(t)
	if r := inst.Admin().PostJSON(t, "/admin/v1/webhooks", map[string]any{"url": receiver.URL, "event_types": []string{"record.*"}}); r.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"Offer": {"properties": {"amount": {"type": "integer", "example": 1}}}}`)
	if r := inst.Admin().PostJSON(t, "/entities/Offer", map[string]any{"amount": 7}); r.Status != http.StatusCreated {
		t.Fatalf("create record: %d %s", r.Status, r.Body)
	}
	if _, err := inst.Events.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The worker may have taken the delivery before Drain did.
	var s sdktrace.ReadOnlySpan
	enginetest.WaitUntil(t, 10*time.Second, "the delivery's span ends", func() bool {
		for _, span := range rec.Ended() {
			if span.SpanKind() == trace.SpanKindClient && span.Name() == http.MethodPost {
				s = span
			}
		}
		return s != nil
	})
	want := "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
	if got := receiver.lastParent(t); got != want {
		t.Errorf("the receiver got traceparent %q; want the delivery span's %q", got, want)
	}
	if s.Parent().IsValid() {
		t.Errorf("the delivery span has parent %s; want a trace of its own", s.Parent().SpanID())
	}
	if attr(s, tracing.HTTPStatusCode) != "200" || attr(s, tracing.ServerAddress) != "127.0.0.1" {
		t.Errorf("delivery span status %q, server %q; want 200, 127.0.0.1", attr(s, tracing.HTTPStatusCode), attr(s, tracing.ServerAddress))
	}
}
