package jsvm

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// heapAfterGC is the live heap after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestBuiltinLimits runs one hostile builtin call each: today each
// allocates gigabytes, runs for minutes or overflows the Go stack inside
// one builtin. Each is refused with script_memory_limit at once, naming the
// builtin, and the engine goes on.
func TestBuiltinLimits(t *testing.T) {
	// A 1 MiB budget caps builtins at 4,096 elements.
	e := New(Options{MaxAllocBytes: 1 << 20, MaxRuntimes: 2})
	before := heapAfterGC()
	for _, tc := range []struct{ name, body, builtin string }{
		{"sparse fill", "return Array(1e9).fill(0).length", "Array.prototype.fill"},
		{"repeat", "return 'x'.repeat(1e9).length", "String.prototype.repeat"},
		{"padStart", "return 'x'.padStart(1e9).length", "String.prototype.padStart"},
		{"padEnd", "return 'x'.padEnd(2 ** 30, 'ab').length", "String.prototype.padEnd"},
		{"join of holes", "return Array(1e9).join('ab').length", "Array.prototype.join"},
		{"join of a shared string", "return Array(4000).fill('x'.repeat(4000)).join('').length", "Array.prototype.join"},
		{"toString of nested arrays", "let a = []; for (let i = 0; i < 5000; i++) a = [a]; return String(a).length", "Array.prototype.join"},
		{"toLocaleString", "return Array(4000).fill('x'.repeat(4000)).toLocaleString().length", "Array.prototype.toLocaleString"},
		{"array concat doubling", "let a = [1, 2, 3]; for (let i = 0; i < 40; i++) a = a.concat(a); return a.length", "Array.prototype.concat"},
		{"string concat", "let s = 'x'.repeat(1000); for (let i = 0; i < 40; i++) s = s.concat(s, s); return s.length", "String.prototype.concat"},
		{"ArrayBuffer", "return new ArrayBuffer(1e9).byteLength", "new ArrayBuffer"},
		{"Uint8Array", "return new Uint8Array(1e9).length", "new Uint8Array"},
		{"Float64Array", "return new Float64Array(2 ** 28).length", "new Float64Array"},
		{"typed array of an array-like", "return new Int32Array({length: 1e9}).length", "new Int32Array"},
		{"typed array from", "return Uint16Array.from({length: 1e9}).length", "TypedArray.from"},
		{"typed array slice", "const b = new Uint8Array(900000); return [b.slice().length, b.slice().length]", "TypedArray.prototype.slice"},
		{"ArrayBuffer slice", "const b = new ArrayBuffer(900000); return [b.slice(0).byteLength, b.slice(0).byteLength]", "ArrayBuffer.prototype.slice"},
		{"spread of a typed array", "return [...new Uint8Array(100000)].length", "an array iterator"},
		{"typed array join", "return new Float64Array(100000).join().length", "TypedArray.prototype.join"},
		{"typed array sort", "return new Float64Array(100000).sort().length", "TypedArray.prototype.sort"},
		{"Array.from an array-like", "return Array.from({length: 1e9}).length", "Array.from"},
		{"spread of holes", "return [...Array(1e9)].length", "an array iterator"},
		{"Set of keys", "return new Set(Array(1e9).keys()).size", "an array iterator"},
		{"Array.from a Set", "const s = new Set(); for (let i = 0; i < 70000; i++) s.add(i); return Array.from(s).length", "a set iterator"},
		{"spread of a map", "const m = new Map(); for (let i = 0; i < 70000; i++) m.set(i, i); return [...m].length", "a map iterator"},
		{"spread of a string", "return [...'x'.repeat(100000)].length", "a string iterator"},
		{"JSON.stringify of a shared subtree", "let o = {}; for (let i = 0; i < 40; i++) o = {a: o, b: o}; return JSON.stringify(o).length", "JSON.stringify"},
		{"JSON.stringify of holes", "return JSON.stringify(Array(1e9)).length", "JSON.stringify"},
		{"JSON.stringify deep", "let a = []; for (let i = 0; i < 5000; i++) a = [a]; return JSON.stringify(a).length", "JSON.stringify"},
		{"JSON.stringify indented", "return JSON.stringify(Array(3000).fill('x'.repeat(300)), null, 10).length", "JSON.stringify"},
		{"JSON.parse deep", "return JSON.parse('['.repeat(5000) + ']'.repeat(5000)).length", "JSON.parse"},
		{"flat deep", "let a = []; for (let i = 0; i < 5000; i++) a = [a]; return a.flat(Infinity).length", "Array.prototype.flat"},
		{"flat of a shared array", "const b = Array(1000).fill(0); return Array(1000).fill(b).flat().length", "Array.prototype.flat"},
		{"apply of an array-like", "return Math.max.apply(null, {length: 1e9})", "Function.prototype.apply"},
		{"Reflect.apply", "return Reflect.apply(Math.max, null, {length: 1e9})", "Reflect.apply"},
		{"Reflect.construct", "return Reflect.construct(Array, {length: 1e9}).length", "Reflect.construct"},
		{"Object.keys of a string", "return Object.keys('x'.repeat(100000)).length", "Object.keys"},
		{"Object.entries of an array", "return Object.entries(Array(100000).fill(0)).length", "Array.prototype.fill"},
		{"split", "return 'x'.repeat(100000).split('').length", "String.prototype.split"},
		{"replace with the prefix", "return 'x'.repeat(10000).replace(/x/g, '$`').length", "String.prototype.replace"},
		{"replaceAll", "return 'x'.repeat(10000).replaceAll('x', 'y'.repeat(1000)).length", "String.prototype.replaceAll"},
		{"String.raw", "return String.raw({raw: {length: 1e9}})", "String.raw"},
		{"toUpperCase of a doubled string", "let s = 'x'; for (let i = 0; i < 20; i++) s += s; return s.toUpperCase().length", "String.prototype.toUpperCase"},
		{"encodeURIComponent", "let s = '\u00e9'; for (let i = 0; i < 17; i++) s += s; return encodeURIComponent(s).length", "encodeURIComponent"},
		{"regex matches", "return 'x'.repeat(100000).match(/x/g).length", "RegExp.prototype.exec"},
		{"the result", "return Array(100000).fill('x').map(x => x)", "Array.prototype.fill"},
		{"a huge result", "const a = []; for (let i = 0; i < 1000; i++) a.push('x'.repeat(300)); return a", "JSON.stringify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := run(t, e, tc.body, request())
			if d := time.Since(start); d > testDeadline/2 {
				t.Errorf("refused after %v", d)
			}
			ee := asError(t, err, 500, engine.CodeScriptMemoryLimit)
			if !strings.Contains(ee.Message, tc.builtin) || !strings.Contains(ee.Message, "connector method testMethod exceeded a script limit") {
				t.Errorf("message %q, want the method and %s", ee.Message, tc.builtin)
			}
			if got := mustRun(t, e, "return [1, 2, 3].join('-')", request()); got != "1-2-3" {
				t.Errorf("afterwards: %v", got)
			}
		})
	}
	if after := heapAfterGC(); after > before+64<<20 {
		t.Errorf("the heap grew from %d to %d bytes", before, after)
	}
}

