package jsvm

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/dop251/goja"
)

// typedArrays are the typed array constructors left in the realm (the
// BigInt ones are removed with BigInt).
var typedArrays = []string{"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
	"Int32Array", "Uint32Array", "Float32Array", "Float64Array"}

// arrayBufferType is what an ArrayBuffer exports to.
var arrayBufferType = reflect.TypeFor[goja.ArrayBuffer]()

// isTypedArray reports whether o is a typed array: it exports to a slice
// of numbers.
func isTypedArray(o *goja.Object) bool {
	t := o.ExportType()
	return t != nil && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Interface
}

// byteLength is the byteLength of a buffer or typed array, 0 for anything
// else.
func byteLength(v goja.Value) int64 {
	if o, ok := v.(*goja.Object); ok {
		if n := o.Get("byteLength"); n != nil {
			return toLength(n)
		}
	}
	return 0
}

// guardBuffers guards the constructors of ArrayBuffer and the typed arrays,
// which allocate what they are asked for, and the typed array methods that
// copy or walk a whole array.
func (sb *sandbox) guardBuffers() error {
	abuf := sb.global("ArrayBuffer")
	abufProto := abuf.Get("prototype").ToObject(sb.vm)
	typed := sb.global("Uint8Array").Prototype() // %TypedArray%
	if typed == nil {
		return errors.New("the typed arrays have no common constructor")
	}
	proto := typed.Get("prototype").ToObject(sb.vm)
	global := sb.vm.GlobalObject()
	errs := []error{sb.guardConstructor(global, "ArrayBuffer", func(args []goja.Value) {
		if len(args) > 0 {
			if n := args[0].ToFloat(); n > 0 {
				sb.need(n, "new ArrayBuffer")
			}
		}
	})}
	for _, name := range typedArrays {
		bpe := float64(sb.global(name).Get("BYTES_PER_ELEMENT").ToInteger())
		errs = append(errs, sb.guardConstructor(global, name, sb.typedArrayCheck("new "+name, bpe)))
	}
	errs = append(errs, sb.wrap(typed, "from", func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			var bpe float64
			if c, ok := call.This.(*goja.Object); ok {
				bpe = float64(toLength(c.Get("BYTES_PER_ELEMENT")))
			}
			sb.typedArrayCheck("TypedArray.from", bpe)(call.Arguments)
			return orig(call)
		}
	}))
	for _, key := range []string{"join", "toLocaleString", "sort"} {
		errs = append(errs, sb.wrap(proto, key, sb.overThis("TypedArray.prototype."+key, false)))
	}
	for _, key := range []string{"keys", "values", "entries"} {
		errs = append(errs, sb.wrap(proto, key, sb.stopping))
	}
	for _, key := range []string{"slice", "map", "filter", "toSorted", "toReversed", "with"} {
		errs = append(errs, sb.wrap(proto, key, sb.copying("TypedArray.prototype."+key, 1)))
	}
	u8 := sb.global("Uint8Array").Get("prototype").ToObject(sb.vm)
	errs = append(errs, alias(proto, "values"),
		sb.wrap(abufProto, "slice", sb.copying("ArrayBuffer.prototype.slice", 1)),
		sb.wrap(u8, "toHex", sb.copying("Uint8Array.prototype.toHex", 2*charBytes)),
		sb.wrap(u8, "toBase64", sb.copying("Uint8Array.prototype.toBase64", 2*charBytes)))
	// DataView's BigInt accessors go with BigInt.
	dv := sb.global("DataView").Get("prototype").ToObject(sb.vm)
	for _, key := range []string{"getBigInt64", "getBigUint64", "setBigInt64", "setBigUint64"} {
		errs = append(errs, dv.Delete(key))
	}
	return errors.Join(errs...)
}

