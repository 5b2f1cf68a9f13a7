package jsvm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/dop251/goja"
	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// binding is a function scripts call.
type binding = func(goja.FunctionCall) goja.Value

// install sets the global binding objects; the setup freezes them.
func (sb *sandbox) install() error {
	info, warn, fail := sb.log(slog.LevelInfo), sb.log(slog.LevelWarn), sb.log(slog.LevelError)
	for name, fns := range map[string]map[string]binding{
		"http": {"fetch": sb.fetch},
		"entities": {
			"get": sb.entityGet, "list": sb.entityList, "create": sb.entityCreate,
			"update": sb.entityUpdate, "delete": sb.entityDelete,
		},
		"connector": {"call": sb.connectorCall},
		"log":       {"info": info, "warn": warn, "error": fail},
		"console":   {"log": info, "info": info, "warn": warn, "error": fail},
		"crypto":    {"randomUUID": sb.randomUUID, "sha256": sb.sha256, "hmacSha256": sb.hmacSHA256},
		"events":    {"emit": sb.eventsEmit},
	} {
		o := sb.vm.NewObject()
		for fn, f := range fns {
			define(o, fn, sb.vm.ToValue(sb.shielded(name+"."+fn, f)))
		}
		if err := sb.vm.Set(name, o); err != nil {
			return err
		}
	}
	return nil
}

// shielded makes binding f safe to call: a Go panic inside it (a bug, or a
// connector that cannot take what a script passed) is logged with the
// call's correlation id and becomes an Error the script can catch, so the
// runtime stays sound and the process runs on. What goja panics with
// (exceptions, interrupts) passes.
func (sb *sandbox) shielded(what string, f binding) binding {
	return func(call goja.FunctionCall) goja.Value {
		defer sb.recoverHost(what)
		return f(call)
	}
}

// recoverHost is deferred by host code scripts reach: a Go panic becomes
// a thrown Error naming what failed and the correlation id.
func (sb *sandbox) recoverHost(what string) {
	x := recover()
	if x == nil {
		return
	}
	if fromGoja(x) {
		panic(x)
	}
	id, method, ctx := "", "", context.Background()
	if c := sb.call; c != nil {
		id, method, ctx = c.correlationID(), c.script.name, c.parent
	}
	sb.e.o.Logger.ErrorContext(ctx, "jsvm: panic in a host binding", "binding", what, "connector_method", method,
		"correlation_id", id, "panic", fmt.Sprint(x), "stack", string(debug.Stack()))
	e, err := sb.newError(nil, sb.vm.ToValue(what+" failed: internal error (correlation id "+id+")"))
	if err != nil {
		panic(err)
	}
	panic(e)
}

// gojaPath is the import path of goja, whose own panic values (thrown
// values, interrupts, internal errors) it handles itself.
var gojaPath = reflect.TypeFor[goja.Value]().PkgPath()

// fromGoja reports whether panic value x is one goja handles.
func fromGoja(x any) bool {
	if _, ok := x.(goja.Value); ok {
		return true
	}
	t := reflect.TypeOf(x)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == gojaPath
}

// async runs a binding's work now and returns a promise already settled
// with its outcome, so scripts await it without an event loop.
func (sb *sandbox) async(what string, work func(c *callState) (goja.Value, error)) goja.Value {
	c := sb.call
	p, resolve, reject := sb.vm.NewPromise()
	var v goja.Value
	var err error
	if c.ended(time.Now()) {
		err = errors.New(what + ": the call's deadline passed")
	} else {
		v, err = work(c)
	}
	if err != nil {
		err = reject(sb.errorValue(c, err))
	} else {
		err = resolve(v)
	}
	if err != nil {
		panic(err) // an interrupt, passed up
	}
	return sb.vm.ToValue(p)
}

// errorValue is the Error a binding rejects with; an *engine.Error gives
// its message, status and code.
func (sb *sandbox) errorValue(c *callState, err error) goja.Value {
	var ee *engine.Error
	msg := err.Error()
	if errors.As(err, &ee) {
		msg = ee.Message
	}
	o, cerr := sb.newError(nil, sb.vm.ToValue(msg))
	if cerr != nil {
		panic(cerr)
	}
	if ee != nil {
		define(o, "status", sb.vm.ToValue(ee.Status))
		define(o, "code", sb.vm.ToValue(ee.Code))
		if c.errs == nil {
			c.errs = make(map[*goja.Object]*engine.Error)
		}
		c.errs[o] = ee
	}
	return o
}