// TestLimitCaught: a refusal is a RangeError the script may catch; the
// call then goes on, with nothing allocated.
func TestLimitCaught(t *testing.T) {
	e := New(Options{MaxAllocBytes: 1 << 20})
	got := mustRun(t, e, `try { 'x'.repeat(1e9); } catch (e) { return [e.name, e instanceof RangeError, e.message]; }`, request())
	want := []any{"RangeError", true, "String.prototype.repeat would allocate 1.9 GiB; the call may allocate 1.0 MiB more of its 1.0 MiB"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	// The budget is the call's own: the next call has all of it.
	for range 3 {
		if got := mustRun(t, e, "return 'x'.repeat(400000).length", request()); got != 400000.0 {
			t.Errorf("got %v", got)
		}
	}
}

// TestBudgetSpent: what guarded builtins make adds up over a call.
func TestBudgetSpent(t *testing.T) {
	e := New(Options{MaxAllocBytes: 1 << 20})
	_, err := run(t, e, "const keep = []; for (let i = 0; i < 100; i++) keep.push('x'.repeat(100000)); return keep.length", request())
	ee := asError(t, err, 500, engine.CodeScriptMemoryLimit)
	if !strings.Contains(ee.Message, "at line 1") {
		t.Errorf("message %q", ee.Message)
	}
}

// TestGuardedBuiltinsBehave: the guarded and reimplemented builtins answer
// as ECMAScript says for ordinary use.
func TestGuardedBuiltinsBehave(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct {
		name, body string
		want       any
	}{
		{"join", `return [[1, [2, 3]], null, undefined, "a", {toString() { return "o"; }}].join(";")`, "1,2,3;;;a;o"},
		{"join default separator", `return [1, 2].join()`, "1,2"},
		{"join of a cycle", `const a = [1, 2]; a.push(a); return a.join("-")`, "1-2-"},
		{"join of an array-like", `return Array.prototype.join.call({length: 3, 0: "a", 2: "c"}, "+")`, "a++c"},
		{"String of an array", "return String([1, [2, [3]]])", "1,2,3"},
		{"toLocaleString", `return [1, "b", null].toLocaleString()`, "1,b,"},
		{"flat", `return [1, [2, [3, [4]]], , 5].flat()`, []any{1.0, 2.0, []any{3.0, []any{4.0}}, 5.0}},
		{"flat deep", `return [1, [2, [3, [4]]]].flat(Infinity)`, []any{1.0, 2.0, 3.0, 4.0}},
		{"flat zero", `return [1, [2]].flat(0)`, []any{1.0, []any{2.0}}},
		{"flatMap", `return [1, 2].flatMap((x, i) => [x, i, [x]])`, []any{1.0, 0.0, []any{1.0}, 2.0, 1.0, []any{2.0}}},
		{"concat", `return [1].concat([2, 3], 4, {length: 1, 0: 5, [Symbol.isConcatSpreadable]: true})`, []any{1.0, 2.0, 3.0, 4.0, 5.0}},
		{"repeat and pad", `return ["ab".repeat(3), "7".padStart(3, "0"), "x".padEnd(4, "yz"), "a".padStart(1)]`, []any{"ababab", "007", "xyzy", "a"}},
		{"string concat", `return "a".concat(1, null, [2, 3])`, "a1null2,3"},
		{"replace", `return ["a-b-c".replace("-", "+"), "a-b-c".replaceAll("-", "[$&]"), "abc".replace(/b/, "$'$\x60"), "aaa".replace(/a/g, (m, i) => i)]`,
			[]any{"a+b-c", "a[-]b[-]c", "acac", "012"}},
		{"split", `return ["a,b,c".split(","), "a,b,c".split(",", 2), "abc".split(""), "a1b2".split(/\d/)]`,
			[]any{[]any{"a", "b", "c"}, []any{"a", "b"}, []any{"a", "b", "c"}, []any{"a", "b", ""}}},
		{"String.raw", "return String.raw`a\\n${1 + 1}b`", `a\n2b`},
		{"case and escapes", `return ["Straße".toUpperCase(), "ÉA".toLowerCase(), encodeURIComponent("a b/é"), escape("é")]`,
			[]any{"STRASSE", "éa", "a%20b%2F%C3%A9", "%E9"}},
		{"regular expressions", `return [/b+/.test("abbc"), /(b+)/.exec("abbc")[1], "a1b22".match(/\d+/g), [..."a1b2".matchAll(/\d/g)].length, "abc".search(/c/)]`,
			[]any{true, "bb", []any{"1", "22"}, 2.0, 2.0}},
		{"JSON round trip", `return JSON.parse(JSON.stringify({a: [1, "x", true, null], b: {c: 1.5}}))`,
			map[string]any{"a": []any{1.0, "x", true, nil}, "b": map[string]any{"c": 1.5}}},
		{"JSON.stringify replacer function", `return JSON.stringify({a: 1, b: [2, 3]}, (k, v) => typeof v === "number" ? v * 10 : v)`, `{"a":10,"b":[20,30]}`},
		{"JSON.stringify property list", `return JSON.stringify({c: 3, a: 1, b: {a: 2, z: 0}}, ["b", "a"])`, `{"b":{"a":2},"a":1}`},
		{"JSON.stringify indented", `return JSON.stringify({a: [1]}, null, 2)`, "{\n  \"a\": [\n    1\n  ]\n}"},
		{"JSON.stringify toJSON and nesting", `return JSON.stringify({d: {toJSON() { return JSON.stringify([1]); }}, f() {}, u: undefined, s: Symbol()})`, `{"d":"[1]"}`},
		{"JSON.stringify cycle", `const o = {}; o.o = o; try { JSON.stringify(o); } catch (e) { return e.name; }`, "TypeError"},
		{"JSON.stringify primitives", `return [JSON.stringify("x"), JSON.stringify(1), JSON.stringify(undefined), JSON.stringify(new String("s")), JSON.stringify([NaN])]`,
			[]any{`"x"`, "1", nil, `"s"`, "[null]"}},
		{"JSON.parse reviver", `return JSON.parse('{"a": 1, "b": [2]}', (k, v) => typeof v === "number" ? v + 1 : v)`,
			map[string]any{"a": 2.0, "b": []any{3.0}}},
		{"JSON.parse nesting within the limit", `return JSON.parse("[".repeat(500) + "]".repeat(500)).length`, 1.0},
		{"typed arrays", `const u = new Uint8Array([1, 2, 3]); const f = Float32Array.from([1.5]);
			class Bytes extends Uint8Array {}
			return [u instanceof Uint8Array, u.constructor === Uint8Array, Array.from(u.slice(1)), f[0],
				new Bytes(2) instanceof Bytes && new Bytes(2) instanceof Uint8Array && !(u instanceof Bytes) && !(u instanceof Float32Array),
				new Uint8Array(new ArrayBuffer(8), 2, 4).length, [...u.map(x => x * 2)], u.join("|"), typeof Uint8Array.from]`,
			[]any{true, true, []any{2.0, 3.0}, 1.5, true, 4.0, []any{2.0, 4.0, 6.0}, "1|2|3", "function"}},
		{"arrays", `return [[].constructor === Array, [3, 1, 2].sort(), [1, 2, 3].map(x => x * 2), Array.from("ab"), Array.from({length: 2}, (x, i) => i),
			[..."ab"], Object.keys([7, 8]), Object.entries({a: 1}), Math.max.apply(null, [1, 5, 2]), Reflect.apply(Math.min, null, [4, 3])]`,
			[]any{true, []any{1.0, 2.0, 3.0}, []any{2.0, 4.0, 6.0}, []any{"a", "b"}, []any{0.0, 1.0}, []any{"a", "b"},
				[]any{"0", "1"}, []any{[]any{"a", 1.0}}, 5.0, 3.0}},
		{"collections", `const m = new Map([[1, "a"]]); const s = new Set([1, 2]);
			return [[...m], [...s.keys()], [...s].length, s.union(new Set([3])).size, [...m.entries()].length]`,
			[]any{[]any{[]any{1.0, "a"}}, []any{1.0, 2.0}, 2.0, 3.0, 1.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, e, tc.body, request()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestRegexpTime: a backtracking expression that never ends is stopped
// after regexpTimeout, whichever method runs it, rather than reading as
// no match or running past the deadline.
func TestRegexpTime(t *testing.T) {
	e := New(Options{})
	for _, body := range []string{
		`return /^(a+)+\1b/.test("a".repeat(40))`,
		`return "a".repeat(40).replace(/(a+)+\1b/g, "x")`,
		`return "a".repeat(40).split(/(a+)+\1b/)`,
	} {
		t.Run(body, func(t *testing.T) {
			start := time.Now()
			_, err := run(t, e, body, request())
			if d := time.Since(start); d > regexpTimeout+5*time.Second {
				t.Errorf("stopped after %v", d)
			}
			ee := asError(t, err, 504, engine.CodeScriptTimeout)
			if !strings.Contains(ee.Message, "a regular expression match ran") {
				t.Errorf("message %q", ee.Message)
			}
		})
	}
}

// TestOverrun: a call whose deadline passes while the slowest builtins run
// over arrays at the element cap stops soon after it (or earlier, when what
// the loop makes spends its budget). The decision record gives what they
// take at the default caps.
func TestOverrun(t *testing.T) {
	e := New(Options{MaxAllocBytes: 4 << 20}) // 16,384 elements
	const deadline = 200 * time.Millisecond
	for _, loop := range []string{
		"new Map(a.entries())",
		"new Set(a)",
		"Object.entries(a)",
		"a.map(String).sort()",
		"JSON.stringify(a)",
		"a.join()",
		"[...a]",
	} {
		t.Run(loop, func(t *testing.T) {
			body := "const a = Array.from({length: 16000}, (x, i) => i);\nfor (;;) { " + loop + "; }"
			start := time.Now()
			_, err := compile(t, e, "spin", body, deadline).Invoke(context.Background(), request())
			if d := time.Since(start); d > deadline+time.Second {
				t.Errorf("stopped %v after its deadline", d-deadline)
			}
			var ee *engine.Error
			if !errors.As(err, &ee) || (ee.Code != engine.CodeScriptTimeout && ee.Code != engine.CodeScriptMemoryLimit) {
				t.Errorf("error %v, want a timeout or the allocation limit", err)
			}
		})
	}
}

// TestIteratorsStop: a spread over the builtin iterator an arguments
// object carries (goja's own, not the realm's guarded one) runs natively,
// but its steps are guarded: it stops with the call's deadline or budget
// rather than after a billion steps. A for…of loop over a long array runs.
func TestIteratorsStop(t *testing.T) {
	e := New(Options{MemoryLimit: 256 << 20})
	if got := mustRun(t, e, "let n = 0; for (const c of 'x'.repeat(2e5)) { n++; } return n", request()); got != 2e5 {
		t.Errorf("for…of over a long string: %v", got)
	}
	const deadline = 300 * time.Millisecond
	body := `const values = (function () { return arguments[Symbol.iterator]; })();
const holes = Array(1e9);
return [...{[Symbol.iterator]() { return values.call(holes); }}].length;`
	start := time.Now()
	_, err := compile(t, e, "spread", body, deadline).Invoke(context.Background(), request())
	if d := time.Since(start); d > deadline+5*time.Second {
		t.Errorf("stopped %v after its deadline", d-deadline)
	}
	var ee *engine.Error
	if !errors.As(err, &ee) || (ee.Code != engine.CodeScriptTimeout && ee.Code != engine.CodeScriptMemoryLimit) {
		t.Errorf("error %v, want the deadline or the allocation limit", err)
	}
}

// TestMemoryWatchdog: what no builtin guard sees (objects pushed in a
// loop, a string doubled with +) is stopped by the watchdog once the
// running calls hold more than MemoryLimit, long before the deadline; the
// runtimes are dropped and the memory returns.
func TestMemoryWatchdog(t *testing.T) {
	e := New(Options{MemoryLimit: 64 << 20, MaxRuntimes: 2})
	before := heapAfterGC()
	for _, body := range []string{
		"const keep = []; for (;;) keep.push({n: keep.length, s: 'item ' + keep.length});",
		"let s = 'x'.repeat(1 << 16); const keep = []; for (;;) { keep.push(s); s += s; }",
		"const keep = new Map(); for (let i = 0; ; i++) keep.set(i, [i, i, i]);",
	} {
		t.Run(body, func(t *testing.T) {
			start := time.Now()
			_, err := compile(t, e, "hog", body, 30*time.Second).Invoke(context.Background(), request())
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("stopped after %v", d)
			}
			ee := asError(t, err, 503, engine.CodeScriptMemoryExhausted)
			if !strings.Contains(ee.Message, "connector method hog was stopped at line 1") {
				t.Errorf("message %q", ee.Message)
			}
			if got := mustRun(t, e, "return 1", request()); got != 1.0 {
				t.Errorf("afterwards: %v", got)
			}
		})
	}
	if after := heapAfterGC(); after > before+64<<20 {
		t.Errorf("the heap grew from %d to %d bytes", before, after)
	}
}

// panickyEntities is an Entities whose Get panics for id "boom", as a
// connector with a bug would on arguments it does not expect.
type panickyEntities struct{ *fakeEntities }

func (p panickyEntities) Get(ctx context.Context, pr *engine.Principal, bankID, entity, id string) (map[string]any, error) {
	if id == "boom" {
		panic("entities bug: no record boom")
	}
	return p.fakeEntities.Get(ctx, pr, bankID, entity, id)
}

// TestHostPanic: a Go panic inside a binding is an Error the script can
// catch, naming the binding and the correlation id; uncaught, it fails the
// call with script_failed. The runtime stays in the pool.
func TestHostPanic(t *testing.T) {
	e := New(Options{Entities: panickyEntities{newFakeEntities()}, Caller: callerFunc(
		func(context.Context, *connector.Request, string, []any) (any, error) { panic("bug") }), MaxRuntimes: 1})
	got := mustRun(t, e, `const out = [];
		for (const f of [() => entities.get("account", "boom"), () => connector.call("getBank", [])]) {
			try { await f(); } catch (e) { out.push(e.message); }
		}
		return out;`, request())
	want := []any{"entities.get failed: internal error (correlation id corr-1)", "connector.call failed: internal error (correlation id corr-1)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	_, err := run(t, e, `return await entities.get("account", "boom");`, request())
	ee := asError(t, err, 500, engine.CodeScriptFailed)
	if !strings.Contains(ee.Message, "entities.get failed: internal error (correlation id corr-1)") {
		t.Errorf("message %q", ee.Message)
	}
	if len(e.idle) != 1 {
		t.Fatalf("%d idle runtimes, want the one that ran", len(e.idle))
	}
	pooled := e.idle[0]
	if got := mustRun(t, e, `return (await entities.get("account", "a1")).balance`, request()); got != 100.0 {
		t.Errorf("afterwards: %v", got)
	}
	if len(e.idle) != 1 || e.idle[0] != pooled {
		t.Error("the runtime was replaced")
	}
}

// TestNoBigIntNoEval: BigInt, whose operators allocate without bound, and
// code made from strings, which would bring it back, are not available.
func TestNoBigIntNoEval(t *testing.T) {
	e := New(Options{})
	_, err := e.Compile(&connector.Method{Name: "m"}, "const x = 1;\nreturn 1n << 10000000000n;", 0)
	ee := asError(t, err, 400, CodeInvalidScript)
	if !strings.Contains(ee.Message, "line 2, column 8: BigInt is not available") {
		t.Errorf("message %q", ee.Message)
	}
	got := mustRun(t, e, `const names = [];
		for (const f of [() => eval("1"), () => Function("return 1")(), () => new Function("return 1"),
			() => (async function () {}).constructor("return 1"), () => (function* () {}).constructor("yield 1")]) {
			try { f(); names.push("ran"); } catch (e) { names.push(e.name); }
		}
		class F extends Function {}
		return [typeof BigInt, typeof BigInt64Array, typeof new DataView(new ArrayBuffer(8)).getBigInt64,
			(() => {}) instanceof Function && !((() => {}) instanceof F) && !({} instanceof Function), names];`, request())
	want := []any{"undefined", "undefined", "undefined", true, []any{"EvalError", "EvalError", "EvalError", "EvalError", "EvalError"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

// TestHiddenHeaders: scripts never see the caller's credentials, in any
// case spelling; they get the principal instead.
func TestHiddenHeaders(t *testing.T) {
	e := New(Options{HiddenHeaders: []string{"Account-Request-Information"}})
	req := request()
	req.Call.Principal.Method = "direct_login"
	req.Call.HTTP = &fakeHTTP{method: "GET", path: "/x", headers: map[string]string{
		"Authorization": "DirectLogin token=\"secret-1\"", "Directlogin": "token=\"secret-2\"", "Cookie": "session=secret-3",
		"Proxy-Authorization": "Basic secret-4", "Account-Request-Information": "secret-5", "X-Request-Id": "visible"}}
	got := mustRun(t, e, `const h = ctx.request.headers, seen = [];
		for (const name of ["Authorization", "authorization", "DIRECTLOGIN", "DirectLogin", "cookie", "Proxy-Authorization",
			"account-request-information", "X-Request-Id"]) {
			if (h[name] !== undefined || name in h) { seen.push(name + "=" + h[name]); }
		}
		return {seen, principal: ctx.principal};`, req)
	want := map[string]any{"seen": []any{"X-Request-Id=visible"}, "principal": map[string]any{
		"userId": "user-1", "username": "alice", "consumerId": "consumer-1", "authMethod": "direct_login"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if got := mustRun(t, e, "return ctx.principal", &connector.Request{Call: &engine.Call{}}); got != nil {
		t.Errorf("principal of a public call %#v", got)
	}
}
