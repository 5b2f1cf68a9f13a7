package jsvm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/events"
)

// maxFunctions bounds the script functions a runtime keeps; past it the
// cache starts over, so scripts replaced long ago do not stay reachable.
const maxFunctions = 256

// sandbox is one goja runtime with the bindings installed and the builtins
// frozen. One call at a time uses it.
type sandbox struct {
	e  *Engine
	vm *goja.Runtime
	// call is the current call, read by the bindings; nil between calls.
	call *callState
	// broken runtimes are dropped instead of returned to the pool: one that
	// was interrupted or failed inside goja.
	broken bool
	// slot is set when the current call holds a slot of Engine.slots.
	slot bool
	// funcs caches each script's function, made once per runtime.
	funcs map[*script]goja.Callable
	// current is call for the watchdog, which reads it from its own
	// goroutine; nil between calls.
	current atomic.Pointer[callState]
	// limits are what the guarded builtins track for the call.
	limits limitState
	// emitted are the events the current call emitted (events.emit),
	// written once it returns successfully; nil for calls that emit
	// none. It is kept here, not in callState, so that calls that emit
	// nothing pay nothing for it.
	emitted []*events.Event
	// walk is the JSON.stringify running, nil when none; walkState is
	// the outermost one's, kept between calls.
	walk      *jsonWalk
	walkState jsonWalk
	// plain encodes plain results; encodeFn runs it in the runtime.
	plain    plainJSON
	encodeFn goja.Callable

	// Helpers taken before the freeze, unreachable from scripts.
	stringify, parse, describe, rethrow, deepFreeze goja.Callable
	newError, newRangeError                         goja.Constructor
	arrayIsArray                                    native
	isArrayArg                                      [1]goja.Value
	jsonReplacer                                    *goja.Object
}

// callState is the state of the call a runtime is running.
type callState struct {
	parent   context.Context // the caller's
	deadline time.Time       // the call's: its timeout or parent's, the earlier
	sb       *sandbox        // the runtime running it
	req      *connector.Request
	script   *script
	// errs are the errors bindings rejected with, so that a client error a
	// script does not catch is passed on unchanged.
	errs map[*goja.Object]*engine.Error
	// stopped is set when the call is stopped (deadline, cancellation, the
	// watchdog): guarded builtins throw from then on, and the runtime is
	// interrupted. stopCause is why the watchdog stopped it, if it did.
	stopped   atomic.Bool
	stopCause atomic.Pointer[error]
	// mu orders stop and finish, so that no call is interrupted once it has
	// finished (its runtime may run another call by then).
	mu sync.Mutex
	// done is set when the call has returned.
	done atomic.Bool
	// ctx is what bindings pass on (entity operations, fetch, nested
	// calls): made the first time one needs it, it ends at the deadline or
	// when the call is stopped. Calls that use no binding make none.
	ctx    context.Context
	cancel context.CancelFunc
}

// context returns the call's context for bindings, making it at first
// use.
func (c *callState) context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithDeadline(c.parent, c.deadline)
		if c.stopped.Load() || c.done.Load() {
			c.cancel()
		}
	}
	return c.ctx
}

// ended reports whether the call must not go on: stopped, past its
// deadline, or its caller gone.
func (c *callState) ended(now time.Time) bool {
	return c.stopped.Load() || !now.Before(c.deadline) || c.parent.Err() != nil
}

// stop stops the call for cause (nil: its deadline or its caller): the
// builtins throw, the bindings' context ends and the runtime is
// interrupted. A call that has finished is left alone.
func (c *callState) stop(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done.Load() {
		return
	}
	if cause != nil {
		c.stopCause.CompareAndSwap(nil, &cause)
	}
	if c.cancel != nil {
		c.cancel()
	}
	if !c.stopped.Swap(true) {
		c.sb.vm.Interrupt(errStopped)
	}
}

// finish marks the call returned and tells whether it was stopped, when
// an interrupt may still be pending in its runtime.
func (c *callState) finish() (stopped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done.Store(true)
	if c.cancel != nil {
		c.cancel()
	}
	return c.stopped.Load()
}

// cause is why the call was stopped by stop, nil when it was not.
func (c *callState) cause() error {
	if p := c.stopCause.Load(); p != nil {
		return *p
	}
	return nil
}

// nestedKey marks the context of calls scripts make through
// connector.call; they take no slot.
type nestedKey struct{}

