package jsvm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// compile compiles body as connector method name or fails the test.
func compile(t testing.TB, e *Engine, name, body string, timeout time.Duration) connector.Invoker {
	t.Helper()
	s, err := e.Compile(&connector.Method{Name: name}, body, timeout)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// testDeadline is the deadline of scripts that must finish or hit a limit
// other than time: long enough that a loaded machine running the race
// detector does not turn a limit into a timeout.
const testDeadline = 30 * time.Second

// request is a call of a method with args, on behalf of a user at bank-1.
func request(args ...any) *connector.Request {
	return &connector.Request{
		BankID: "bank-1",
		Args:   args,
		Call: &engine.Call{
			CorrelationID: "corr-1",
			Principal:     &engine.Principal{UserID: "user-1", Username: "alice", ConsumerID: "consumer-1"},
		},
	}
}

// run compiles and invokes body once.
func run(t testing.TB, e *Engine, body string, req *connector.Request) (any, error) {
	t.Helper()
	res, err := compile(t, e, "testMethod", body, testDeadline).Invoke(context.Background(), req)
	if err != nil {
		return nil, err
	}
	return res.Value()
}

// value is a result's data, nil when it does not decode (tests compare it
// with what they expect).
func value(res *connector.Result) any {
	if res == nil {
		return nil
	}
	v, _ := res.Value()
	return v
}

// mustRun runs body and fails the test on an error.
func mustRun(t testing.TB, e *Engine, body string, req *connector.Request) any {
	t.Helper()
	v, err := run(t, e, body, req)
	if err != nil {
		t.Fatalf("run %q: %v", body, err)
	}
	return v
}

// asError asserts err is an *engine.Error of status and code.
func asError(t testing.TB, err error, status int, code string) *engine.Error {
	t.Helper()
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T) is not an *engine.Error", err, err)
	}
	if ee.Status != status || ee.Code != code {
		t.Fatalf("error %d %s %q, want %d %s", ee.Status, ee.Code, ee.Message, status, code)
	}
	return ee
}

