package jsvm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// callerFunc adapts a function to connector.Caller.
type callerFunc func(ctx context.Context, parent *connector.Request, name string, args []any) (any, error)

func (f callerFunc) CallMethod(ctx context.Context, parent *connector.Request, name string, args []any) (any, error) {
	return f(ctx, parent, name, args)
}

// echoCaller answers every method with its name and arguments.
func echoCaller() connector.Caller {
	return callerFunc(func(_ context.Context, _ *connector.Request, name string, args []any) (any, error) {
		if args == nil {
			args = []any{}
		}
		return map[string]any{"method": name, "args": args}, nil
	})
}

// fakeEntities keeps records of entity "account" in memory and notes each
// operation with its principal and bank.
type fakeEntities struct {
	mu      sync.Mutex
	records map[string]map[string]any
	ops     []string
	err     error // returned by every operation when set
}

func newFakeEntities() *fakeEntities {
	return &fakeEntities{records: map[string]map[string]any{
		"a1": {"id": "a1", "balance": 100.0, "owner": "alice"},
		"a2": {"id": "a2", "balance": 50.0, "owner": "bob"},
	}}
}

func (f *fakeEntities) note(op string, p *engine.Principal, bankID, entity string) error {
	f.ops = append(f.ops, fmt.Sprintf("%s %s@%s %s", op, p.UserID, bankID, entity))
	return f.err
}

func (f *fakeEntities) Get(_ context.Context, p *engine.Principal, bankID, entity, id string) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.note("get", p, bankID, entity); err != nil {
		return nil, err
	}
	r, ok := f.records[id]
	if !ok {
		return nil, engine.Errorf(404, engine.CodeNotFound, "no %s %s", entity, id)
	}
	return maps.Clone(r), nil
}

func (f *fakeEntities) List(_ context.Context, p *engine.Principal, bankID, entity string, filter map[string]string) ([]map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.note("list", p, bankID, entity); err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, id := range slices.Sorted(maps.Keys(f.records)) {
		r := f.records[id]
		match := true
		for k, v := range filter {
			match = match && fmt.Sprint(r[k]) == v
		}
		if match {
			out = append(out, maps.Clone(r))
		}
	}
	return out, nil
}

func (f *fakeEntities) Create(_ context.Context, p *engine.Principal, bankID, entity string, record map[string]any) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.note("create", p, bankID, entity); err != nil {
		return nil, err
	}
	r := maps.Clone(record)
	r["id"] = fmt.Sprintf("a%d", len(f.records)+1)
	f.records[r["id"].(string)] = r
	return maps.Clone(r), nil
}

func (f *fakeEntities) Update(_ context.Context, p *engine.Principal, bankID, entity, id string, record map[string]any) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.note("update", p, bankID, entity); err != nil {
		return nil, err
	}
	r, ok := f.records[id]
	if !ok {
		return nil, engine.Errorf(404, engine.CodeNotFound, "no %s %s", entity, id)
	}
	maps.Copy(r, record)
	return maps.Clone(r), nil
}

func (f *fakeEntities) Delete(_ context.Context, p *engine.Principal, bankID, entity, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.note("delete", p, bankID, entity); err != nil {
		return err
	}
	delete(f.records, id)
	return nil
}