// acquire takes a runtime for a call of s, first waiting for a slot unless
// the call comes from another script.
func (e *Engine) acquire(ctx context.Context, s *script) (*sandbox, error) {
	slot := ctx.Value(nestedKey{}) == nil
	if slot {
		select {
		case e.slots <- struct{}{}:
		default:
			if err := e.waitSlot(ctx, s); err != nil {
				return nil, err
			}
		}
	}
	e.mu.Lock()
	sb := e.pop()
	e.mu.Unlock()
	if sb == nil {
		var err error
		if sb, err = e.newSandbox(); err != nil {
			if slot {
				<-e.slots
			}
			return nil, err
		}
	}
	sb.slot = slot
	return sb, nil
}

// waitSlot waits for a call to end and takes its slot, or until ctx ends,
// for a call of s that found every runtime busy; the wait is recorded.
func (e *Engine) waitSlot(ctx context.Context, s *script) error {
	start := time.Now()
	select {
	case e.slots <- struct{}{}:
		e.o.Metrics.Waited(time.Since(start))
		return nil
	case <-ctx.Done():
		e.o.Metrics.Waited(time.Since(start))
		if errors.Is(ctx.Err(), context.Canceled) {
			return engine.Errorf(http.StatusGatewayTimeout, engine.CodeScriptTimeout,
				"connector method %s was cancelled", s.name)
		}
		return engine.Errorf(http.StatusGatewayTimeout, engine.CodeScriptTimeout,
			"connector method %s could not start before its deadline: all %d runtimes were busy",
			s.name, e.o.MaxRuntimes)
	}
}

// release ends a call: the runtime returns to the pool unless broken (or
// the pool is full), and its slot is freed.
func (e *Engine) release(sb *sandbox) {
	sb.call, sb.emitted = nil, nil
	slot := sb.slot // sb is another call's once pooled
	e.mu.Lock()
	if !sb.broken && len(e.idle) < e.o.MaxRuntimes {
		e.idle = append(e.idle, sb)
	} else {
		delete(e.runtimes, sb)
	}
	e.mu.Unlock()
	if slot {
		<-e.slots
	}
}

// pop takes the most recently used idle runtime, nil when none; e.mu is
// held.
func (e *Engine) pop() *sandbox {
	n := len(e.idle)
	if n == 0 {
		return nil
	}
	sb := e.idle[n-1]
	e.idle[n-1] = nil
	e.idle = e.idle[:n-1]
	return sb
}

// stopEnded stops the running calls past their deadline at now, or whose
// caller has gone.
func (e *Engine) stopEnded(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for sb := range e.runtimes {
		if c := sb.current.Load(); c != nil && !c.stopped.Load() && c.ended(now) {
			c.stop(nil)
		}
	}
}

// stopAll stops every call running with cause, and returns those calls.
func (e *Engine) stopAll(cause error) []*callState {
	e.mu.Lock()
	defer e.mu.Unlock()
	var calls []*callState
	for sb := range e.runtimes {
		if c := sb.current.Load(); c != nil {
			c.stop(cause)
			calls = append(calls, c)
		}
	}
	return calls
}

// setupProgram takes the helpers and freezes everything reachable, once per
// runtime, after the bindings are installed.
var setupProgram = goja.MustCompile("jsvm:setup", setupJS, true)

