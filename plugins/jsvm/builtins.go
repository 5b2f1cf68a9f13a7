package jsvm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// native is the Go function behind a builtin function.
type native = func(goja.FunctionCall) goja.Value

// guard makes the guarded version of a builtin from its Go function.
type guard = func(orig native) native

// Strings the guarded builtins answer with.
var (
	emptyString = goja.StringFromUTF16(nil)
	comma       = goja.StringFromUTF16([]uint16{','})
)

// guardBuiltins replaces the builtins that could allocate without bound or
// run long inside one call by guarded versions (see limits.go), and takes
// away what would let a script get around them: code made from strings
// (eval, Function) and BigInt, whose operators allocate without bound.
func (sb *sandbox) guardBuiltins() error {
	rangeError, ok := goja.AssertConstructor(sb.global("RangeError"))
	if !ok {
		return errors.New("RangeError is not a constructor")
	}
	sb.newRangeError = rangeError
	isArray, ok := nativeOf(sb.global("Array").Get("isArray"))
	if !ok {
		return errors.New("Array.isArray is not a builtin function")
	}
	sb.arrayIsArray = isArray
	return errors.Join(sb.removeBigInt(), sb.noCodeFromStrings(), sb.guardArrays(), sb.guardStrings(),
		sb.guardObjects(), sb.guardCollections(), sb.guardIterators(), sb.guardRegExp(), sb.guardJSON(), sb.guardBuffers())
}

// global returns the global object named name.
func (sb *sandbox) global(name string) *goja.Object {
	return sb.vm.Get(name).ToObject(sb.vm)
}

// nativeOf returns the Go function of builtin function v.
func nativeOf(v goja.Value) (native, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	f, ok := o.Export().(func(goja.FunctionCall) goja.Value)
	return f, ok
}