// opError is the error of a failed entity or connector operation: an
// *engine.Error as it is; anything else is logged and hidden as an
// internal error.
func (sb *sandbox) opError(c *callState, what string, err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee
	}
	if c.ended(time.Now()) {
		return errors.New(what + ": the call's deadline passed")
	}
	sb.e.o.Logger.ErrorContext(c.parent, "jsvm: "+what+" failed", "connector_method", c.script.name,
		"correlation_id", c.correlationID(), "error", err)
	return engine.Internal(err)
}

// correlationID is the call's correlation id, "" when none.
func (c *callState) correlationID() string {
	if c.req.Call == nil {
		return ""
	}
	return c.req.Call.CorrelationID
}

// principal is the caller, nil for public calls.
func (c *callState) principal() *engine.Principal {
	if c.req.Call == nil {
		return nil
	}
	return c.req.Call.Principal
}

// stringArg returns argument i, a non-empty string (or a number), or throws
// a TypeError.
func (sb *sandbox) stringArg(call goja.FunctionCall, i int, what, name string) string {
	v := call.Argument(i)
	switch v.Export().(type) {
	case string, int64, float64:
		if s := v.String(); s != "" {
			return s
		}
	}
	panic(sb.vm.NewTypeError("%s: %s must be a non-empty string", what, name))
}

// objectArg returns argument i converted through JSON, an object, or
// throws a TypeError; optional arguments may be undefined or null (nil).
func (sb *sandbox) objectArg(call goja.FunctionCall, i int, what, name string, optional bool) map[string]any {
	v := call.Argument(i)
	if optional && (goja.IsUndefined(v) || goja.IsNull(v)) {
		return nil
	}
	if m, ok := sb.goValue(v).(map[string]any); ok {
		return m
	}
	panic(sb.vm.NewTypeError("%s: %s must be an object", what, name))
}

// entities returns Options.Entities or the error that they are missing.
func (sb *sandbox) entities(what string) (Entities, error) {
	if sb.e.o.Entities == nil {
		return nil, errors.New(what + ": entities are not available")
	}
	return sb.e.o.Entities, nil
}

func (sb *sandbox) entityGet(call goja.FunctionCall) goja.Value {
	const what = "entities.get"
	entity, id := sb.stringArg(call, 0, what, "entity"), sb.stringArg(call, 1, what, "id")
	return sb.async(what, func(c *callState) (goja.Value, error) {
		ents, err := sb.entities(what)
		if err != nil {
			return nil, err
		}
		rec, err := ents.Get(c.context(), c.principal(), c.req.BankID, entity, id)
		if err != nil {
			return nil, sb.opError(c, what, err)
		}
		return sb.jsValue(rec)
	})
}