const setupJS = `(function () {
	"use strict";
	const stringify = JSON.stringify, parse = JSON.parse, isInteger = Number.isInteger;
	const defineProperty = Object.defineProperty, getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
	const freeze = Object.freeze, isFrozen = Object.isFrozen, keysOf = Object.keys;

	// Frozen prototypes make assignments to inherited read-only properties
	// throw, even on a script's own objects (err.name = "X"). These common
	// ones become accessors that define the property on the object instead.
	function tame(proto, key) {
		const d = getOwnPropertyDescriptor(proto, key);
		if (!d || !("value" in d)) {
			return;
		}
		const value = d.value;
		defineProperty(proto, key, {
			get: function () { return value; },
			set: function (v) {
				if (this === proto) {
					throw new TypeError("Cannot assign to read only property '" + key + "'");
				}
				defineProperty(this, key, {value: v, writable: true, enumerable: true, configurable: true});
			},
			enumerable: d.enumerable,
			configurable: false,
		});
	}
	for (const E of [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, AggregateError]) {
		for (const key of ["name", "message", "constructor", "toString"]) {
			tame(E.prototype, key);
		}
	}
	for (const key of ["constructor", "toString", "valueOf", "toLocaleString", "hasOwnProperty"]) {
		tame(Object.prototype, key);
	}
	tame(Function.prototype, "toString");

	// Freeze every object reachable from the global object and from the
	// intrinsics only syntax reaches, so no call leaves state behind.
	const goError = globalThis.GoError;
	delete globalThis.GoError;
	const todo = [
		globalThis, goError,
		Object.getPrototypeOf(async function () {}),
		Object.getPrototypeOf(function* () {}),
		Object.getPrototypeOf([][Symbol.iterator]()),
		Object.getPrototypeOf(new Map()[Symbol.iterator]()),
		Object.getPrototypeOf(new Set()[Symbol.iterator]()),
		Object.getPrototypeOf(""[Symbol.iterator]()),
		Object.getPrototypeOf(/./[Symbol.matchAll]("")),
		(function () { return getOwnPropertyDescriptor(arguments, "callee").get; })(),
	];
	const seen = new Set();
	while (todo.length > 0) {
		const o = todo.pop();
		if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) {
			continue;
		}
		seen.add(o);
		Object.freeze(o);
		todo.push(Object.getPrototypeOf(o));
		const keys = Reflect.ownKeys(o);
		for (let i = 0; i < keys.length; i++) {
			const d = getOwnPropertyDescriptor(o, keys[i]);
			if ("value" in d) {
				todo.push(d.value);
			} else {
				todo.push(d.get, d.set);
			}
		}
	}

	// describe reads a thrown value once, catching whatever it throws; text
	// shows a value without a message.
	function describe(e) {
		const out = {status: 0, code: "", message: "", text: "", name: ""};
		try {
			if (e !== null && (typeof e === "object" || typeof e === "function")) {
				const status = e.status, code = e.code, message = e.message, name = e.name;
				if (typeof status === "number" && isInteger(status)) {
					out.status = status;
				}
				if (typeof code === "string") {
					out.code = code;
				}
				if (message !== undefined && message !== null) {
					out.message = String(message);
				} else {
					const text = stringify(e);
					out.text = typeof text === "string" ? text : String(e);
				}
				if (e instanceof Error && typeof name === "string" && name !== "Error") {
					out.name = name;
				}
			} else {
				out.text = String(e);
			}
		} catch (x) {
			out.message = "the thrown value cannot be read";
		}
		return out;
	}
	// rethrow throws e again, for its stack where it was made.
	function rethrow(e) {
		throw e;
	}
	// deepFreeze freezes o, a plain value the host made, and every object
	// in it: what the host shows scripts read-only.
	function deepFreeze(o) {
		const todo = [o];
		while (todo.length > 0) {
			const v = todo.pop();
			if (v !== null && typeof v === "object" && !isFrozen(v)) {
				freeze(v);
				const keys = keysOf(v);
				for (let i = 0; i < keys.length; i++) {
					todo.push(v[keys[i]]);
				}
			}
		}
		return o;
	}
	return {stringify: stringify, parse: parse, describe: describe, rethrow: rethrow, deepFreeze: deepFreeze, Error: Error};
})()`

// newSandbox makes a runtime: bindings installed, helpers taken, builtins
// frozen.
func (e *Engine) newSandbox() (*sandbox, error) {
	vm := goja.New()
	vm.SetParserOptions(parser.WithDisableSourceMaps) // eval never reads files
	vm.SetMaxCallStackSize(e.o.MaxCallStack)
	sb := &sandbox{e: e, vm: vm, funcs: make(map[*script]goja.Callable)}
	sb.limits.reset(int64(e.o.MaxAllocBytes))
	if err := sb.install(); err != nil {
		return nil, engine.Internal(fmt.Errorf("jsvm: installing bindings: %w", err))
	}
	if err := sb.guardBuiltins(); err != nil {
		return nil, engine.Internal(fmt.Errorf("jsvm: guarding builtins: %w", err))
	}
	v, err := vm.RunProgram(setupProgram)
	if err != nil {
		return nil, engine.Internal(fmt.Errorf("jsvm: setting up a runtime: %w", err))
	}
	h := v.ToObject(vm)
	for name, dst := range map[string]*goja.Callable{
		"stringify": &sb.stringify, "parse": &sb.parse, "describe": &sb.describe, "rethrow": &sb.rethrow,
		"deepFreeze": &sb.deepFreeze,
	} {
		f, ok := goja.AssertFunction(h.Get(name))
		if !ok {
			return nil, engine.Internal(fmt.Errorf("jsvm: setup helper %s is not a function", name))
		}
		*dst = f
	}
	ctor, ok := goja.AssertConstructor(h.Get("Error"))
	if !ok {
		return nil, engine.Internal(errors.New("jsvm: Error is not a constructor"))
	}
	sb.newError = ctor
	sb.plain.sb = sb
	if sb.encodeFn, ok = goja.AssertFunction(vm.ToValue(sb.plain.encode)); !ok {
		return nil, engine.Internal(errors.New("jsvm: the result encoder is not a function"))
	}
	e.mu.Lock()
	e.runtimes[sb] = struct{}{}
	e.mu.Unlock()
	return sb, nil
}