// wrap replaces method key of obj by g applied to it.
func (sb *sandbox) wrap(obj *goja.Object, key string, g guard) error {
	old, ok := obj.Get(key).(*goja.Object)
	if !ok {
		return fmt.Errorf("%s is not a function", key)
	}
	orig, ok := nativeOf(old)
	if !ok {
		return fmt.Errorf("%s is not a builtin function", key)
	}
	return obj.DefineDataProperty(key, sb.nativeLike(old, g(orig)), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// replace sets method key of obj to fn.
func (sb *sandbox) replace(obj *goja.Object, key string, fn native) error {
	old, ok := obj.Get(key).(*goja.Object)
	if !ok {
		return fmt.Errorf("%s is not a function", key)
	}
	return obj.DefineDataProperty(key, sb.nativeLike(old, fn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// nativeLike makes fn a function with the name and length of like.
func (sb *sandbox) nativeLike(like *goja.Object, fn native) *goja.Object {
	f := sb.vm.ToValue(fn).(*goja.Object)
	_ = f.DefineDataProperty("name", like.Get("name"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = f.DefineDataProperty("length", like.Get("length"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return f
}

// alias sets obj[Symbol.iterator] to obj[key], as the builtins have it.
func alias(obj *goja.Object, key string) error {
	return obj.DefineDataPropertySymbol(goja.SymIterator, obj.Get(key), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// isArray is Array.isArray (which runs no script code, so its argument
// buffer is reused).
func (sb *sandbox) isArray(v goja.Value) bool {
	sb.isArrayArg[0] = v
	is := sb.arrayIsArray(goja.FunctionCall{Arguments: sb.isArrayArg[:]}).ToBoolean()
	sb.isArrayArg[0] = nil
	return is
}

// toStr is ECMAScript's ToString of v. (goja's Value.ToString leaves
// numbers and booleans as they are.)
func (sb *sandbox) toStr(v goja.Value) goja.String {
	if s, ok := v.(goja.String); ok {
		return s
	}
	p := v.ToString() // an object's primitive
	if s, ok := p.(goja.String); ok {
		return s
	}
	if _, ok := p.(*goja.Symbol); ok {
		panic(sb.vm.NewTypeError("Cannot convert a Symbol value to a string"))
	}
	return sb.vm.ToValue(p.String()).(goja.String)
}

// thisString is ToString of a method's this; nil for undefined and null,
// which the builtin refuses itself.
func (sb *sandbox) thisString(call goja.FunctionCall) goja.String {
	if goja.IsUndefined(call.This) || goja.IsNull(call.This) {
		return nil
	}
	return sb.toStr(call.This)
}

// overThis guards a method whose work grows with the length of its this:
// refused beyond the element cap. Charged ones make an array, which is
// charged.
func (sb *sandbox) overThis(what string, charged bool) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			sb.elements(lengthOf(call.This), what)
			if !charged {
				return orig(call)
			}
			sb.need(0, what)
			v := orig(call)
			sb.chargeArray(v)
			return v
		}
	}
}

// overArg guards a function whose work grows with the length of its
// argument i (an array-like).
func (sb *sandbox) overArg(what string, i int) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			if o, ok := call.Argument(i).(*goja.Object); ok {
				sb.elements(toLength(o.Get("length")), what)
			}
			return orig(call)
		}
	}
}

func (sb *sandbox) guardArrays() error {
	ctor := sb.global("Array")
	proto := ctor.Get("prototype").ToObject(sb.vm)
	var errs []error
	for _, key := range []string{"every", "some", "forEach", "find", "findIndex", "findLast", "findLastIndex",
		"indexOf", "lastIndexOf", "includes", "reduce", "reduceRight", "reverse", "shift", "unshift",
		"copyWithin", "sort"} {
		errs = append(errs, sb.wrap(proto, key, sb.overThis("Array.prototype."+key, false)))
	}
	for _, key := range []string{"keys", "values", "entries"} {
		errs = append(errs, sb.wrap(proto, key, sb.stopping))
	}
	for _, key := range []string{"map", "filter", "slice", "splice", "toReversed", "toSorted", "toSpliced", "with", "fill"} {
		errs = append(errs, sb.wrap(proto, key, sb.overThis("Array.prototype."+key, true)))
	}
	errs = append(errs, alias(proto, "values"),
		sb.wrap(proto, "concat", sb.concat),
		sb.replace(proto, "join", sb.join),
		sb.replace(proto, "toLocaleString", sb.toLocaleString),
		sb.replace(proto, "flat", sb.flat),
		sb.replace(proto, "flatMap", sb.flatMap),
		sb.wrap(ctor, "from", sb.arrayFrom),
		sb.wrap(sb.global("Function").Get("prototype").ToObject(sb.vm), "apply", sb.overArg("Function.prototype.apply", 1)),
		sb.wrap(sb.global("Reflect"), "apply", sb.overArg("Reflect.apply", 2)),
		sb.wrap(sb.global("Reflect"), "construct", sb.overArg("Reflect.construct", 1)))
	return errors.Join(errs...)
}

// concat is Array.prototype.concat refused beyond the element cap.
func (sb *sandbox) concat(orig native) native {
	const what = "Array.prototype.concat"
	return func(call goja.FunctionCall) goja.Value {
		n := sb.spreadLength(call.This)
		for _, a := range call.Arguments {
			if n > sb.e.maxElements {
				break
			}
			n += sb.spreadLength(a)
		}
		sb.elements(n, what)
		sb.need(float64(n*slotBytes), what)
		v := orig(call)
		sb.charge(n * slotBytes)
		return v
	}
}

// spreadLength is how many elements concat takes from v.
func (sb *sandbox) spreadLength(v goja.Value) int64 {
	o, ok := v.(*goja.Object)
	if !ok {
		return 1
	}
	if s := o.GetSymbol(goja.SymIsConcatSpreadable); s != nil && !goja.IsUndefined(s) {
		if !s.ToBoolean() {
			return 1
		}
	} else if !sb.isArray(o) {
		return 1
	}
	return toLength(o.Get("length"))
}

// join is Array.prototype.join with the result charged as it grows; a
// cycle joins as "", as in goja.
func (sb *sandbox) join(call goja.FunctionCall) goja.Value {
	sep := comma
	if a := call.Argument(0); !goja.IsUndefined(a) {
		sep = sb.toStr(a)
	}
	return sb.joinElements(call, "Array.prototype.join", sep, sb.toStr)
}

// toLocaleString is Array.prototype.toLocaleString, guarded as join.
func (sb *sandbox) toLocaleString(call goja.FunctionCall) goja.Value {
	return sb.joinElements(call, "Array.prototype.toLocaleString", comma, func(e goja.Value) goja.String {
		f, ok := goja.AssertFunction(e.ToObject(sb.vm).Get("toLocaleString"))
		if !ok {
			panic(sb.vm.NewTypeError("toLocaleString is not a function"))
		}
		s, err := f(e)
		if err != nil {
			panic(err)
		}
		return sb.toStr(s)
	})
}

// joinElements joins the elements of this, each made a string by str,
// with sep; null and undefined are "".
func (sb *sandbox) joinElements(call goja.FunctionCall, what string, sep goja.String, str func(goja.Value) goja.String) goja.Value {
	sb.enter()
	o := call.This.ToObject(sb.vm)
	if slices.Contains(sb.limits.joining, o) {
		return emptyString
	}
	defer sb.nest(what)()
	sb.limits.joining = append(sb.limits.joining, o)
	defer func() { sb.limits.joining = sb.limits.joining[:len(sb.limits.joining)-1] }()
	n := toLength(o.Get("length"))
	sb.elements(n, what)
	var b goja.StringBuilder
	for i := range n {
		if i > 0 {
			sb.takeChars(sep.Length(), what)
			b.WriteString(sep)
		}
		e := o.Get(strconv.FormatInt(i, 10))
		if e == nil || goja.IsUndefined(e) || goja.IsNull(e) {
			continue
		}
		s := str(e)
		sb.takeChars(s.Length(), what)
		b.WriteString(s)
	}
	return b.String()
}

// takeChars charges n characters, refused when they do not fit.
func (sb *sandbox) takeChars(n int, what string) { sb.take(int64(n)*charBytes, what) }

// take charges n bytes, refused when they do not fit.
func (sb *sandbox) take(n int64, what string) {
	sb.need(float64(n), what)
	sb.charge(n)
}

// flat is Array.prototype.flat with the result counted as it grows. Like
// flatMap, it answers a plain array whatever the species of this.
func (sb *sandbox) flat(call goja.FunctionCall) goja.Value {
	const what = "Array.prototype.flat"
	o := call.This.ToObject(sb.vm)
	depth := 1.0
	if d := call.Argument(0); !goja.IsUndefined(d) {
		if depth = d.ToFloat(); math.IsNaN(depth) {
			depth = 0
		}
	}
	var out []any
	sb.flatten(&out, o, depth, nil, what)
	return sb.vm.NewArray(out...)
}

// flatMap is Array.prototype.flatMap, guarded as flat.
func (sb *sandbox) flatMap(call goja.FunctionCall) goja.Value {
	const what = "Array.prototype.flatMap"
	o := call.This.ToObject(sb.vm)
	f, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(sb.vm.NewTypeError("flatMap mapper function is not callable"))
	}
	this := call.Argument(1)
	var out []any
	sb.flatten(&out, o, 1, func(e goja.Value, i int64) goja.Value {
		v, err := f(this, e, sb.vm.ToValue(i), o)
		if err != nil {
			panic(err)
		}
		return v
	}, what)
	return sb.vm.NewArray(out...)
}

// flatten appends the elements of src to out, those that are arrays
// flattened depth levels deep, each first mapped by mapper when not nil.
func (sb *sandbox) flatten(out *[]any, src *goja.Object, depth float64, mapper func(goja.Value, int64) goja.Value, what string) {
	defer sb.nest(what)()
	n := toLength(src.Get("length"))
	sb.elements(n, what)
	for i := range n {
		e := src.Get(strconv.FormatInt(i, 10))
		if e == nil {
			continue
		}
		if mapper != nil {
			e = mapper(e, i)
		}
		if eo, ok := e.(*goja.Object); ok && depth >= 1 && sb.isArray(eo) {
			sb.flatten(out, eo, depth-1, nil, what)
			continue
		}
		sb.elements(int64(len(*out))+1, what)
		sb.take(slotBytes, what)
		*out = append(*out, e)
	}
}

// arrayFrom is Array.from refused for array-likes beyond the element cap;
// iterables are guarded by their iterators.
func (sb *sandbox) arrayFrom(orig native) native {
	const what = "Array.from"
	return func(call goja.FunctionCall) goja.Value {
		items := call.Argument(0)
		if o, ok := items.(*goja.Object); ok {
			if m := o.GetSymbol(goja.SymIterator); m == nil || goja.IsUndefined(m) || goja.IsNull(m) {
				sb.elements(toLength(o.Get("length")), what)
			}
		}
		sb.need(0, what)
		v := orig(call)
		sb.chargeArray(v)
		return v
	}
}

func (sb *sandbox) guardStrings() error {
	ctor := sb.global("String")
	proto := ctor.Get("prototype").ToObject(sb.vm)
	global := sb.vm.GlobalObject()
	var errs []error
	// Case mappings and normalisation make strings at most this many
	// times as long.
	for key, factor := range map[string]float64{"toUpperCase": 3, "toLowerCase": 3, "toLocaleUpperCase": 3,
		"toLocaleLowerCase": 3, "normalize": 18} {
		errs = append(errs, sb.wrap(proto, key, sb.growing("String.prototype."+key, factor, -1)))
	}
	// Escapes: up to 9 characters (three %XX) for one.
	for key, factor := range map[string]float64{"encodeURI": 9, "encodeURIComponent": 9, "escape": 6} {
		errs = append(errs, sb.wrap(global, key, sb.growing(key, factor, 0)))
	}
	return errors.Join(append(errs,
		sb.wrap(proto, "repeat", sb.repeat),
		sb.wrap(proto, "padStart", sb.pad("String.prototype.padStart")),
		sb.wrap(proto, "padEnd", sb.pad("String.prototype.padEnd")),
		sb.wrap(proto, "concat", sb.stringConcat),
		sb.wrap(proto, "replace", sb.stringReplace("String.prototype.replace", false)),
		sb.wrap(proto, "replaceAll", sb.stringReplace("String.prototype.replaceAll", true)),
		sb.wrap(proto, "split", sb.split),
		sb.replace(ctor, "raw", sb.stringRaw))...)
}

// growing guards a function making a string at most factor times as long
// as its this (arg -1) or its argument arg.
func (sb *sandbox) growing(what string, factor float64, arg int) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			var s goja.String
			if arg < 0 {
				if s = sb.thisString(call); s == nil {
					return orig(call)
				}
				call = goja.FunctionCall{This: s, Arguments: call.Arguments}
			} else {
				s = sb.toStr(call.Argument(arg))
				args := slices.Clone(call.Arguments)
				if len(args) <= arg {
					args = append(args, make([]goja.Value, arg+1-len(args))...)
				}
				args[arg] = s
				call = goja.FunctionCall{This: call.This, Arguments: args}
			}
			sb.needChars(float64(s.Length())*factor, what)
			v := orig(call)
			sb.chargeString(v)
			return v
		}
	}
}

// repeat is String.prototype.repeat refused when the result would not
// fit the budget.
func (sb *sandbox) repeat(orig native) native {
	const what = "String.prototype.repeat"
	return func(call goja.FunctionCall) goja.Value {
		s := sb.thisString(call)
		if s == nil {
			return orig(call)
		}
		count := call.Argument(0).ToNumber()
		if f := count.ToFloat(); f > 0 && !math.IsInf(f, 1) {
			sb.needChars(float64(s.Length())*math.Trunc(f), what)
		}
		v := orig(goja.FunctionCall{This: s, Arguments: []goja.Value{count}})
		sb.chargeString(v)
		return v
	}
}

// pad is String.prototype.padStart or padEnd refused when the result
// would not fit the budget.
func (sb *sandbox) pad(what string) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			s := sb.thisString(call)
			if s == nil {
				return orig(call)
			}
			length := clampLength(call.Argument(0).ToFloat())
			fill := call.Argument(1)
			if !goja.IsUndefined(fill) {
				fill = sb.toStr(fill)
			}
			if length > float64(s.Length()) && (goja.IsUndefined(fill) || fill.(goja.String).Length() > 0) {
				sb.needChars(length, what)
			}
			v := orig(goja.FunctionCall{This: s, Arguments: []goja.Value{sb.vm.ToValue(length), fill}})
			sb.chargeString(v)
			return v
		}
	}
}

