package jsvm

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dop251/goja"
)

// resultCases are values a method may return, each with whether the fast
// encoder writes it (plain) or leaves it to the guarded JSON.stringify.
var resultCases = []struct {
	name, expr string
	plain      bool
}{
	{"object", `{a: 1, b: "x", c: true, d: null, e: false}`, true},
	{"nested", `{a: [1, 2, {b: [], c: {}}], d: {e: {f: "g"}}}`, true},
	{"numbers", `[0, -0, 1.5, -2e-7, 1e21, 1e-7, 123456789012345680000, 0.1 + 0.2, 2 ** 53, -1, 5e-324, 1.7976931348623157e308]`, true},
	{"not finite", `[NaN, Infinity, -Infinity]`, true},
	{"members left out", `{a: undefined, f() {}, s: Symbol("s"), b: 2}`, true},
	{"array elements written as null", `[undefined, function () {}, Symbol(), , 4]`, true},
	{"escapes", `["\"\\\b\f\n\r\t\u0000\u001f\u007f/", "é€😀", "\u2028\u2029"]`, true},
	{"integer keys", `{b: 1, 2: 2, a: 3, 1: 4}`, true},
	{"keys to escape and non-ASCII keys", `{"ключ": "значение", "😀": 1, "a\"b": 2, "\n": 3}`, true},
	{"top-level undefined", `undefined`, true},
	{"top-level function", `function () {}`, true},
	{"top-level symbol", `Symbol()`, true},
	{"top-level string", `"text"`, true},
	{"top-level number", `42`, true},
	{"top-level null", `null`, true},
	{"shared subtree", `(() => { const x = {a: 1}; return {x, y: x, z: [x, x]}; })()`, true},
	{"class instance", `new (class { constructor() { this.a = 1; } m() {} })()`, true},
	{"null prototype", `Object.assign(Object.create(null), {a: 1})`, true},
	{"non-enumerable member", `Object.defineProperty({a: 1}, "b", {value: 2, enumerable: false})`, true},
	{"sparse array", `(() => { const a = []; a[3] = 1; return a; })()`, true},
	{"empty", `[{}, [], ""]`, true},

	{"getter", `{a: 1, get b() { return 2; }}`, false},
	{"toJSON", `{a: {toJSON(k) { return "key " + k; }}}`, false},
	{"inherited toJSON", `[new (class { toJSON() { return 1; } })()]`, false},
	{"toJSON getter", `{get toJSON() { return undefined; }, a: 1}`, false},
	{"Date", `{d: new Date(0)}`, false},
	{"proxy", `new Proxy({a: 1}, {})`, false},
	{"proxy with traps", `{p: new Proxy({a: 1}, {get: () => 2})}`, false},
	{"boxed primitives", `[new Number(1), new String("s"), new Boolean(false)]`, false},
	{"Map", `{m: new Map([[1, 2]])}`, false},
	{"Error", `{e: new Error("x")}`, false},
	{"arguments", `(function () { return arguments; })(1, 2)`, false},
	{"lone surrogate", `["\ud800"]`, false},
	{"lone surrogate key", `{"\udc00": 1}`, false},
	{"array element getter", `Object.defineProperty([1], 0, {get() { return 2; }, enumerable: true})`, false},
	{"cycle", `(() => { const o = {a: [1]}; o.a.push(o); return o; })()`, false},
	{"nested too deep", `(() => { let o = {}; for (let i = 0; i < 2000; i++) { o = {o}; } return o; })()`, false},
}

// TestPlainResults checks the fast encoder against JSON.stringify: it
// writes what JSON.stringify writes for plain values and leaves the others
// untouched (a getter it left has not run).
func TestPlainResults(t *testing.T) {
	e := New(Options{})
	sb, err := e.newSandbox()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := sb.vm.RunString("(" + tc.expr + ")")
			if err != nil {
				t.Fatal(err)
			}
			text, plain, err := sb.encodePlain(v)
			if err != nil {
				t.Fatal(err)
			}
			if plain != tc.plain {
				t.Fatalf("plain = %v, want %v", plain, tc.plain)
			}
			if !plain {
				return
			}
			want, err := sb.stringify(goja.Undefined(), v)
			if err != nil {
				t.Fatal(err)
			}
			if goja.IsUndefined(want) {
				if text != nil {
					t.Fatalf("wrote %s, JSON.stringify answers undefined", text)
				}
				return
			}
			if string(text) != want.String() {
				t.Fatalf("wrote\n%s\nJSON.stringify writes\n%s", text, want.String())
			}
		})
	}
}

// TestResultsAsJSONStringify checks, through Invoke, that a method's result
// is what JSON.stringify makes of the returned value, whichever encoder
// writes it, and fails as JSON.stringify does.
func TestResultsAsJSONStringify(t *testing.T) {
	e := New(Options{})
	for _, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			res, err := compile(t, e, "direct", "return ("+tc.expr+");", 0).Invoke(ctx, request())
			ref, refErr := compile(t, e, "stringified", "return JSON.stringify("+tc.expr+");", 0).Invoke(ctx, request())
			if refErr != nil {
				// The same failure, but for the method's name and where in
				// the body JSON.stringify was called.
				if err == nil || failure(err) != failure(refErr) {
					t.Fatalf("error %v, JSON.stringify fails with %v", err, refErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, _ := value(ref).(string)
			if string(res.JSON) != want {
				t.Fatalf("result\n%s\nJSON.stringify\n%s", res.JSON, want)
			}
		})
	}
}

// failure is an error without the method's name and position.
func failure(err error) string {
	return where.ReplaceAllString(strings.Replace(strings.Replace(err.Error(), "stringified", "", 1), "direct", "", 1), "")
}

var where = regexp.MustCompile(` at line \d+, column \d+`)

// TestResultGetterRunsOnce checks that a getter of a result runs once: the
// fast encoder stops before it, and JSON.stringify runs it. (Were the
// getter run by the fast encoder, the Date it answers would send the value
// to JSON.stringify, which would run it again.)
func TestResultGetterRunsOnce(t *testing.T) {
	var logged atomic.Int64
	e := New(Options{Logger: slog.New(countHandler{&logged})})
	body := `return {a: [1, 2], get b() { log.info("read b"); return {c: new Date(0)}; }, d: "x"};`
	for i := 1; i <= 3; i++ {
		res, err := compile(t, e, "getter", body, 0).Invoke(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"a":[1,2],"b":{"c":"1970-01-01T00:00:00.000Z"},"d":"x"}`; string(res.JSON) != want {
			t.Fatalf("result %s, want %s", res.JSON, want)
		}
		if got := logged.Load(); got != int64(i) {
			t.Fatalf("after %d calls the getter ran %d times", i, got)
		}
	}
}

// countHandler counts the records logged.
type countHandler struct{ n *atomic.Int64 }

func (countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }
