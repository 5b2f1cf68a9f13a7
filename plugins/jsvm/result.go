package jsvm

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// A connector method's result is JSON text. The guarded JSON.stringify
// calls a replacer written in Go for every value it writes, which made it
// a fifth of a call. Most results are plain: objects and arrays of
// strings, numbers, booleans and null. plainJSON writes those in Go with
// JSON.stringify's exact text, and gives up on anything else before it can
// have any effect, so that the guarded JSON.stringify then encodes the
// value from the start as before, with the same text or the same error.
//
// Giving up early enough is the point. What plainJSON can see of a value
// is what the runtime shows Go: class, prototype-free reads of its keys and
// values. It cannot see whether a property is a getter, so it runs with the
// runtime interrupted by errScriptCode: any script code about to run (a
// getter) stops before its first instruction, and plainJSON gives up.
// Everything else it cannot write exactly it refuses before reading it:
// proxies, a callable toJSON, objects that are not ordinary objects or
// arrays (Date, Map, boxed primitives, RawJSON, host objects), BigInt,
// cycles, strings it cannot tell apart from ones with lone surrogates, and
// anything near the guarded stringify's limits (nesting, element count,
// allocation budget) or larger than MaxResultBytes.

// errScriptCode is the interrupt plainJSON runs under: script code was
// about to run, so the value is not plain.
var errScriptCode = errors.New("jsvm: script code would run while encoding a result")

// The types goja exports values of, by kind.
var (
	proxyType  = reflect.TypeFor[goja.Proxy]()
	objectType = reflect.TypeFor[map[string]any]()
	arrayType  = reflect.TypeFor[[]any]()
	intType    = reflect.TypeFor[int64]()
	floatType  = reflect.TypeFor[float64]()
	boolType   = reflect.TypeFor[bool]()
)

// plainJSON is the state of one encoding, kept by the runtime between
// calls so that its buffers are reused.
type plainJSON struct {
	sb *sandbox
	// root is the value to encode; defined whether it encoded to text
	// (JSON.stringify answers undefined for undefined, functions and
	// symbols).
	root    goja.Value
	defined bool
	// out is the text; stack the objects being written, for cycles.
	out   []byte
	stack []*goja.Object
	// values and chars are what the guarded stringify would count: the
	// values it visits and the characters it charges to the call's
	// budget.
	values, chars int64
	// failed: the value is not plain.
	failed bool
}

// encodePlain encodes v as JSON.stringify would when v is plain: ok false
// means the guarded JSON.stringify must encode it. text is empty when the
// result is undefined, and valid until the runtime's next call. err is
// the interrupt of a call stopped meanwhile.
func (sb *sandbox) encodePlain(v goja.Value) (text []byte, ok bool, err error) {
	p := &sb.plain
	p.root, p.defined, p.out, p.values, p.chars, p.failed = v, false, p.out[:0], 0, 0, false
	sb.vm.Interrupt(errScriptCode)
	_, err = sb.encodeFn(goja.Undefined())
	sb.vm.ClearInterrupt()
	p.root = nil
	clear(p.stack)
	p.stack = p.stack[:0]
	if c := sb.call; c != nil && c.stopped.Load() {
		return nil, false, &stoppedAt{}
	}
	if ie, isInterrupt := err.(*goja.InterruptedError); isInterrupt && ie.Value() == errScriptCode {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if p.failed || p.chars*charBytes > sb.limits.left || len(p.out) > sb.e.o.MaxResultBytes {
		return nil, false, nil
	}
	if !p.defined {
		return nil, true, nil
	}
	return p.out, true, nil
}

// encode is the runtime function encodePlain calls.
func (p *plainJSON) encode(goja.FunctionCall) goja.Value {
	p.defined = p.value(p.root, "", false)
	return goja.Undefined()
}

// value writes v, found under key in an object or array holder, and tells
// whether it wrote anything (JSON.stringify leaves out undefined,
// functions and symbols). It sets failed instead where v is not plain.
func (p *plainJSON) value(v goja.Value, key string, inArray bool) bool {
	sb := p.sb
	if p.values++; p.values > sb.e.maxElements || len(p.out) > sb.e.o.MaxResultBytes {
		p.failed = true
		return false
	}
	size := int64(1) // as jsonVisit counts
	if !inArray {
		size += utf16Length(key) + 3
	}
	switch v := v.(type) {
	case nil:
		p.chars += size + 8
		return false
	case goja.String:
		p.chars += size + int64(v.Length()) + 2
		return p.string(v.String())
	case *goja.Object:
		p.chars += size + 2
		return p.object(v)
	case *goja.Symbol:
		p.chars += size + 8
		return false
	}
	p.chars += size + 8
	switch {
	case goja.IsUndefined(v):
		return false
	case goja.IsNull(v):
		p.out = append(p.out, "null"...)
	default:
		switch v.ExportType() {
		case intType:
			p.out = strconv.AppendInt(p.out, v.ToInteger(), 10)
		case floatType:
			if f := v.ToFloat(); math.IsNaN(f) || math.IsInf(f, 0) {
				p.out = append(p.out, "null"...)
			} else {
				p.out = append(p.out, v.String()...)
			}
		case boolType:
			p.out = strconv.AppendBool(p.out, v.ToBoolean())
		default: // BigInt: a TypeError
			p.failed = true
			return false
		}
	}
	return true
}

// object writes an ordinary object or array.
func (p *plainJSON) object(o *goja.Object) bool {
	sb := p.sb
	t := o.ExportType()
	if t == proxyType || len(p.stack)+2 >= maxNesting {
		p.failed = true
		return false
	}
	if c := sb.call; c != nil && c.stopped.Load() {
		p.failed = true
		return false
	}
	if toJSON, ok := o.Get("toJSON").(*goja.Object); ok {
		if _, callable := goja.AssertFunction(toJSON); callable {
			p.failed = true
			return false
		}
	}
	if _, callable := goja.AssertFunction(o); callable {
		return false
	}
	class := o.ClassName()
	isArray := class == "Array" && t == arrayType
	if !isArray && (class != "Object" || t != objectType) {
		p.failed = true
		return false
	}
	for _, open := range p.stack {
		if open == o { // a TypeError
			p.failed = true
			return false
		}
	}
	p.stack = append(p.stack, o)
	if isArray {
		p.array(o)
	} else {
		p.members(o)
	}
	p.stack = p.stack[:len(p.stack)-1]
	return !p.failed
}

// array writes an array's elements, null for those that write nothing.
func (p *plainJSON) array(o *goja.Object) {
	n := o.Get("length").ToInteger()
	p.out = append(p.out, '[')
	for i := range n {
		if i > 0 {
			p.out = append(p.out, ',')
		}
		if !p.value(o.Get(strconv.FormatInt(i, 10)), "", true) {
			if p.failed {
				return
			}
			p.out = append(p.out, "null"...)
		}
	}
	p.out = append(p.out, ']')
}

// members writes an object's own enumerable string-keyed members, but
// for those whose values write nothing.
func (p *plainJSON) members(o *goja.Object) {
	p.out = append(p.out, '{')
	first := true
	for _, k := range o.Keys() {
		mark := len(p.out)
		if !first {
			p.out = append(p.out, ',')
		}
		if !p.string(k) {
			return
		}
		p.out = append(p.out, ':')
		if p.value(o.Get(k), k, false) {
			first = false
			continue
		}
		if p.failed {
			return
		}
		p.out = p.out[:mark]
	}
	p.out = append(p.out, '}')
}

// string writes s quoted as JSON.stringify quotes it. goja shows Go a
// lone surrogate as U+FFFD, which JSON.stringify would write as an escape:
// a string holding U+FFFD is not plain.
func (p *plainJSON) string(s string) bool {
	if strings.Contains(s, string(utf8.RuneError)) {
		p.failed = true
		return false
	}
	p.out = append(p.out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		p.out = append(p.out, s[start:i]...)
		switch c {
		case '"', '\\':
			p.out = append(p.out, '\\', c)
		case '\b':
			p.out = append(p.out, `\b`...)
		case '\t':
			p.out = append(p.out, `\t`...)
		case '\n':
			p.out = append(p.out, `\n`...)
		case '\f':
			p.out = append(p.out, `\f`...)
		case '\r':
			p.out = append(p.out, `\r`...)
		default:
			p.out = append(p.out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	p.out = append(p.out, s[start:]...)
	p.out = append(p.out, '"')
	return true
}

const hexDigits = "0123456789abcdef"

// utf16Length is the length of s in UTF-16 code units, as JavaScript
// counts it.
func utf16Length(s string) int64 {
	n := int64(0)
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range s {
				n++
				if r > 0xFFFF {
					n++
				}
			}
			return n
		}
	}
	return int64(len(s))
}