// stringConcat is String.prototype.concat refused when the result would
// not fit the budget.
func (sb *sandbox) stringConcat(orig native) native {
	const what = "String.prototype.concat"
	return func(call goja.FunctionCall) goja.Value {
		s := sb.thisString(call)
		if s == nil {
			return orig(call)
		}
		total := float64(s.Length())
		args := make([]goja.Value, len(call.Arguments))
		for i, a := range call.Arguments {
			t := sb.toStr(a)
			args[i] = t
			total += float64(t.Length())
		}
		sb.needChars(total, what)
		v := orig(goja.FunctionCall{This: s, Arguments: args})
		sb.chargeString(v)
		return v
	}
}

// stringReplace is String.prototype.replace (or replaceAll) refused when
// the result could outgrow the budget. A replacer function's results are
// the script's own strings; objects with their own Symbol.replace are
// script code; both pass.
func (sb *sandbox) stringReplace(what string, all bool) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			s := sb.thisString(call)
			pattern, repl := call.Argument(0), call.Argument(1)
			p, isObject := pattern.(*goja.Object)
			if s == nil || (isObject && p.ClassName() != "RegExp") {
				return orig(call)
			}
			if _, ok := goja.AssertFunction(repl); ok {
				return orig(call)
			}
			r := sb.toStr(repl)
			matches := 1.0
			switch {
			case isObject && (all || p.Get("global").ToBoolean()):
				matches = float64(s.Length()) + 1
			case !isObject && all:
				matches = float64(occurrences(s, sb.toStr(pattern)))
			}
			n := float64(s.Length())
			groups, sides := dollarTokens(r)
			sb.needChars(n+matches*(float64(r.Length())+sides*n)+groups*n, what)
			v := orig(goja.FunctionCall{This: s, Arguments: []goja.Value{pattern, r}})
			sb.chargeString(v)
			return v
		}
	}
}