// function returns s's function in this runtime, running its program the
// first time.
func (sb *sandbox) function(s *script) (goja.Callable, error) {
	if f, ok := sb.funcs[s]; ok {
		return f, nil
	}
	v, err := sb.vm.RunProgram(s.prg)
	if err != nil {
		return nil, err
	}
	f, ok := goja.AssertFunction(v)
	if !ok {
		return nil, fmt.Errorf("jsvm: the program of %s is not a function", s.name)
	}
	if len(sb.funcs) >= maxFunctions {
		clear(sb.funcs)
	}
	sb.funcs[s] = f
	return f, nil
}

// argsValue converts a call's arguments into a JavaScript array.
func (sb *sandbox) argsValue(args []any) (goja.Value, error) {
	items := make([]any, len(args))
	for i, a := range args {
		v, err := sb.jsValue(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		items[i] = v
	}
	return sb.vm.NewArray(items...), nil
}

// ctxValue builds the ctx argument: the method, correlation id, bank,
// caller, the HTTP request being answered and the consent it is made
// under. Its members are made when a
// script first reads them, so a script that reads none pays for none.
func (sb *sandbox) ctxValue(s *script, req *connector.Request) goja.Value {
	call := req.Call
	if call == nil {
		call = &engine.Call{}
	}
	return sb.vm.NewDynamicObject(&ctxObject{sb: sb, method: s.name, bankID: req.BankID, call: call})
}

// ctxObject is a call's read-only ctx.
type ctxObject struct {
	sb      *sandbox
	method  string
	bankID  string
	call    *engine.Call
	members map[string]goja.Value // made so far
}

// ctxKeys are the members of ctx, in the order they are listed.
var ctxKeys = []string{"method", "correlationId", "bankId", "principal", "user", "consumer", "request", "consent"}

func (c *ctxObject) Get(key string) goja.Value {
	defer c.sb.recoverHost("ctx")
	if v, ok := c.members[key]; ok {
		return v
	}
	v := c.make(key)
	if v == nil {
		return nil
	}
	if c.members == nil {
		c.members = make(map[string]goja.Value, len(ctxKeys))
	}
	c.members[key] = v
	return v
}

// make builds one member; nil for a key ctx does not have.
func (c *ctxObject) make(key string) goja.Value {
	vm := c.sb.vm
	p := c.call.Principal
	switch key {
	case "method":
		return vm.ToValue(c.method)
	case "correlationId":
		return vm.ToValue(c.call.CorrelationID)
	case "bankId":
		return vm.ToValue(c.bankID)
	case "user":
		if p == nil || p.UserID == "" {
			return goja.Null()
		}
		u := vm.NewObject()
		define(u, "userId", vm.ToValue(p.UserID))
		define(u, "username", vm.ToValue(p.Username))
		return u
	case "consumer":
		if p == nil || p.ConsumerID == "" {
			return goja.Null()
		}
		o := vm.NewObject()
		define(o, "consumerId", vm.ToValue(p.ConsumerID))
		return o
	case "principal":
		if p == nil {
			return goja.Null()
		}
		o := vm.NewObject()
		define(o, "userId", vm.ToValue(p.UserID))
		define(o, "username", vm.ToValue(p.Username))
		define(o, "consumerId", vm.ToValue(p.ConsumerID))
		define(o, "authMethod", vm.ToValue(p.Method))
		return o
	case "request":
		return c.sb.requestValue(c.call.HTTP)
	case "consent":
		return c.sb.consentValue(c.call.Consent)
	}
	return nil
}

// consentValue shows the consent a call is made under (its JSON names:
// id, permissions, accounts, expires_at, ...), frozen; null for a call
// under none.
func (sb *sandbox) consentValue(g *engine.ConsentGrant) goja.Value {
	if g == nil {
		return goja.Null()
	}
	v, err := sb.jsValue(g)
	if err == nil {
		v, err = sb.deepFreeze(goja.Undefined(), v)
	}
	if err != nil {
		panic(err) // recoverHost answers the script with an error
	}
	return v
}

func (c *ctxObject) Has(key string) bool { return slices.Contains(ctxKeys, key) }

func (*ctxObject) Set(string, goja.Value) bool { return false }
func (*ctxObject) Delete(string) bool          { return false }
func (*ctxObject) Keys() []string              { return slices.Clone(ctxKeys) }

// requestValue shows the HTTP request being answered: method, path, query
// and headers; null when the call does not come from HTTP.
func (sb *sandbox) requestValue(h engine.HTTPRequest) goja.Value {
	if h == nil {
		return goja.Null()
	}
	vm := sb.vm
	r := vm.NewObject()
	define(r, "method", vm.ToValue(h.Method()))
	define(r, "path", vm.ToValue(h.Path()))
	q := vm.NewObject()
	values, _ := url.ParseQuery(h.RawQuery()) // what parses is shown
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if vs := values[name]; len(vs) == 1 {
			define(q, name, vm.ToValue(vs[0]))
		} else {
			items := make([]any, len(vs))
			for i, v := range vs {
				items[i] = v
			}
			define(q, name, vm.NewArray(items...))
		}
	}
	define(r, "query", q)
	define(r, "headers", vm.NewDynamicObject(headers{sb}))
	return r
}