func TestEntities(t *testing.T) {
	t.Run("operations", func(t *testing.T) {
		ents := newFakeEntities()
		e := New(Options{Entities: ents})
		got := mustRun(t, e, `
			const a1 = await entities.get("account", "a1");
			const rich = await entities.list("account", {balance: 100});
			const all = await entities.list("account");
			const made = await entities.create("account", {balance: 5, owner: ctx.user.username});
			const changed = await entities.update("account", made.id, {balance: 6});
			const gone = await entities.delete("account", "a2");
			return {a1, rich: rich.map(r => r.id), all: all.length, made, changed, gone: gone === undefined};`, request())
		want := map[string]any{
			"a1":      map[string]any{"id": "a1", "balance": 100.0, "owner": "alice"},
			"rich":    []any{"a1"},
			"all":     2.0,
			"made":    map[string]any{"id": "a3", "balance": 5.0, "owner": "alice"},
			"changed": map[string]any{"id": "a3", "balance": 6.0, "owner": "alice"},
			"gone":    true,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v\nwant %#v", got, want)
		}
		wantOps := []string{"get user-1@bank-1 account", "list user-1@bank-1 account", "list user-1@bank-1 account",
			"create user-1@bank-1 account", "update user-1@bank-1 account", "delete user-1@bank-1 account"}
		if !slices.Equal(ents.ops, wantOps) {
			t.Errorf("operations %v, want %v", ents.ops, wantOps)
		}
		if _, ok := ents.records["a2"]; ok {
			t.Error("a2 was not deleted")
		}
	})
	forbidden := &engine.Error{Status: 403, Code: engine.CodeForbidden, Message: "missing role CanGetAccount",
		MissingRoles: []string{"CanGetAccount"}, BankID: "bank-1"}
	for _, tc := range []struct {
		name    string
		err     error
		body    string
		want    any   // data, when the call succeeds
		wantErr error // the very error returned, when set
		status  int
		message string
	}{
		{name: "403 passed on unchanged", err: forbidden, body: `return await entities.get("account", "a1");`,
			wantErr: forbidden},
		{name: "403 caught", err: forbidden,
			body: `try { await entities.get("account", "a1"); } catch (e) {
				return {status: e.status, code: e.code, message: e.message, isError: e instanceof Error}; }`,
			want: map[string]any{"status": 403.0, "code": "forbidden", "message": "missing role CanGetAccount", "isError": true}},
		{name: "404 of the store", body: "const x = 1;\nreturn await entities.get(\"account\", \"nope\");",
			status: 404, message: "no account nope"},
		{name: "other errors are hidden", err: errors.New("disk on fire"),
			body: "\nawait entities.list(\"account\");", status: 500,
			message: "connector method testMethod failed at line 2, column 20: internal error"},
		{name: "bad arguments", body: "await entities.get(\"account\");", status: 500,
			message: "connector method testMethod failed at line 1, column 19: TypeError: entities.get: id must be a non-empty string"},
		{name: "bad record", body: "await entities.create(\"account\", [1]);", status: 500,
			message: "TypeError: entities.create: record must be an object"},
		{name: "bad filter", body: "await entities.list(\"account\", {a: {}});", status: 500,
			message: "TypeError: entities.list: filter a must be a string, number or boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ents := newFakeEntities()
			ents.err = tc.err
			got, err := run(t, New(Options{Entities: ents}), tc.body, request())
			switch {
			case tc.wantErr != nil:
				if err != tc.wantErr {
					t.Errorf("error %v, want %v itself", err, tc.wantErr)
				}
			case tc.status != 0:
				ee := asError(t, err, tc.status, map[bool]string{true: engine.CodeScriptFailed, false: engine.CodeNotFound}[tc.status == 500])
				if !strings.Contains(ee.Message, tc.message) {
					t.Errorf("message %q, want %q", ee.Message, tc.message)
				}
			default:
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got %#v %v, want %#v", got, err, tc.want)
				}
			}
		})
	}
	t.Run("not available", func(t *testing.T) {
		got := mustRun(t, New(Options{}), `try { await entities.get("account", "a1"); } catch (e) { return e.message; }`, request())
		if got != "entities.get: entities are not available" {
			t.Errorf("got %v", got)
		}
	})
}