// occurrences counts the places replaceAll replaces p in s.
func occurrences(s, p goja.String) int {
	if p.Length() == 0 {
		return s.Length() + 1
	}
	return strings.Count(s.String(), p.String())
}

// dollarTokens counts the substitutions in a replacement string: groups
// ($&, $1, $<name>; all of them together are at most the string) and sides
// ($` and $', each up to the string per match).
func dollarTokens(r goja.String) (groups, sides float64) {
	for i := 0; i+1 < r.Length(); i++ {
		if r.CharAt(i) != '$' {
			continue
		}
		switch c := r.CharAt(i + 1); {
		case c == '$':
			i++
		case c == '`' || c == '\'':
			sides++
		case c == '&' || c == '<' || (c >= '0' && c <= '9'):
			groups++
		}
	}
	return groups, sides
}

// split is String.prototype.split refused beyond the element cap when
// the separator is a string; a regular expression's matches go through
// RegExp.prototype.exec, which is guarded.
func (sb *sandbox) split(orig native) native {
	const what = "String.prototype.split"
	return func(call goja.FunctionCall) goja.Value {
		s := sb.thisString(call)
		sep := call.Argument(0)
		if _, isObject := sep.(*goja.Object); s == nil || isObject || goja.IsUndefined(sep) {
			return orig(call)
		}
		p := sb.toStr(sep)
		pieces := int64(s.Length())
		if p.Length() > 0 {
			pieces = int64(occurrences(s, p)) + 1
		}
		limit := call.Argument(1)
		if !goja.IsUndefined(limit) {
			n := toUint32(limit.ToFloat())
			pieces = min(pieces, int64(n))
			limit = sb.vm.ToValue(n)
		}
		sb.elements(pieces, what)
		sb.need(float64(pieces*slotBytes), what)
		v := orig(goja.FunctionCall{This: s, Arguments: []goja.Value{p, limit}})
		sb.chargeArray(v)
		return v
	}
}