func (sb *sandbox) entityList(call goja.FunctionCall) goja.Value {
	const what = "entities.list"
	entity := sb.stringArg(call, 0, what, "entity")
	var filter map[string]string
	if f := sb.objectArg(call, 1, what, "filter", true); f != nil {
		filter = make(map[string]string, len(f))
		for k, v := range f {
			switch v := v.(type) {
			case string:
				filter[k] = v
			case float64:
				filter[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				filter[k] = strconv.FormatBool(v)
			default:
				panic(sb.vm.NewTypeError("%s: filter %s must be a string, number or boolean", what, k))
			}
		}
	}
	return sb.async(what, func(c *callState) (goja.Value, error) {
		ents, err := sb.entities(what)
		if err != nil {
			return nil, err
		}
		recs, err := ents.List(c.context(), c.principal(), c.req.BankID, entity, filter)
		if err != nil {
			return nil, sb.opError(c, what, err)
		}
		items := make([]any, len(recs))
		for i, r := range recs {
			items[i] = r
		}
		return sb.jsValue(items)
	})
}

func (sb *sandbox) entityCreate(call goja.FunctionCall) goja.Value {
	const what = "entities.create"
	entity, rec := sb.stringArg(call, 0, what, "entity"), sb.objectArg(call, 1, what, "record", false)
	return sb.async(what, func(c *callState) (goja.Value, error) {
		ents, err := sb.entities(what)
		if err != nil {
			return nil, err
		}
		out, err := ents.Create(c.context(), c.principal(), c.req.BankID, entity, rec)
		if err != nil {
			return nil, sb.opError(c, what, err)
		}
		return sb.jsValue(out)
	})
}

func (sb *sandbox) entityUpdate(call goja.FunctionCall) goja.Value {
	const what = "entities.update"
	entity, id := sb.stringArg(call, 0, what, "entity"), sb.stringArg(call, 1, what, "id")
	rec := sb.objectArg(call, 2, what, "record", false)
	return sb.async(what, func(c *callState) (goja.Value, error) {
		ents, err := sb.entities(what)
		if err != nil {
			return nil, err
		}
		out, err := ents.Update(c.context(), c.principal(), c.req.BankID, entity, id, rec)
		if err != nil {
			return nil, sb.opError(c, what, err)
		}
		return sb.jsValue(out)
	})
}

func (sb *sandbox) entityDelete(call goja.FunctionCall) goja.Value {
	const what = "entities.delete"
	entity, id := sb.stringArg(call, 0, what, "entity"), sb.stringArg(call, 1, what, "id")
	return sb.async(what, func(c *callState) (goja.Value, error) {
		ents, err := sb.entities(what)
		if err != nil {
			return nil, err
		}
		if err := ents.Delete(c.context(), c.principal(), c.req.BankID, entity, id); err != nil {
			return nil, sb.opError(c, what, err)
		}
		return goja.Undefined(), nil
	})
}

// connectorCall answers connector.call(method, args).
func (sb *sandbox) connectorCall(call goja.FunctionCall) goja.Value {
	const what = "connector.call"
	name := sb.stringArg(call, 0, what, "method")
	var args []any
	if a := call.Argument(1); !goja.IsUndefined(a) && !goja.IsNull(a) {
		var ok bool
		if args, ok = sb.goValue(a).([]any); !ok {
			panic(sb.vm.NewTypeError("%s: args must be an array", what))
		}
	}
	return sb.async(what, func(c *callState) (goja.Value, error) {
		if sb.e.o.Caller == nil {
			return nil, errors.New(what + ": calling connector methods is not available")
		}
		if c.req.Depth+1 > connector.MaxDepth {
			return nil, connector.ErrRecursion
		}
		ctx := context.WithValue(c.context(), nestedKey{}, true)
		out, err := sb.e.o.Caller.CallMethod(ctx, c.req, name, args)
		if err != nil {
			return nil, sb.opError(c, what+"("+name+")", err)
		}
		return sb.jsValue(out)
	})
}

// log returns log.info, log.warn or log.error: (message, fields?) logged
// with the method and correlation id.
func (sb *sandbox) log(level slog.Level) binding {
	return func(call goja.FunctionCall) goja.Value {
		c, l := sb.call, sb.e.o.Logger
		if !l.Enabled(c.parent, level) {
			return goja.Undefined()
		}
		msg := call.Argument(0).String()
		attrs := []slog.Attr{
			slog.String("connector_method", c.script.name),
			slog.String("correlation_id", c.correlationID()),
		}
		fields := sb.objectArg(call, 1, "log", "fields", true)
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			attrs = append(attrs, slog.Any(k, fields[k]))
		}
		l.LogAttrs(c.parent, level, msg, attrs...)
		return goja.Undefined()
	}
}

func (sb *sandbox) randomUUID(goja.FunctionCall) goja.Value {
	return sb.vm.ToValue(uuid.NewString())
}

func (sb *sandbox) sha256(call goja.FunctionCall) goja.Value {
	sum := sha256.Sum256([]byte(sb.textArg(call, 0, "crypto.sha256", "text")))
	return sb.vm.ToValue(hex.EncodeToString(sum[:]))
}

func (sb *sandbox) hmacSHA256(call goja.FunctionCall) goja.Value {
	const what = "crypto.hmacSha256"
	mac := hmac.New(sha256.New, []byte(sb.textArg(call, 0, what, "key")))
	mac.Write([]byte(sb.textArg(call, 1, what, "text")))
	return sb.vm.ToValue(hex.EncodeToString(mac.Sum(nil)))
}

// textArg returns argument i, a string (possibly empty), or throws a
// TypeError.
func (sb *sandbox) textArg(call goja.FunctionCall, i int, what, name string) string {
	s, ok := call.Argument(i).Export().(string)
	if !ok {
		panic(sb.vm.NewTypeError("%s: %s must be a string", what, name))
	}
	return s
}