func TestConnectorCall(t *testing.T) {
	type bank struct {
		BankID    string `json:"bank_id"`
		ShortName string `json:"short_name"`
		internal  string
	}
	t.Run("call and result through JSON", func(t *testing.T) {
		var gotParent *connector.Request
		var gotName string
		var gotArgs []any
		caller := callerFunc(func(ctx context.Context, parent *connector.Request, name string, args []any) (any, error) {
			gotParent, gotName, gotArgs = parent, name, args
			return []bank{{"b1", "First", "x"}}, nil
		})
		req := request()
		res, err := compile(t, New(Options{Caller: caller}), "m", `
			const banks = await connector.call("getBanks", [ctx.bankId, 2, {deep: [true, null]}]);
			return banks[0].short_name + "/" + banks[0].bank_id + "/" + Object.keys(banks[0]).length;`, 0).
			Invoke(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if value(res) != "First/b1/2" {
			t.Errorf("got %v", value(res))
		}
		if gotParent != req || gotName != "getBanks" ||
			!reflect.DeepEqual(gotArgs, []any{"bank-1", 2.0, map[string]any{"deep": []any{true, nil}}}) {
			t.Errorf("called with %p %q %#v", gotParent, gotName, gotArgs)
		}
	})
	notFound := engine.NewError(404, engine.CodeNotFound, "bank not found")
	for _, tc := range []struct {
		name    string
		caller  connector.Caller
		depth   int
		body    string
		check   func(t *testing.T, data any, err error)
		noCalls bool
	}{
		{name: "4xx passed on", caller: callerFunc(func(context.Context, *connector.Request, string, []any) (any, error) {
			return nil, notFound
		}), body: `return await connector.call("getBank", ["b9"]);`,
			check: func(t *testing.T, _ any, err error) {
				if err != notFound {
					t.Errorf("error %v, want the caller's", err)
				}
			}},
		{name: "4xx caught", caller: callerFunc(func(context.Context, *connector.Request, string, []any) (any, error) {
			return nil, notFound
		}), body: `try { await connector.call("getBank", []); } catch (e) { return [e.status, e.code, e.message]; }`,
			check: func(t *testing.T, data any, err error) {
				if want := []any{404.0, "not_found", "bank not found"}; err != nil || !reflect.DeepEqual(data, want) {
					t.Errorf("got %v %v, want %v", data, err, want)
				}
			}},
		{name: "too deep", caller: echoCaller(), depth: connector.MaxDepth,
			body: `try { await connector.call("getBank", []); return "called"; } catch (e) { return [e.status, e.code, e.message]; }`,
			check: func(t *testing.T, data any, err error) {
				want := []any{508.0, "connector_recursion", "connector methods call each other more than 8 levels deep"}
				if err != nil || !reflect.DeepEqual(data, want) {
					t.Errorf("got %v %v, want %v", data, err, want)
				}
			}},
		{name: "deepest allowed", caller: echoCaller(), depth: connector.MaxDepth - 1,
			body: `return (await connector.call("getBank", [])).method;`,
			check: func(t *testing.T, data any, err error) {
				if err != nil || data != "getBank" {
					t.Errorf("got %v %v", data, err)
				}
			}},
		{name: "no caller", body: `try { await connector.call("getBank"); } catch (e) { return e.message; }`,
			check: func(t *testing.T, data any, err error) {
				if err != nil || data != "connector.call: calling connector methods is not available" {
					t.Errorf("got %v %v", data, err)
				}
			}},
		{name: "args not an array", caller: echoCaller(), body: `await connector.call("getBank", "b1");`,
			check: func(t *testing.T, _ any, err error) {
				ee := asError(t, err, 500, engine.CodeScriptFailed)
				if !strings.HasSuffix(ee.Message, "TypeError: connector.call: args must be an array") {
					t.Errorf("message %q", ee.Message)
				}
			}},
		{name: "caller panics", caller: callerFunc(func(context.Context, *connector.Request, string, []any) (any, error) {
			panic("bug in the dispatcher")
		}), body: `return await connector.call("getBank");`,
			check: func(t *testing.T, _ any, err error) {
				ee := asError(t, err, 500, engine.CodeScriptFailed)
				if ee.Message != "connector method testMethod failed at line 1, column 28: connector.call failed: internal error (correlation id corr-1)" {
					t.Errorf("message %q", ee.Message)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{Caller: tc.caller, MaxRuntimes: 1})
			req := request()
			req.Depth = tc.depth
			data, err := run(t, e, tc.body, req)
			tc.check(t, data, err)
			if got := mustRun(t, e, "return 1", request()); got != 1.0 {
				t.Errorf("the engine fails afterwards: %v", got)
			}
		})
	}
	t.Run("scripts calling scripts need no free slot", func(t *testing.T) {
		e := New(Options{MaxRuntimes: 1})
		scripts := map[string]connector.Invoker{}
		e.o.Caller = callerFunc(func(ctx context.Context, parent *connector.Request, name string, args []any) (any, error) {
			res, err := scripts[name].Invoke(ctx, &connector.Request{Args: args, Depth: parent.Depth + 1, Call: parent.Call})
			if err != nil {
				return nil, err
			}
			return res.Value()
		})
		scripts["leaf"] = compile(t, e, "leaf", `return args[0] + ":" + ctx.correlationId;`, 0)
		scripts["middle"] = compile(t, e, "middle", `return "m(" + await connector.call("leaf", [args[0]]) + ")";`, 0)
		top := compile(t, e, "top", `return "t(" + await connector.call("middle", ["x"]) + ")";`, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := top.Invoke(ctx, request())
		if err != nil || value(res) != "t(m(x:corr-1))" {
			t.Errorf("got %v %v", res, err)
		}
	})
}

func TestFetch(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Reply", "yes")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "correlationId": r.Header.Get("X-Correlation-ID"), "body": string(body),
			"contentType": r.Header.Get("Content-Type"), "custom": r.Header.Get("X-Custom"),
		})
	})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "not json")
	})
	mux.HandleFunc("/redirect-in", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusFound)
	})
	mux.HandleFunc("/redirect-out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://evil.example/steal", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 2000))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	allow := []string{strings.ToUpper(host)}

	for _, tc := range []struct {
		name string
		o    Options
		body string // srv is the server's base URL
		want any
	}{
		{"GET", Options{FetchAllow: allow}, `const res = await http.fetch(srv + "/echo");
			const data = res.json();
			return [res.status, res.ok, res.statusText, res.headers["x-reply"], res.headers["content-type"],
				data.method, data.correlationId, res.url === srv + "/echo", res.text() === res.body];`,
			[]any{200.0, true, "OK", "yes", "application/json", "GET", "corr-1", true, true}},
		{"POST a JSON body", Options{FetchAllow: allow}, `const res = await http.fetch(srv + "/echo", {
				method: "post", headers: {"X-Custom": "c1", "X-Correlation-ID": "spoofed"}, body: {amount: 10}});
			return res.json();`,
			map[string]any{"method": "POST", "correlationId": "corr-1", "body": `{"amount":10}`,
				"contentType": "application/json", "custom": "c1"}},
		{"PUT a text body", Options{FetchAllow: allow}, `const res = await http.fetch(srv + "/echo", {
				method: "PUT", headers: {"Content-Type": "text/plain"}, body: "hello"});
			const d = res.json();
			return [d.method, d.body, d.contentType];`, []any{"PUT", "hello", "text/plain"}},
		{"error status resolves", Options{FetchAllow: allow}, `const res = await http.fetch(srv + "/teapot");
			let parsed = "yes";
			try { res.json(); } catch (e) { parsed = e.name; }
			return [res.status, res.ok, res.body, parsed];`, []any{418.0, false, "not json", "SyntaxError"}},
		{"redirect inside the list", Options{FetchAllow: allow}, `const res = await http.fetch(srv + "/redirect-in");
			return [res.status, res.url === srv + "/echo", res.json().correlationId];`, []any{200.0, true, "corr-1"}},
		{"allowed host and port", Options{FetchAllow: []string{host + ":" + port}},
			`return (await http.fetch(srv + "/echo")).status;`, 200.0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRun(t, New(tc.o), "const srv = "+jsString(srv.URL)+";\n"+tc.body, request())
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}

	custom := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name string
		o    Options
		path string // fetched: srv+path, or path itself when absolute
		want string // the rejection's message
	}{
		{"host not allowed", Options{FetchAllow: allow}, "http://evil.example/x",
			"http.fetch: host evil.example is not allowed"},
		{"empty allow-list", Options{}, "/echo", "http.fetch: host " + u.Host + " is not allowed"},
		{"other port", Options{FetchAllow: []string{host + ":1"}}, "/echo", "http.fetch: host " + u.Host + " is not allowed"},
		{"other scheme", Options{FetchAllow: allow}, "ftp://" + u.Host + "/x",
			`http.fetch: only http and https URLs can be fetched, not "ftp"`},
		{"redirect outside the list", Options{FetchAllow: allow}, "/redirect-out",
			"http.fetch: redirect to host evil.example is not allowed"},
		{"redirect outside the list with a client of one's own", Options{FetchAllow: allow, HTTPClient: custom},
			"/redirect-out", "http.fetch: redirect to host evil.example is not allowed"},
		{"body too large", Options{FetchAllow: allow, MaxFetchBytes: 1000}, "/big",
			"http.fetch: the response of " + u.Host + " is larger than the limit of 1000 bytes"},
		{"fetch timeout", Options{FetchAllow: allow, FetchTimeout: 100 * time.Millisecond}, "/slow",
			"http.fetch: " + u.Host + " did not answer within the deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.path
			if strings.HasPrefix(target, "/") {
				target = srv.URL + target
			}
			got := mustRun(t, New(tc.o), `try { await http.fetch(`+jsString(target)+`); return "fetched"; }
				catch (e) { return e.message; }`, request())
			if got != tc.want {
				t.Errorf("got %v, want %q", got, tc.want)
			}
		})
	}
	if custom.CheckRedirect != nil {
		t.Error("the engine changed the client it was given")
	}
	t.Run("call deadline stops a fetch", func(t *testing.T) {
		e := New(Options{FetchAllow: allow})
		s := compile(t, e, "slowFetch", "\nreturn await http.fetch("+jsString(srv.URL+"/slow")+");", 200*time.Millisecond)
		start := time.Now()
		_, err := s.Invoke(context.Background(), request())
		ee := asError(t, err, 504, engine.CodeScriptTimeout)
		if !strings.Contains(ee.Message, "slowFetch did not finish within its deadline of 200ms") {
			t.Errorf("message %q", ee.Message)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stopped after %v", d)
		}
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestLog(t *testing.T) {
	var out syncBuffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := New(Options{Logger: logger})
	mustRun(t, e, `log.info("looked up", {account: args[0].id, n: 2});
		log.warn("careful");
		log.error("failed", {code: "x"});
		console.log("from console");
		return null;`, request(map[string]any{"id": "a1", "password": "hunter2"}))
	var got []map[string]any
	for line := range strings.Lines(out.buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		delete(rec, "time")
		got = append(got, rec)
	}
	base := map[string]any{"connector_method": "testMethod", "correlation_id": "corr-1"}
	with := func(extra map[string]any) map[string]any {
		m := maps.Clone(base)
		maps.Copy(m, extra)
		return m
	}
	want := []map[string]any{
		with(map[string]any{"level": "INFO", "msg": "looked up", "account": "a1", "n": 2.0}),
		with(map[string]any{"level": "WARN", "msg": "careful"}),
		with(map[string]any{"level": "ERROR", "msg": "failed", "code": "x"}),
		with(map[string]any{"level": "INFO", "msg": "from console"}),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logged %v\nwant %v", got, want)
	}
	if strings.Contains(out.buf.String(), "hunter2") {
		t.Error("the arguments were logged")
	}
	_, err := run(t, e, `log.info("x", "not an object");`, request())
	if ee := asError(t, err, 500, engine.CodeScriptFailed); !strings.Contains(ee.Message, "TypeError: log: fields must be an object") {
		t.Errorf("message %q", ee.Message)
	}
}

func TestCrypto(t *testing.T) {
	e := New(Options{})
	got := mustRun(t, e, `return [
		crypto.sha256("abc"),
		crypto.sha256(""),
		crypto.hmacSha256("key", "The quick brown fox jumps over the lazy dog"),
		crypto.randomUUID(), crypto.randomUUID(),
		await crypto.sha256("abc"),
	];`, request()).([]any)
	want := []any{
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
	}
	if !reflect.DeepEqual(got[:3], want) || got[5] != want[0] {
		t.Errorf("got %v, want %v", got, want)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuidRE.MatchString(got[3].(string)) || got[3] == got[4] {
		t.Errorf("uuids %v %v", got[3], got[4])
	}
	_, err := run(t, e, `return crypto.sha256(1);`, request())
	if ee := asError(t, err, 500, engine.CodeScriptFailed); !strings.Contains(ee.Message, "TypeError: crypto.sha256: text must be a string") {
		t.Errorf("message %q", ee.Message)
	}
}