// toUint32 is ECMAScript's ToUint32 of a number.
func toUint32(f float64) uint32 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	m := math.Mod(math.Trunc(f), 1<<32)
	if m < 0 {
		m += 1 << 32
	}
	return uint32(m)
}

// stringRaw is String.raw with the result charged as it grows.
func (sb *sandbox) stringRaw(call goja.FunctionCall) goja.Value {
	const what = "String.raw"
	sb.enter()
	raw := call.Argument(0).ToObject(sb.vm).Get("raw")
	if raw == nil {
		raw = goja.Undefined()
	}
	strs := raw.ToObject(sb.vm)
	n := toLength(strs.Get("length"))
	sb.elements(n, what)
	var b goja.StringBuilder
	for i := range n {
		part := strs.Get(strconv.FormatInt(i, 10))
		if part == nil {
			part = goja.Undefined()
		}
		s := sb.toStr(part)
		sb.takeChars(s.Length(), what)
		b.WriteString(s)
		if i+1 < n && int(i)+1 < len(call.Arguments) {
			sub := sb.toStr(call.Arguments[i+1])
			sb.takeChars(sub.Length(), what)
			b.WriteString(sub)
		}
	}
	return b.String()
}

func (sb *sandbox) guardObjects() error {
	object, reflectObj := sb.global("Object"), sb.global("Reflect")
	var errs []error
	for _, key := range []string{"keys", "values", "entries", "getOwnPropertyNames", "getOwnPropertyDescriptors"} {
		errs = append(errs, sb.wrap(object, key, sb.indexed("Object."+key, 0, 1)))
	}
	return errors.Join(append(errs,
		sb.wrap(object, "assign", sb.indexed("Object.assign", 1, -1)),
		sb.wrap(reflectObj, "ownKeys", sb.indexed("Reflect.ownKeys", 0, 1)))...)
}