func TestCompileErrors(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct {
		name, body string
		code       string // violation code
		message    string // in the violation message
	}{
		{"first line column", "return 1 +;", "syntax", "line 1, column 11: Unexpected token ;"},
		{"later line", "let a = 1;\nlet b = ;\nreturn a;", "syntax", "line 2, column 9:"},
		{"redeclared", "const x = 1;\n  const x = 2;", "syntax", "line 2, column"},
		{"strict mode", "let o = {};\nwith (o) {}", "syntax", "line 2, column 1:"},
		{"unclosed block", "if (args) {\n  return 1;", "syntax", "line 2, column 12:"},
		{"closes the function", "}); globalThis.x = 1; (async function() {", "syntax", "closes the function"},
		{"empty", "", "required", "empty"},
		{"blank", "  \n\t ", "required", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Compile(&connector.Method{Name: "getBank"}, tc.body, 0)
			ee := asError(t, err, 400, CodeInvalidScript)
			if len(ee.Violations) != 1 {
				t.Fatalf("violations %+v, want one", ee.Violations)
			}
			v := ee.Violations[0]
			if v.Location != "body" || v.Pointer != "/method_body" || v.Code != tc.code {
				t.Errorf("violation %+v, want body /method_body %s", v, tc.code)
			}
			if !strings.Contains(v.Message, tc.message) || !strings.Contains(ee.Message, tc.message) {
				t.Errorf("message %q / %q does not contain %q", ee.Message, v.Message, tc.message)
			}
			if !strings.Contains(ee.Message, "getBank") {
				t.Errorf("message %q does not name the method", ee.Message)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	e := New(Options{DefaultTimeout: 3 * time.Second})
	if got := compile(t, e, "m", "return 1", 0).(*script).timeout; got != 3*time.Second {
		t.Errorf("default timeout %v, want 3s", got)
	}
	if got := compile(t, e, "m", "return 1", time.Second).(*script).timeout; got != time.Second {
		t.Errorf("timeout %v, want 1s", got)
	}
	if got := New(Options{}).o.DefaultTimeout; got != 2*time.Second {
		t.Errorf("engine default %v, want 2s", got)
	}
}

func TestResults(t *testing.T) {
	e := New(Options{Entities: newFakeEntities(), Caller: echoCaller()})
	for _, tc := range []struct {
		name, body string
		want       any
	}{
		{"object", `return {id: "b1", n: 2, ok: true, none: null, list: [1, "a"]}`,
			map[string]any{"id": "b1", "n": 2.0, "ok": true, "none": nil, "list": []any{1.0, "a"}}},
		{"array", `return [1, 2, 3].map(x => x * 2)`, []any{2.0, 4.0, 6.0}},
		{"string", `return "hello"`, "hello"},
		{"number", `return 1.5`, 1.5},
		{"null", `return null`, nil},
		{"undefined", `return undefined`, nil},
		{"no return", `let x = 1;`, nil},
		{"undefined fields dropped", `return {a: undefined, f() {}, b: 1}`, map[string]any{"b": 1.0}},
		{"toJSON and Date", `return {d: new Date(0), c: {toJSON() { return "custom"; }}}`,
			map[string]any{"d": "1970-01-01T00:00:00.000Z", "c": "custom"}},
		{"await promise chain", `const a = await Promise.resolve(20);
			const b = await new Promise(resolve => resolve(a + 1)).then(x => x * 2);
			return b;`, 42.0},
		{"await bindings in sequence", `const rec = await entities.get("account", "a1");
			const echoed = await connector.call("echo", [rec.id]);
			return [rec.balance, echoed];`,
			[]any{100.0, map[string]any{"method": "echo", "args": []any{"a1"}}}},
		{"Promise.all of bindings", `const all = await Promise.all([
				entities.get("account", "a1"), entities.get("account", "a2"), connector.call("echo", [])]);
			return all.map(r => r.id || r.method);`, []any{"a1", "a2", "echo"}},
		{"binding promise is settled before await", `let seen = "pending";
			const p = entities.get("account", "a1");
			p.then(() => { seen = "fulfilled"; });
			await null; await null;
			return seen;`, "fulfilled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRun(t, e, tc.body, request())
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// fakeHTTP is the HTTP request being answered.
type fakeHTTP struct {
	method, path, query string
	headers             map[string]string // canonical names
}

func (h *fakeHTTP) Method() string   { return h.method }
func (h *fakeHTTP) Path() string     { return h.path }
func (h *fakeHTTP) RawQuery() string { return h.query }
func (h *fakeHTTP) Header(name string) (string, bool) {
	for k, v := range h.headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func TestArgsAndCtx(t *testing.T) {
	e := New(Options{})
	type account struct {
		AccountID string  `json:"account_id"`
		Balance   float64 `json:"balance"`
		Hidden    string  `json:"-"`
	}
	t.Run("args", func(t *testing.T) {
		got := mustRun(t, e, `return {
			n: args.length, isArray: Array.isArray(args),
			struct: args[0], nil: args[1], str: args[2], num: args[3],
			list: args[4], map: args[5], time: args[6],
			proto: Object.getPrototypeOf(args[0]) === Object.prototype,
		}`, request(account{"acc-1", 12.5, "secret"}, nil, "s", 7, []string{"a", "b"},
			map[string]any{"k": []any{1, nil}}, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
		want := map[string]any{
			"n": 7.0, "isArray": true,
			"struct": map[string]any{"account_id": "acc-1", "balance": 12.5},
			"nil":    nil, "str": "s", "num": 7.0,
			"list": []any{"a", "b"}, "map": map[string]any{"k": []any{1.0, nil}},
			"time": "2024-01-02T03:04:05Z", "proto": true,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v\nwant %#v", got, want)
		}
	})
	t.Run("however the body names them", func(t *testing.T) {
		// Bodies that never name args skip converting them; every way of
		// naming them still reads them.
		for _, body := range []string{
			`return args[0]`,
			`return arguments[0][0]`,
			`return (function () { return arguments[0]; })(...arguments[0])`,
			`return \u0061rgs[0]`,
			`return a\u{72}gs[0]`,
			`const {0: first} = args; return first`,
		} {
			if got := mustRun(t, e, body, request("first")); got != "first" {
				t.Errorf("%s: got %#v, want \"first\"", body, got)
			}
		}
		if got := mustRun(t, e, `return typeof ctx.method`, request(make(chan int))); got != "string" {
			t.Errorf("a body that reads no arguments: got %#v", got)
		}
	})
	t.Run("ctx of an HTTP call", func(t *testing.T) {
		req := request()
		req.Call.HTTP = &fakeHTTP{method: "GET", path: "/banks/bank-1/accounts",
			query:   "limit=10&tag=a&tag=b",
			headers: map[string]string{"X-Api-Key": "k1", "Accept": "application/json"}}
		got := mustRun(t, e, `return {
			method: ctx.method, correlationId: ctx.correlationId, bankId: ctx.bankId,
			user: ctx.user, consumer: ctx.consumer,
			httpMethod: ctx.request.method, path: ctx.request.path, query: ctx.request.query,
			apiKey: ctx.request.headers["x-api-key"], accept: ctx.request.headers.accept,
			mixedCase: ctx.request.headers["X-API-KEY"], missing: ctx.request.headers["x-none"] === undefined,
			has: "x-api-key" in ctx.request.headers,
		}`, req)
		want := map[string]any{
			"method": "testMethod", "correlationId": "corr-1", "bankId": "bank-1",
			"user":       map[string]any{"userId": "user-1", "username": "alice"},
			"consumer":   map[string]any{"consumerId": "consumer-1"},
			"httpMethod": "GET", "path": "/banks/bank-1/accounts",
			"query":  map[string]any{"limit": "10", "tag": []any{"a", "b"}},
			"apiKey": "k1", "accept": "application/json", "mixedCase": "k1", "missing": true, "has": true,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v\nwant %#v", got, want)
		}
	})
	t.Run("ctx without caller or HTTP", func(t *testing.T) {
		req := &connector.Request{Call: &engine.Call{CorrelationID: "c2"}}
		got := mustRun(t, e, `return [ctx.user, ctx.consumer, ctx.request, ctx.bankId, ctx.correlationId, args]`, req)
		want := []any{nil, nil, nil, "", "c2", []any{}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
		got = mustRun(t, e, `return ctx.correlationId`, &connector.Request{})
		if got != "" {
			t.Errorf("correlation id without a call %#v", got)
		}
	})
}

func TestThrown(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		message    string // the whole message
	}{
		{"Error", "let x = 1;\nlet y = 2;\n  throw new Error(\"boom\");", 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 3, column 9: boom"},
		{"Error on line 1", `throw new Error("first")`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 1, column 7: first"},
		{"after await", "await null;\nawait Promise.resolve(1);\nthrow new RangeError(\"late\");", 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 3, column 7: RangeError: late"},
		{"made in a helper", "function check(v) {\n  if (!v) throw new Error(\"missing\");\n}\ncheck(args[0]);", 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 2, column 17: missing"},
		{"TypeError of the engine", "let o;\nreturn o.field;", 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 2, column 10: TypeError: Cannot read property 'field' of undefined"},
		{"rejected promise", "return Promise.reject(new Error(\"no\"));", 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 1, column 23: no"},
		{"string", `throw "plain text"`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed: plain text"},
		{"object without message", `throw {reason: "x"}`, 500, engine.CodeScriptFailed,
			`connector method testMethod failed: {"reason":"x"}`},
		{"404", `throw {status: 404, message: "no such bank"}`, 404, codeScriptError, "no such bank"},
		{"409 with code", `throw {status: 409, code: "duplicate_account", message: "exists"}`, 409, "duplicate_account", "exists"},
		{"400 Error with status", "const e = new Error(\"bad iban\");\ne.status = 400;\nthrow e;", 400, codeScriptError, "bad iban"},
		{"4xx without message", `throw {status: 403}`, 403, codeScriptError, "Forbidden"},
		{"5xx status is a failure", `throw {status: 503, message: "down"}`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed: down"},
		{"non-integer status", `throw {status: 404.5, message: "odd"}`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed: odd"},
		{"throwing getter", `throw {get status() { throw new Error("x"); }}`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed: the thrown value cannot be read"},
		{"never settles", `await new Promise(() => {});`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed: it awaits a promise that never settles"},
		{"stack overflow", "function f(n) {\n  return f(n + 1) + 1;\n}\nreturn f(0);", 500, engine.CodeScriptFailed,
			"connector method testMethod failed at line 2, column 11: maximum call stack size of 200 exceeded"},
		{"result not JSON", `const o = {}; o.self = o; return o;`, 500, engine.CodeScriptFailed,
			"connector method testMethod failed: TypeError: Converting circular structure to JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, e, tc.body, request())
			ee := asError(t, err, tc.status, tc.code)
			if ee.Message != tc.message {
				t.Errorf("message %q, want %q", ee.Message, tc.message)
			}
			if strings.Contains(ee.Message, ".go:") || strings.Contains(ee.Message, "goroutine") {
				t.Errorf("message %q shows Go internals", ee.Message)
			}
		})
	}
	t.Run("runtime usable after a stack overflow", func(t *testing.T) {
		e := New(Options{MaxRuntimes: 1})
		_, err := run(t, e, "function f() { return f(); }\nreturn f();", request())
		asError(t, err, 500, engine.CodeScriptFailed)
		if got := mustRun(t, e, "return 1", request()); got != 1.0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("source maps are ignored", func(t *testing.T) {
		dir := t.TempDir()
		sm := filepath.Join(dir, "m.map")
		if err := os.WriteFile(sm, []byte(`{"version":3,"sources":["secret.js"],"names":[],"mappings":"AAAA;AAUA;AAAA"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := run(t, e, "\nthrow new Error(\"x\");\n//# sourceMappingURL=file://"+filepath.ToSlash(sm), request())
		ee := asError(t, err, 500, engine.CodeScriptFailed)
		if !strings.Contains(ee.Message, "at line 2, column 7") {
			t.Errorf("message %q: the source map moved the position", ee.Message)
		}
		// eval, which could read the source map of the code it is given,
		// is not available at all.
		got := mustRun(t, e, `try { eval("\nthrow new Error('x');\n//# sourceMappingURL=file://`+filepath.ToSlash(sm)+`"); }
			catch (e) { return e.name; }`, request())
		if got != "EvalError" {
			t.Errorf("eval threw %v, want an EvalError", got)
		}
	})
}

func TestDeadline(t *testing.T) {
	t.Run("infinite loop is stopped while other calls go on", func(t *testing.T) {
		started := make(chan struct{})
		caller := callerFunc(func(context.Context, *connector.Request, string, []any) (any, error) {
			close(started)
			return nil, nil
		})
		e := New(Options{Caller: caller})
		spin := compile(t, e, "spin", "await connector.call(\"started\");\nlet n = 0;\nwhile (true) { n++; }", 3*time.Second)
		quick := compile(t, e, "double", "return args[0] * 2;", 0)
		var spinning atomic.Bool
		spinning.Store(true)
		done := make(chan error, 1)
		go func() {
			_, err := spin.Invoke(context.Background(), request())
			spinning.Store(false)
			done <- err
		}()
		<-started
		for i := range 20 {
			res, err := quick.Invoke(context.Background(), request(i))
			if err != nil || value(res) != float64(2*i) {
				t.Fatalf("call %d: %v %v", i, res, err)
			}
		}
		if !spinning.Load() {
			t.Error("the quick calls finished only after the spinning one")
		}
		select {
		case err := <-done:
			ee := asError(t, err, 504, engine.CodeScriptTimeout)
			want := "connector method spin did not finish within its deadline of 3s and was stopped at line 3, column"
			if !strings.HasPrefix(ee.Message, want) {
				t.Errorf("message %q, want %q...", ee.Message, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the spinning call was not stopped")
		}
	})
	for _, tc := range []struct {
		name    string
		body    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		message string
	}{
		{"script timeout", "for (;;) { JSON.stringify({a: 1}); }", 100 * time.Millisecond, nil,
			"did not finish within its deadline of 100ms and was stopped at line 1"},
		{"context deadline first", "while (true) {}", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, "did not finish within its deadline of"},
		{"cancelled", "while (true) {}", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, "was cancelled at line 1"},
		{"deadline passed already", "return 1", time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, "connector method testMethod"},
		{"caught and retried", "for (;;) { try { while (true) {} } catch (e) {} }", 100 * time.Millisecond, nil,
			"was stopped at line 1"},
		{"toJSON of the result", "return {toJSON() {\n  let n = 0;\n  while (true) { n++; }\n}};", 100 * time.Millisecond, nil,
			"was stopped at line 3"},
		{"getter of the result", "return {a: 1, get b() {\n  while (true) {}\n}};", 100 * time.Millisecond, nil,
			"was stopped at line 1, column 15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{MaxRuntimes: 1})
			mustRun(t, e, "return 0", request()) // the runtime exists before the clock starts
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			s := compile(t, e, "testMethod", tc.body, tc.timeout)
			start := time.Now()
			_, err := s.Invoke(ctx, request())
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("stopped after %v", d)
			}
			ee := asError(t, err, 504, engine.CodeScriptTimeout)
			if !strings.Contains(ee.Message, tc.message) {
				t.Errorf("message %q, want %q", ee.Message, tc.message)
			}
			// The engine goes on with a fresh runtime.
			if got := mustRun(t, e, "return 7", request()); got != 7.0 {
				t.Errorf("after the timeout: %v", got)
			}
		})
	}
}

func TestSandbox(t *testing.T) {
	e := New(Options{})
	for _, expr := range []string{
		`typeof require === "undefined"`,
		`typeof process === "undefined"`,
		`typeof module === "undefined" && typeof exports === "undefined"`,
		`typeof setTimeout === "undefined" && typeof setInterval === "undefined" && typeof setImmediate === "undefined"`,
		`typeof fs === "undefined" && typeof readFile === "undefined" && typeof load === "undefined"`,
		`typeof fetch === "undefined" && typeof XMLHttpRequest === "undefined"`,
		`typeof GoError === "undefined"`,
		`typeof http.fetch === "function" && typeof entities.get === "function" && typeof connector.call === "function"`,
		`typeof log.info === "function" && typeof console.log === "function" && typeof crypto.sha256 === "function"`,
		`this === undefined`,
		`(function () { return this; })() === undefined`,
	} {
		t.Run(expr, func(t *testing.T) {
			if got := mustRun(t, e, "return "+expr, request()); got != true {
				t.Errorf("%s is %v", expr, got)
			}
		})
	}
	t.Run("globals beyond ECMAScript", func(t *testing.T) {
		got := mustRun(t, e, `return Reflect.ownKeys(globalThis).map(String)`, request())
		standard := strings.Fields(`Object Function Array String Number BigInt RegExp Date Boolean Proxy
			Reflect Error AggregateError TypeError ReferenceError SyntaxError RangeError EvalError URIError
			eval Math JSON ArrayBuffer DataView Uint8Array Uint8ClampedArray Int8Array Uint16Array Int16Array
			Uint32Array Int32Array Float32Array Float64Array BigInt64Array BigUint64Array Symbol WeakSet
			WeakMap Map Set Promise globalThis NaN undefined Infinity isNaN parseInt parseFloat isFinite
			decodeURI decodeURIComponent encodeURI encodeURIComponent escape unescape Symbol(Symbol.toStringTag)`)
		var extra []string
		for _, g := range got.([]any) {
			if !slices.Contains(standard, g.(string)) {
				extra = append(extra, g.(string))
			}
		}
		slices.Sort(extra)
		if want := []string{"connector", "console", "crypto", "entities", "events", "http", "log"}; !slices.Equal(extra, want) {
			t.Errorf("non-standard globals %v, want %v", extra, want)
		}
	})
	t.Run("no file URLs", func(t *testing.T) {
		e := New(Options{FetchAllow: []string{"localhost"}})
		got := mustRun(t, e, `try { await http.fetch("file:///etc/passwd"); return "read"; } catch (e) { return e.message; }`, request())
		if got != `http.fetch: "file:///etc/passwd" is not an absolute URL` {
			t.Errorf("got %v", got)
		}
	})
}

func TestNoStateLeaks(t *testing.T) {
	// One runtime, so every call runs where the previous one ran.
	e := New(Options{MaxRuntimes: 1})
	// Sloppy code's writes would fail without throwing (but code made from
	// strings is refused anyway).
	silent := map[string]bool{"sloppy global through Function": true}
	for _, tc := range []struct {
		name, attempt, probe string
	}{
		{"global property", `globalThis.leak = 1`, `typeof globalThis.leak === "undefined"`},
		{"undeclared variable", `leak = 1`, `typeof leak === "undefined"`},
		{"global var through indirect eval", `(0, eval)("var leak = 1")`, `typeof leak === "undefined"`},
		{"sloppy global through Function", `Function("leak = 1")()`, `typeof leak === "undefined"`},
		{"strict global through Function", `Function("'use strict'; leak = 1")()`, `typeof leak === "undefined"`},
		{"Array.prototype", `Array.prototype.leak = 1`, `[].leak === undefined`},
		{"Object.prototype method", `Object.prototype.toString = () => "leaked"`, `String({}) === "[object Object]"`},
		{"builtin replaced", `JSON.stringify = () => "leaked"`, `JSON.stringify(1) === "1"`},
		{"builtin deleted", `delete Math.max`, `typeof Math.max === "function"`},
		{"prototype swapped", `Object.setPrototypeOf(Array.prototype, null)`, `typeof [].hasOwnProperty === "function"`},
		{"hidden intrinsic", `Object.getPrototypeOf(async function () {}).leak = 1`,
			`Object.getPrototypeOf(async function () {}).leak === undefined`},
		{"iterator prototype", `Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())).leak = 1`,
			`Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())).leak === undefined`},
		{"binding replaced", `http.fetch = () => "leaked"`, `String(http.fetch).indexOf("native") >= 0`},
		{"binding object extended", `entities.leak = 1`, `entities.leak === undefined`},
		{"Promise.prototype.then", `Promise.prototype.then = function () {}`, `Promise.resolve(1).then.name === "then"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRun(t, e, `try { `+tc.attempt+`; return "written"; } catch (e) { return e.name; }`, request())
			if !silent[tc.name] && got != "TypeError" && got != "ReferenceError" && got != "EvalError" {
				t.Errorf("attempt returned %v, want a TypeError, ReferenceError or EvalError", got)
			}
			if got := mustRun(t, e, "return "+tc.probe, request()); got != true {
				t.Errorf("probe %s is %v after the attempt", tc.probe, got)
			}
		})
	}
	t.Run("closure-level variables are the call's own", func(t *testing.T) {
		s := compile(t, e, "counter", `var count = (typeof count === "number" ? count : 0) + 1;
			return count;`, 0)
		for i := range 3 {
			res, err := s.Invoke(context.Background(), request())
			if err != nil || value(res) != 1.0 {
				t.Fatalf("call %d: %v %v", i, res, err)
			}
		}
	})
	t.Run("own objects still take properties named like frozen ones", func(t *testing.T) {
		got := mustRun(t, e, `class BankError extends Error {
				constructor(m) { super(m); this.name = "BankError"; }
			}
			const o = {};
			o.toString = () => "mine";
			o.constructor = "c";
			const err = new Error("x");
			err.name = "Custom";
			err.message = "changed";
			return [String(new BankError("m")), String(o), o.constructor, String(err), String(new Error("plain"))];`, request())
		want := []any{"BankError: m", "mine", "c", "Custom: changed", "Error: plain"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if got := mustRun(t, e, `try { Error.prototype.name = "x"; return "written"; } catch (e) { return e.name; }`, request()); got != "TypeError" {
			t.Errorf("Error.prototype.name assignment: %v", got)
		}
	})
}

func TestResultLimit(t *testing.T) {
	e := New(Options{MaxResultBytes: 100})
	if got := mustRun(t, e, `return "x".repeat(98)`, request()); got != strings.Repeat("x", 98) {
		t.Errorf("got %v", got)
	}
	_, err := run(t, e, `return "x".repeat(99)`, request())
	ee := asError(t, err, 500, engine.CodeScriptFailed)
	if want := "connector method testMethod failed: its result is larger than the limit of 100 bytes"; ee.Message != want {
		t.Errorf("message %q, want %q", ee.Message, want)
	}
}

func TestConcurrentCalls(t *testing.T) {
	e := New(Options{DefaultTimeout: 30 * time.Second})
	s := compile(t, e, "sum", `
		var mine = args[0].id;
		let leaked = "no";
		try { globalThis.shared = mine; leaked = "yes"; } catch (e) {}
		try { Array.prototype.shared = mine; leaked = "yes"; } catch (e) {}
		let total = 0;
		for (const v of args[0].values) { total += v; }
		await null;
		return {id: mine, total: total * args[1], leaked: leaked, shared: typeof globalThis.shared};`, 0)
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			id := fmt.Sprintf("call-%d", i)
			res, err := s.Invoke(context.Background(), request(map[string]any{"id": id, "values": []int{i, i + 1, 2}}, i%7))
			if err != nil {
				t.Errorf("%s: %v", id, err)
				return
			}
			want := map[string]any{"id": id, "total": float64((2*i + 3) * (i % 7)), "leaked": "no", "shared": "undefined"}
			if !reflect.DeepEqual(value(res), want) {
				t.Errorf("%s: got %v, want %v", id, value(res), want)
			}
		})
	}
	wg.Wait()
	if n := len(e.idle); n > e.o.MaxRuntimes {
		t.Errorf("%d idle runtimes, more than %d", n, e.o.MaxRuntimes)
	}
}

func TestRuntimeLimit(t *testing.T) {
	e := New(Options{MaxRuntimes: 1})
	block := make(chan struct{})
	started := make(chan struct{})
	e.o.Caller = callerFunc(func(ctx context.Context, _ *connector.Request, name string, _ []any) (any, error) {
		if name == "block" {
			close(started)
			<-block
		}
		return nil, nil
	})
	slow := compile(t, e, "slow", `await connector.call("block"); return 1;`, 10*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := slow.Invoke(context.Background(), request())
		done <- err
	}()
	<-started
	// The only runtime is busy: a call waits, up to its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := compile(t, e, "waiting", "return 1", 0).Invoke(ctx, request())
	ee := asError(t, err, 504, engine.CodeScriptTimeout)
	if !strings.Contains(ee.Message, "all 1 runtimes were busy") {
		t.Errorf("message %q", ee.Message)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, e, "return 2", request()); got != 2.0 {
		t.Errorf("got %v", got)
	}
}

func BenchmarkInvoke(b *testing.B) {
	e := New(Options{})
	s := compile(b, e, "getBank", `return {bankId: args[0], name: "Bank " + args[0], user: ctx.user && ctx.user.userId};`, 0)
	req := request("bank-1")
	ctx := context.Background()
	for b.Loop() {
		res, err := s.Invoke(ctx, req)
		if err != nil || value(res) == nil {
			b.Fatal(res, err)
		}
	}
}

// TestIdleRuntimesLastInFirstOut: a call takes the runtime that ran most
// recently, whose memory is the most likely to still be in cache.
func TestIdleRuntimesLastInFirstOut(t *testing.T) {
	e := New(Options{MaxRuntimes: 2})
	s := compile(t, e, "m", "return 1", 0).(*script)
	first, err := e.acquire(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.acquire(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	e.release(first)
	e.release(second)
	next, err := e.acquire(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer e.release(next)
	if next != second {
		t.Error("the call took the runtime released first, not the one released last")
	}
}