// typedArrayCheck checks the arguments of a typed array constructor (or
// from) making elements of bpe bytes: a length, or an array-like to copy,
// must fit the budget (and an array-like the element cap); a buffer is
// only viewed; iterables are guarded by their iterators.
func (sb *sandbox) typedArrayCheck(what string, bpe float64) func([]goja.Value) {
	return func(args []goja.Value) {
		if len(args) == 0 {
			return
		}
		switch a := args[0].(type) {
		case *goja.Object:
			if a.ExportType() == arrayBufferType {
				return
			}
			if isTypedArray(a) {
				sb.need(float64(toLength(a.Get("length")))*bpe, what)
				return
			}
			if m := a.GetSymbol(goja.SymIterator); m != nil && !goja.IsUndefined(m) && !goja.IsNull(m) {
				return
			}
			n := toLength(a.Get("length"))
			sb.elements(n, what)
			sb.need(float64(n)*bpe, what)
		default:
			if goja.IsUndefined(a) {
				return
			}
			if n := a.ToFloat(); n > 0 {
				sb.need(n*bpe, what)
			}
		}
	}
}

// copying guards a method making a copy of its this (a buffer or typed
// array) at most factor times as large: it must fit the budget, and is
// charged.
func (sb *sandbox) copying(what string, factor float64) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			sb.need(float64(byteLength(call.This))*factor, what)
			v := orig(call)
			if s, ok := v.(goja.String); ok {
				sb.charge(int64(s.Length()) * charBytes)
			} else {
				sb.charge(byteLength(v))
			}
			return v
		}
	}
}

// guardConstructor replaces constructor name of holder by a proxy that
// runs check on the arguments of every construction first. The proxy
// stands for the constructor everywhere: as the global, as its
// prototype's constructor (so that species lookups reach it) and for
// instanceof; what it makes is charged.
func (sb *sandbox) guardConstructor(holder *goja.Object, name string, check func([]goja.Value)) error {
	orig, ok := holder.Get(name).(*goja.Object)
	if !ok {
		return fmt.Errorf("%s is not an object", name)
	}
	ctor, ok := goja.AssertConstructor(orig)
	if !ok {
		return fmt.Errorf("%s is not a constructor", name)
	}
	p := sb.vm.ToValue(sb.vm.NewProxy(orig, &goja.ProxyTrapConfig{
		Construct: func(_ *goja.Object, args []goja.Value, newTarget *goja.Object) *goja.Object {
			sb.enter()
			check(args)
			o, err := ctor(newTarget, args...)
			if err != nil {
				panic(err)
			}
			sb.charge(byteLength(o))
			return o
		},
	}))
	proto := orig.Get("prototype").ToObject(sb.vm)
	return errors.Join(proto.DefineDataProperty("constructor", p, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE),
		holder.DefineDataProperty(name, p, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE),
		sb.instancesOf(orig))
}

// instancesOf gives constructor ctor, which a proxy stands for, its own
// Symbol.hasInstance: goja's proxies cannot answer instanceof themselves,
// and the lookup reaches the target. It is ECMAScript's
// OrdinaryHasInstance of whatever constructor it is asked for (subclasses
// inherit it).
func (sb *sandbox) instancesOf(ctor *goja.Object) error {
	f := sb.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		c, ok := call.This.(*goja.Object)
		if !ok {
			return sb.vm.ToValue(false)
		}
		if _, callable := goja.AssertFunction(c); !callable {
			return sb.vm.ToValue(false)
		}
		o, ok := call.Argument(0).(*goja.Object)
		if !ok {
			return sb.vm.ToValue(false)
		}
		proto, ok := c.Get("prototype").(*goja.Object)
		if !ok {
			panic(sb.vm.NewTypeError("Function has non-object prototype in instanceof check"))
		}
		for p, n := o.Prototype(), 0; p != nil; p, n = p.Prototype(), n+1 {
			if n%1024 == 0 {
				sb.enter() // a proxy's getPrototypeOf may never end the chain
			}
			if p == proto {
				return sb.vm.ToValue(true)
			}
		}
		return sb.vm.ToValue(false)
	})
	return ctor.DefineDataPropertySymbol(goja.SymHasInstance, f, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
}