// headers shows the request headers of the current call by name (any
// case), but for the hidden ones (credentials); engine.HTTPRequest cannot
// list them, so they have no keys.
type headers struct{ sb *sandbox }

func (h headers) lookup(key string) (string, bool) {
	c := h.sb.call
	if c == nil || c.req.Call == nil || c.req.Call.HTTP == nil {
		return "", false
	}
	for _, hidden := range h.sb.e.hidden {
		if strings.EqualFold(key, hidden) {
			return "", false
		}
	}
	return c.req.Call.HTTP.Header(key)
}

func (h headers) Get(key string) goja.Value {
	defer h.sb.recoverHost("ctx.request.headers")
	if v, ok := h.lookup(key); ok {
		return h.sb.vm.ToValue(v)
	}
	return nil
}

func (h headers) Has(key string) bool {
	_, ok := h.lookup(key)
	return ok
}

func (headers) Set(string, goja.Value) bool { return false }
func (headers) Delete(string) bool          { return false }
func (headers) Keys() []string              { return nil }

// define sets a property of an object made here; it cannot fail.
func define(o *goja.Object, name string, v goja.Value) {
	_ = o.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

// jsValue converts a Go value into a plain JavaScript value through JSON:
// structs become objects with their JSON names, nil is null.
func (sb *sandbox) jsValue(v any) (goja.Value, error) {
	switch v := v.(type) {
	case nil:
		return goja.Null(), nil
	case string, bool, float64:
		return sb.vm.ToValue(v), nil
	case map[string]any:
		o := sb.vm.NewObject()
		var small [16]string // the keys of most objects, without allocating
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			x, err := sb.jsValue(v[k])
			if err != nil {
				return nil, err
			}
			define(o, k, x)
		}
		return o, nil
	case []any:
		items := make([]any, len(v))
		for i, x := range v {
			jv, err := sb.jsValue(x)
			if err != nil {
				return nil, err
			}
			items[i] = jv
		}
		return sb.vm.NewArray(items...), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d, err := decodeJSON(string(b))
	if err != nil {
		return nil, err
	}
	return sb.jsValue(d)
}

// goJSON converts a JavaScript value to JSON text with the runtime's
// JSON.stringify ("" for undefined). An exception is thrown on, an
// interrupt passed up.
func (sb *sandbox) goJSON(v goja.Value) string {
	out, err := sb.stringify(goja.Undefined(), v)
	if err != nil {
		panic(err) // an *goja.Exception is rethrown; an interrupt goes on up
	}
	if goja.IsUndefined(out) {
		return ""
	}
	return out.String()
}

// goValue converts a JavaScript value to decoded JSON (nil for undefined),
// throwing as goJSON does.
func (sb *sandbox) goValue(v goja.Value) any {
	text := sb.goJSON(v)
	if text == "" {
		return nil
	}
	d, err := decodeJSON(text)
	if err != nil {
		panic(sb.vm.NewTypeError("%s", err))
	}
	return d
}

// decodeJSON decodes one JSON value.
func decodeJSON(text string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, err
	}
	return v, nil
}
