package connector_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// callingScripts compiles a body "method:thing" into a script that calls
// connector method "method" with ("bank-1", thing) through the Caller the
// dispatcher hands it when it opens, as connector.call does, and answers
// what it got.
type callingScripts struct{ caller connector.Caller }

func (c *callingScripts) Open(_ context.Context, env connector.Env) error {
	c.caller = env.Caller
	return nil
}

func (c *callingScripts) Compile(_ *connector.Method, body string, _ time.Duration) (connector.Invoker, error) {
	method, thing, _ := strings.Cut(body, ":")
	return connector.InvokerFunc(func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
		out, err := c.caller.CallMethod(ctx, req, method, []any{"bank-1", thing})
		if err != nil {
			return nil, err
		}
		return &connector.Result{Data: out}, nil
	}), nil
}

// getOwner is a built-in method the rules read.
var getOwner = &connector.Method{Name: "getOwner", Args: []connector.Arg{{Name: "bankId"}, {Name: "thingId"}}}

// thingRules let a script's call reach thing "mine" only, after reading
// its owner one level deeper, and note what they were asked.
type thingRules struct{ asked []string }

func (r *thingRules) Call(ctx context.Context, req *connector.Request, read connector.Reader,
	call func() (*connector.Result, error)) (*connector.Result, error) {
	r.asked = append(r.asked, req.Method.Name)
	if req.Args[1] != "mine" {
		return nil, engine.Errorf(http.StatusForbidden, engine.CodeForbidden, "not the caller's thing")
	}
	owner, err := read(ctx, "getOwner", "bank-1", "mine")
	if err != nil {
		return nil, err
	}
	if got := owner.Data.(map[string]any)["args"].([]any); got[1] != "mine" {
		return nil, engine.Errorf(http.StatusInternalServerError, engine.CodeInternal, "read %v", got)
	}
	return call()
}

// TestScriptCallsPassRules: a script's connector.call of a built-in method
// (its own included) passes the rules for its caller, unless the script is
// unrestricted; a dynamic operation's own method needs none.
func TestScriptCallsPassRules(t *testing.T) {
	ctx := context.Background()
	rules := &thingRules{}
	d, err := connector.New(connector.Options{Store: openStore(t), Scripts: &callingScripts{}, Methods: []*connector.Method{getThing, getOwner},
		Connectors: namedConnectors(t, "mapped"), Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Open(ctx, served{"showPetById"}); err != nil {
		t.Fatal(err)
	}
	script := func(method, body string, unrestricted bool) string {
		s, err := d.CreateScript(ctx, connector.MethodScript{MethodName: method, MethodBody: body, ProgrammingLang: "js",
			UnrestrictedConnectorCalls: unrestricted}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	call := func() (*connector.Result, error) {
		return d.Call(ctx, &engine.Call{Principal: &engine.Principal{UserID: "u1"}}, "getThing", "bank-1", "bank-1", "x")
	}

	id := script("getThing", "getThing:theirs", false)
	if _, err := call(); err == nil || engine.AsError(err).Status != http.StatusForbidden {
		t.Fatalf("another's thing through the script's own method: %v", err)
	}
	if _, err := d.UpdateScript(ctx, id, connector.MethodScript{MethodBody: "getThing:mine", ProgrammingLang: "js"}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := call()
	if err != nil {
		t.Fatalf("the caller's own thing: %v", err)
	}
	if got := res.Data.(map[string]any)["args"]; got.([]any)[1] != "mine" {
		t.Errorf("answered %v", got)
	}
	if len(rules.asked) != 2 {
		t.Errorf("rules asked %v, want getThing twice", rules.asked)
	}

	rules.asked = nil
	if _, err := d.UpdateScript(ctx, id, connector.MethodScript{MethodBody: "getThing:theirs", ProgrammingLang: "js",
		UnrestrictedConnectorCalls: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := call(); err != nil {
		t.Fatalf("an unrestricted script: %v", err)
	}
	if len(rules.asked) != 0 {
		t.Errorf("rules asked %v for an unrestricted script", rules.asked)
	}
	if s, _ := d.Script(id); !s.UnrestrictedConnectorCalls {
		t.Error("the opt-out is not kept")
	}

	script("showPetById", "showPetById:theirs", false)
	op := &connector.Method{Name: "showPetById", Dynamic: true}
	_, err = d.Invoke(ctx, &connector.Request{Method: op, Call: &engine.Call{}, Default: connector.InvokerFunc(
		func(context.Context, *connector.Request) (*connector.Result, error) {
			return &connector.Result{Data: "pet"}, nil
		})})
	if err != nil || len(rules.asked) != 0 {
		t.Errorf("a dynamic operation's own method: %v, rules asked %v", err, rules.asked)
	}
}