// indexed guards a function listing the properties of its arguments from
// first to last (-1: all of them): a string, typed array or array has one
// per element (made on demand for the first two), so such an argument
// longer than the element cap is refused. Its result is charged.
func (sb *sandbox) indexed(what string, first, last int) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			end := len(call.Arguments)
			if last >= 0 {
				end = min(end, last)
			}
			for i := first; i < end; i++ {
				sb.elements(sb.indexedLength(call.Arguments[i]), what)
			}
			v := orig(call)
			if v != call.Argument(0) {
				sb.chargeArray(v)
			}
			return v
		}
	}
}

// indexedLength is the number of index properties v may have: the length
// of a string, typed array or array; 0 for anything else, whose
// properties are all held. (A sparse array counts its length.)
func (sb *sandbox) indexedLength(v goja.Value) int64 {
	switch v := v.(type) {
	case goja.String:
		return int64(v.Length())
	case *goja.Object:
		if v.ClassName() == "String" || isTypedArray(v) || sb.isArray(v) {
			return toLength(v.Get("length"))
		}
	}
	return 0
}

func (sb *sandbox) guardCollections() error {
	mapProto := sb.global("Map").Get("prototype").ToObject(sb.vm)
	setProto := sb.global("Set").Get("prototype").ToObject(sb.vm)
	var errs []error
	for _, key := range []string{"keys", "values", "entries"} {
		errs = append(errs, sb.wrap(mapProto, key, sb.stopping))
	}
	for _, key := range []string{"values", "entries"} {
		errs = append(errs, sb.wrap(setProto, key, sb.stopping))
	}
	for _, key := range []string{"union", "intersection", "difference", "symmetricDifference",
		"isSubsetOf", "isSupersetOf", "isDisjointFrom"} {
		errs = append(errs, sb.wrap(setProto, key, sb.overSize("Set.prototype."+key)))
	}
	return errors.Join(append(errs, alias(mapProto, "entries"), alias(setProto, "values"),
		setProto.DefineDataProperty("keys", setProto.Get("values"), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE))...)
}

