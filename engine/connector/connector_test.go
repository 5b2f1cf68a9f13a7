package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

// named answers every method with the connector's name and the call's
// arguments, so tests see who answered.
type named string

func (n named) Prepare(m *connector.Method, params connector.Params) (connector.Invoker, error) {
	if params["fail"] != "" {
		return nil, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest, "bad parameter fail")
	}
	return connector.InvokerFunc(func(_ context.Context, req *connector.Request) (*connector.Result, error) {
		return &connector.Result{Data: map[string]any{"by": string(n), "args": req.Args}}, nil
	}), nil
}

// namedConnectors registers a named connector under each name.
func namedConnectors(t testing.TB, names ...string) *connector.Registry {
	t.Helper()
	reg := &connector.Registry{}
	for _, n := range names {
		if err := reg.Register(n, named(n)); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// echoScripts compiles a body into a script answering {"by": "script:"+body}.
type echoScripts struct{}

type echoScript struct{ body string }

func (echoScripts) Compile(_ *connector.Method, body string, timeout time.Duration) (connector.Invoker, error) {
	if strings.Contains(body, "syntax error") {
		return nil, engine.Errorf(http.StatusBadRequest, "invalid_script", "line 1, column 1: syntax error")
	}
	return echoScript{body}, nil
}

func (s echoScript) Invoke(context.Context, *connector.Request) (*connector.Result, error) {
	if s.body == "bad shape" {
		return &connector.Result{Data: map[string]any{"by": 42}}, nil
	}
	return &connector.Result{Data: map[string]any{"by": "script:" + s.body}}, nil
}

var getThing = &connector.Method{Name: "getThing", Idempotent: true,
	Args:        []connector.Arg{{Name: "bankId"}, {Name: "thingId"}},
	Data:        map[string]any{"type": "object", "required": []any{"by"}, "properties": map[string]any{"by": map[string]any{"type": "string"}}},
	DataExample: map[string]any{"by": "mock"}}

func openStore(t testing.TB) engine.Store {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// served are the ids of the dynamic operations a test serves.
type served []string

func (s served) Serves(id string) bool { return slices.Contains(s, id) }

// withHost registers fixedHost("host") and the obp_mock connector in reg,
// both OperationConnectors.
func withHost(t testing.TB, reg *connector.Registry) *connector.Registry {
	t.Helper()
	if err := errors.Join(reg.Register("host", fixedHost("host")), reg.Register(mock.Host, mock.Connector{})); err != nil {
		t.Fatal(err)
	}
	return reg
}

// newDispatcher opens and boots a dispatcher on store, as a start does.
func newDispatcher(t *testing.T, store engine.Store) *connector.Dispatcher {
	t.Helper()
	d, err := connector.New(connector.Options{Store: store, Scripts: echoScripts{}, Methods: []*connector.Method{getThing},
		Connectors: withHost(t, namedConnectors(t, "mapped", "rest"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Open(context.Background(), served{"showPetById", "getThing"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

func answeredBy(t *testing.T, d *connector.Dispatcher, bankID string) string {
	t.Helper()
	res, err := d.Call(context.Background(), &engine.Call{}, "getThing", bankID, bankID, "t1")
	if err != nil {
		t.Fatalf("call at %q: %v", bankID, err)
	}
	return res.Data.(map[string]any)["by"].(string)
}

func TestResolutionOrder(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	d := newDispatcher(t, store)
	if got := answeredBy(t, d, "any"); got != "mapped" {
		t.Fatalf("default: %s", got)
	}
	if _, err := d.CreateScript(ctx, connector.MethodScript{MethodName: "getThing", MethodBody: "js", ProgrammingLang: "js"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []connector.Routing{
		{MethodName: "getThing", ConnectorName: "rest", BankIDPattern: "retail-.*"},
		{MethodName: "getThing", ConnectorName: "mock", BankIDPattern: "retail-1", IsBankIDExactMatch: true},
		{MethodName: "getThing", ConnectorName: "mapped", BankIDPattern: "retail-.*"},
	} {
		if _, err := d.CreateRouting(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ bank, want string }{
		{"retail-2", "rest"},       // the first pattern, oldest first
		{"retail-1", "mock"},       // the exact match first
		{"xretail-2", "script:js"}, // patterns are anchored
		{"corp", "script:js"},
	} {
		t.Run(c.bank, func(t *testing.T) {
			res, err := d.Call(ctx, &engine.Call{}, "getThing", c.bank, c.bank)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Data.(map[string]any)["by"]; got != c.want {
				t.Fatalf("answered by %q (%v), want %q", got, res.Data, c.want)
			}
		})
	}
	// Restart: the same table is rebuilt from the store.
	d2 := newDispatcher(t, store)
	if got := answeredBy(t, d2, "retail-2"); got != "rest" {
		t.Fatalf("after reload: %s", got)
	}
}

func TestRefusedChangesChangeNothing(t *testing.T) {
	ctx := context.Background()
	d := newDispatcher(t, openStore(t))
	for _, c := range []struct {
		name    string
		routing connector.Routing
		code    string
	}{
		{"unknown method", connector.Routing{MethodName: "nope", ConnectorName: "rest"}, connector.CodeUnknownMethod},
		{"unknown connector", connector.Routing{MethodName: "getThing", ConnectorName: "kafka"}, connector.CodeUnknownConnector},
		{"bad regex", connector.Routing{MethodName: "getThing", ConnectorName: "rest", BankIDPattern: "(("}, connector.CodeInvalidPattern},
		{"connector refuses its parameters", connector.Routing{MethodName: "getThing", ConnectorName: "rest",
			Parameters: []connector.KeyValue{{Key: "fail", Value: "1"}}}, engine.CodeBadRequest},
		{"parameters to an operation connector", connector.Routing{MethodName: "showPetById", ConnectorName: "host",
			Parameters: []connector.KeyValue{{Key: "url", Value: "x"}}}, engine.CodeBadRequest},
		{"an operation connector for a built-in method", connector.Routing{MethodName: "getThing", ConnectorName: "host"}, engine.CodeBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.CreateRouting(ctx, c.routing, nil)
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("error %v, want code %s", err, c.code)
			}
		})
	}
	if _, err := d.CreateScript(ctx, connector.MethodScript{MethodName: "getThing", MethodBody: "syntax error"}, nil); err == nil {
		t.Fatal("a script that does not compile was stored")
	}
	if n := len(d.Routings("")) + len(d.Scripts()); n != 0 {
		t.Fatalf("%d changes kept after refusals", n)
	}
	if got := answeredBy(t, d, "x"); got != "mapped" {
		t.Fatalf("answered by %s after refusals", got)
	}
}

func TestUntrustedDataIsChecked(t *testing.T) {
	ctx := context.Background()
	d := newDispatcher(t, openStore(t))
	if _, err := d.CreateScript(ctx, connector.MethodScript{MethodName: "getThing", MethodBody: "bad shape"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := d.Call(ctx, &engine.Call{}, "getThing", "b", "b")
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadGateway || e.Code != engine.CodeInvalidResult ||
		len(e.Violations) != 1 || e.Violations[0].Pointer != "/by" {
		t.Fatalf("error %+v, want a 502 naming /by", err)
	}
}

// TestOutboundMessage: the outbound message carries the call context, the
// consent the call is made under (OBP's outboundAdapterConsenterInfo and
// dynapi's consent), then the method's arguments in order.
func TestOutboundMessage(t *testing.T) {
	p := &engine.Principal{UserID: "u-1", Username: "alice", ConsumerID: "k-1"}
	expires := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	grant := &engine.ConsentGrant{ID: "c-9", Standard: "uk-ob", Version: "4.0", Kind: "account-access", Status: "authorised",
		UserID: "u-1", ConsumerID: "k-1", Permissions: []string{"ReadBalances"}, Accounts: []string{"a-1"}, ExpiresAt: &expires}
	callContext := `{"correlationId":"c-1","consumerId":"k-1","generalContext":[],` +
		`"outboundAdapterAuthInfo":{"userId":"u-1","username":"alice","userAuthContext":[]}`
	for _, tc := range []struct {
		name string
		call *engine.Call
		want string
	}{
		{"no consent", &engine.Call{CorrelationID: "c-1", Principal: p},
			`{"outboundAdapterCallContext":` + callContext + `},"bankId":"bank-1","thingId":"t-9"}`},
		{"under a consent", &engine.Call{CorrelationID: "c-1", Principal: p, Consent: grant},
			`{"outboundAdapterCallContext":` + callContext + `,"outboundAdapterConsenterInfo":{"userId":"u-1","userAuthContext":[]},` +
				`"consent":{"id":"c-9","standard":"uk-ob","version":"4.0","type":"account-access","status":"authorised","psu_user_id":"u-1",` +
				`"client_id":"k-1","permissions":["ReadBalances"],"accounts":["a-1"],"expires_at":"2027-01-02T03:04:05Z"}},"bankId":"bank-1","thingId":"t-9"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := connector.Outbound(&connector.Request{Method: getThing, Call: tc.call, Args: []any{"bank-1", "t-9"}})
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Fatalf("outbound\n%s\nwant\n%s", raw, tc.want)
			}
			if !json.Valid(raw) {
				t.Fatal("not JSON")
			}
		})
	}
}

func TestDecodeBody(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"return+1%3B", "return 1;"},
		{"return 1;", "return 1;"},
		{"return a % b;", "return a % b;"},
		{"return(a%b)", "return(a%b)"}, // does not decode: kept
		{"return[1]", "return[1]"},
	} {
		t.Run(c.in, func(t *testing.T) {
			if got := connector.DecodeBody(c.in); got != c.want {
				t.Fatalf("DecodeBody(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestRecursionIsBounded(t *testing.T) {
	d := newDispatcher(t, openStore(t))
	_, err := d.Invoke(context.Background(), &connector.Request{Method: getThing, Depth: connector.MaxDepth + 1})
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != http.StatusLoopDetected {
		t.Fatalf("error %v", err)
	}
}

// fixedReply answers every call of a dynamic operation's host.
type fixedReply string

func (f fixedReply) Invoke(context.Context, *connector.Request) (*connector.Result, error) {
	return &connector.Result{Reply: &engine.Reply{Status: http.StatusOK, Body: []byte(f)}}, nil
}

// fixedHost is an OperationConnector answering every operation with its
// name; it answers no built-in method.
type fixedHost string

func (f fixedHost) Prepare(m *connector.Method, _ connector.Params) (connector.Invoker, error) {
	return nil, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest, "%s answers operations only, not %s", f, m.Name)
}

func (f fixedHost) PrepareOperation(*specs.Document, *specs.Operation) (connector.Invoker, error) {
	return fixedReply(f), nil
}

// operationInvoker prepares op's invoker with the connector named host.
func operationInvoker(t *testing.T, d *connector.Dispatcher, host string, op *specs.Operation) engine.Invoker {
	t.Helper()
	inv, err := d.OperationInvoker(host, &specs.Document{}, op)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestDynamicOperationNames(t *testing.T) {
	ctx := context.Background()
	d := newDispatcher(t, openStore(t))
	for _, c := range []struct{ id, name string }{
		{"showPetById", "showPetById"},
		{"getThing", "dynamic:getThing"}, // a built-in method's name
	} {
		t.Run(c.id, func(t *testing.T) {
			if got := d.DynamicName(c.id); got != c.name {
				t.Fatalf("DynamicName(%q) = %q, want %q", c.id, got, c.name)
			}
			inv := operationInvoker(t, d, "host", &specs.Operation{ID: c.id, Method: "GET", Path: "/x"})
			call := &engine.Call{}
			if r, err := inv.Invoke(ctx, call); err != nil || string(r.Body) != "host" {
				t.Fatalf("unrouted: %v %v", r, err)
			}
			if _, err := d.CreateScript(ctx, connector.MethodScript{MethodName: c.name, MethodBody: c.id}, nil); err != nil {
				t.Fatal(err)
			}
			r, err := inv.Invoke(ctx, call)
			if err != nil || string(r.Body) != `{"by":"script:`+c.id+`"}` {
				t.Fatalf("scripted: %s %v", r.Body, err)
			}
		})
	}
	if got := answeredBy(t, d, "b"); got != "mapped" {
		t.Fatalf("the built-in getThing is answered by %s; a dynamic operation's script must not take it", got)
	}
}

// argScripts compiles a body into a script that says whether it was given
// arguments; it reads them only when its body is "reads".
type argScripts struct{}

type argScript struct{ reads bool }

func (argScripts) Compile(_ *connector.Method, body string, _ time.Duration) (connector.Invoker, error) {
	return argScript{reads: body == "reads"}, nil
}

func (s argScript) ReadsArgs() bool { return s.reads }

func (s argScript) Invoke(_ context.Context, req *connector.Request) (*connector.Result, error) {
	return &connector.Result{Data: map[string]any{"by": "script", "args": len(req.Args)}}, nil
}

// A dynamic operation's request argument is built only for an invoker
// that may read it.
func TestDynamicArgsBuiltWhenRead(t *testing.T) {
	ctx := context.Background()
	d, err := connector.New(connector.Options{Store: openStore(t), Scripts: argScripts{},
		Connectors: withHost(t, namedConnectors(t, "mapped", "plugin"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Open(ctx, served{"showPetById"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	inv := operationInvoker(t, d, "host", &specs.Operation{ID: "showPetById", Method: "GET", Path: "/x"})
	for _, c := range []struct {
		name, body string
		routing    string // a bank id routing to the plugin connector; "" for none
		bank       string
		want       string
	}{
		{name: "script that never names its arguments", body: "ignores", want: `{"args":0,"by":"script"}`},
		{name: "script that reads its arguments", body: "reads", want: `{"args":1,"by":"script"}`},
		{name: "connector that cannot tell", body: "ignores", routing: "b1", bank: "b1",
			want: `{"args":[{"body":null,"headers":{},"path":{},"query":{}}],"by":"plugin"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range d.Scripts() {
				if err := d.DeleteScript(ctx, s.ID, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.CreateScript(ctx, connector.MethodScript{MethodName: "showPetById", MethodBody: c.body}, nil); err != nil {
				t.Fatal(err)
			}
			if c.routing != "" {
				if _, err := d.CreateRouting(ctx, connector.Routing{MethodName: "showPetById", ConnectorName: "plugin",
					BankIDPattern: c.routing, IsBankIDExactMatch: true}, nil); err != nil {
					t.Fatal(err)
				}
			}
			r, err := inv.Invoke(ctx, &engine.Call{BankID: c.bank})
			if err != nil || string(r.Body) != c.want {
				t.Fatalf("answer %s %v, want %s", r.Body, err, c.want)
			}
		})
	}
}
