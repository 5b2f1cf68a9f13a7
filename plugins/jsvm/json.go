package jsvm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/dop251/goja"
)

// JSON.stringify writes a value's tree, so a value that shares one subtree
// many times (or an array whose length is all holes) makes text far larger
// than the memory it takes, and a deeply nested value recurses deeply in
// Go. The guarded stringify hands goja's own a replacer function written
// in Go, which sees every value before it is written: it counts the text
// and the values, tracks the nesting, stops when the call is stopped, and
// calls the script's own replacer first. JSON.parse recurses once per
// level of its text, so texts nested deeper than maxNesting are refused
// before parsing.

// jsonWalk is the state of one guarded JSON.stringify.
type jsonWalk struct {
	// replacer is the script's replacer function; keys its property list
	// (the array form of the replacer). Both nil when it gave none.
	replacer goja.Callable
	keys     []string
	// gap is the indentation per level.
	gap int64
	// holders are the objects being written, outermost first, and
	// inArray whether each is an array (whose keys are not written).
	holders []*goja.Object
	inArray []bool
	values  int64
}

func (sb *sandbox) guardJSON() error {
	json := sb.global("JSON")
	stringify, ok := json.Get("stringify").(*goja.Object)
	if !ok {
		return errors.New("JSON.stringify is not a function")
	}
	sb.jsonReplacer = sb.nativeLike(stringify, sb.jsonVisit)
	return errors.Join(sb.wrap(json, "stringify", sb.guardStringify), sb.wrap(json, "parse", sb.jsonParse))
}

// guardStringify is JSON.stringify with the replacer that guards it.
func (sb *sandbox) guardStringify(orig native) native {
	return func(call goja.FunctionCall) goja.Value {
		sb.enter()
		w := &sb.walkState
		if sb.walk != nil { // a toJSON or replacer stringifies too
			w = &jsonWalk{}
		}
		*w = jsonWalk{holders: w.holders[:0], inArray: w.inArray[:0], gap: gapLength(call.Argument(2))}
		if r, ok := call.Argument(1).(*goja.Object); ok {
			if f, ok := goja.AssertFunction(r); ok {
				w.replacer = f
			} else if sb.isArray(r) {
				w.keys = sb.propertyList(r)
			}
		}
		outer := sb.walk
		sb.walk = w
		defer func() {
			sb.walk = outer
			clear(w.holders)
		}()
		return orig(goja.FunctionCall{This: call.This, Arguments: []goja.Value{call.Argument(0), sb.jsonReplacer, call.Argument(2)}})
	}
}

// gapLength is the indentation JSON.stringify makes of its space
// argument: up to 10 spaces or the first 10 characters of a string.
func gapLength(space goja.Value) int64 {
	if o, ok := space.(*goja.Object); ok {
		switch o.ClassName() {
		case "Number":
			space = o.ToNumber()
		case "String":
			space = o.ToString()
		}
	}
	switch s := space.(type) {
	case goja.String:
		return int64(min(s.Length(), 10))
	case *goja.Object:
		return 0
	}
	if goja.IsUndefined(space) || goja.IsNull(space) {
		return 0
	}
	if f := space.ToFloat(); !math.IsNaN(f) && f >= 1 {
		return int64(min(f, 10))
	}
	return 0
}

// propertyList reads the array form of a replacer: the names of the
// properties to write, in order, once each.
func (sb *sandbox) propertyList(r *goja.Object) []string {
	n := toLength(r.Get("length"))
	sb.elements(n, "JSON.stringify")
	var keys []string
	for i := range n {
		var k string
		switch v := r.Get(strconv.FormatInt(i, 10)).(type) {
		case nil:
			continue
		case goja.String:
			k = v.String()
		case *goja.Object:
			if c := v.ClassName(); c != "String" && c != "Number" {
				continue
			}
			k = sb.toStr(v).String()
		default:
			switch v.Export().(type) {
			case int64, float64:
				k = v.String()
			default:
				continue
			}
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// jsonVisit is the replacer the guarded stringify gives goja's: it sees
// each value (after its toJSON) about to be written under key in holder.
func (sb *sandbox) jsonVisit(call goja.FunctionCall) goja.Value {
	const what = "JSON.stringify"
	w := sb.walk
	holder, _ := call.This.(*goja.Object)
	key, value := call.Argument(0), call.Argument(1)
	sb.enter()
	if w.replacer != nil {
		v, err := w.replacer(holder, key, value)
		if err != nil {
			panic(err)
		}
		value = v
	}
	// The holder is the innermost object still being written: those
	// pushed after it are done.
	for n := len(w.holders); n > 0 && w.holders[n-1] != holder; n-- {
		w.holders, w.inArray = w.holders[:n-1], w.inArray[:n-1]
	}
	if len(w.holders) == 0 {
		w.holders, w.inArray = append(w.holders, holder), append(w.inArray, false)
	}
	if w.values++; w.values > sb.e.maxElements {
		sb.elements(w.values, what)
	}
	size := int64(1) // a separator or bracket
	if w.gap > 0 {
		size += 1 + int64(len(w.holders))*w.gap
	}
	if !w.inArray[len(w.inArray)-1] {
		size += int64(sb.toStr(key).Length()) + 3
	}
	switch v := value.(type) {
	case goja.String:
		size += int64(v.Length()) + 2
	case *goja.Object:
		size += 2
		switch v.ClassName() {
		case "RawJSON":
			size += int64(sb.toStr(v.Get("rawJSON")).Length())
		case "Number", "String", "Boolean":
			size += int64(sb.toStr(v).Length())
		case "Function":
		default:
			if _, callable := goja.AssertFunction(v); callable {
				break
			}
			if len(w.holders) > maxNesting {
				sb.refuse(errAllocLimit, fmt.Sprintf("%s: values nested deeper than %d levels", what, maxNesting))
			}
			isArray := sb.isArray(v)
			if w.keys != nil && !isArray {
				v = sb.pick(v, w.keys)
				value = v
			}
			w.holders, w.inArray = append(w.holders, v), append(w.inArray, isArray)
		}
	default:
		size += 8 // a number, boolean or null at most this long, but for rare long numbers
	}
	sb.takeChars(int(size), what)
	return value
}

// pick is the object JSON.stringify writes for o under a property list:
// the listed properties o has, in the list's order.
func (sb *sandbox) pick(o *goja.Object, keys []string) *goja.Object {
	out := sb.vm.NewObject()
	for _, k := range keys {
		if v := o.Get(k); v != nil {
			define(out, k, v)
		}
	}
	return out
}

// jsonParse is JSON.parse refusing texts nested deeper than maxNesting.
func (sb *sandbox) jsonParse(orig native) native {
	return func(call goja.FunctionCall) goja.Value {
		sb.enter()
		text := sb.toStr(call.Argument(0))
		if jsonDepth(text.String()) > maxNesting {
			sb.refuse(errAllocLimit, fmt.Sprintf("JSON.parse: the text nests deeper than %d levels", maxNesting))
		}
		args := []goja.Value{text}
		if len(call.Arguments) > 1 {
			args = append(args, call.Arguments[1:]...)
		}
		return orig(goja.FunctionCall{This: call.This, Arguments: args})
	}
}

// jsonDepth is how deep the arrays and objects of JSON text nest, counted
// up to just past maxNesting.
func jsonDepth(text string) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > deepest {
				if deepest = depth; deepest > maxNesting {
					return deepest
				}
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