// guardIterators guards each step of the builtin iterators (of arrays,
// typed arrays, strings, maps and sets): it stops once the call is
// stopped, and is charged a slot, what a spread or Array.from keeps of it.
// A native loop over an iterator (spread, Array.from, new Set of an array
// with a billion holes) thus ends with the interrupt or the budget, while
// a for…of loop over a long array only spends budget. The steps are
// guarded rather than the iterators' making: arguments objects carry
// goja's own Array.prototype.values, whatever the realm's is.
func (sb *sandbox) guardIterators() error {
	v, err := sb.vm.RunString(`[Object.getPrototypeOf([].values()), Object.getPrototypeOf(""[Symbol.iterator]()),
		Object.getPrototypeOf(new Map().entries()), Object.getPrototypeOf(new Set().values())]`)
	if err != nil {
		return err
	}
	protos := v.ToObject(sb.vm)
	var errs []error
	for i, what := range []string{"an array iterator", "a string iterator", "a map iterator", "a set iterator"} {
		errs = append(errs, sb.wrap(protos.Get(strconv.Itoa(i)).ToObject(sb.vm), "next", func(orig native) native {
			return func(call goja.FunctionCall) goja.Value {
				sb.take(slotBytes, what)
				return orig(call)
			}
		}))
	}
	return errors.Join(errs...)
}

// stopping guards a builtin whose work is done by what it returns (an
// iterator, whose steps are guarded): it stops once the call is stopped.
// Replacing the iterator methods also keeps goja from iterating arrays
// natively, without its iterators, in Array.from and new Set.
func (sb *sandbox) stopping(orig native) native {
	return func(call goja.FunctionCall) goja.Value {
		sb.enter()
		return orig(call)
	}
}

// overSize guards a method of Map or Set refused when this collection, or
// the set-like it is given, is larger than the element cap.
func (sb *sandbox) overSize(what string) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			for _, v := range []goja.Value{call.This, call.Argument(0)} {
				if o, ok := v.(*goja.Object); ok {
					if size := o.Get("size"); size != nil {
						sb.elements(toLength(size), what)
					}
				}
			}
			return orig(call)
		}
	}
}

// guardRegExp guards the two methods that run a match: exec, which every
// other regular expression method goes through once RegExp.prototype is
// no longer goja's own (replacing exec makes it so), and test, which goja
// runs without exec.
func (sb *sandbox) guardRegExp() error {
	proto := sb.global("RegExp").Get("prototype").ToObject(sb.vm)
	return errors.Join(sb.wrap(proto, "exec", sb.match("RegExp.prototype.exec")),
		sb.wrap(proto, "test", sb.match("RegExp.prototype.test")))
}

// match guards a method running one match: it stops when the call was
// stopped, fails a match that ran past regexpTimeout (a backtracking one
// gives up then and would otherwise read as no match), and charges a slot
// for each match (match, matchAll, split and replace collect them).
func (sb *sandbox) match(what string) guard {
	return func(orig native) native {
		return func(call goja.FunctionCall) goja.Value {
			sb.need(0, what)
			start := time.Now()
			v := orig(call)
			if d := time.Since(start); d >= regexpTimeout {
				sb.refuse(errRegexpTime, fmt.Sprintf("a regular expression match ran %s, longer than the limit of %s",
					d.Round(time.Millisecond), regexpTimeout))
			}
			if !goja.IsNull(v) {
				sb.charge(slotBytes)
			}
			return v
		}
	}
}
