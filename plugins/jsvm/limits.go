package jsvm

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// goja checks its interrupt flag between instructions only, so a single
// builtin call (Array(n).fill, 'x'.repeat(n), JSON.stringify of a shared
// subtree) could allocate gigabytes and run for minutes. The realm's
// builtins that can do so are replaced, before the freeze, by guarded
// versions (builtins.go, buffers.go, json.go) that check what a call would
// make against the call's limits first and throw a RangeError instead:
//
//   - a per-call allocation budget (Options.MaxAllocBytes): what guarded
//     builtins make (strings, arrays, buffers, JSON text) is charged to
//     it, and a builtin whose result would not fit is refused;
//   - an element cap (MaxAllocBytes / elementCost): a builtin refuses to
//     work through an array, array-like, string or collection longer than
//     that, which bounds how long one builtin call can run;
//   - a nesting cap (maxNesting) on what builtins walk recursively in Go
//     (JSON texts and values, nested arrays being joined or flattened), so
//     no script can overflow the Go stack, which would end the process;
//   - a time limit per regular expression match (regexpTimeout).
//
// What no builtin can guard (the + operator doubling a string, a loop
// pushing objects) is bounded by the deadline and by the engine's memory
// watchdog (watchdog.go).

// Defaults of Options.MaxAllocBytes and Options.MemoryLimit.
const (
	DefaultMaxAllocBytes = 32 << 20
	DefaultMemoryLimit   = 512 << 20
)

// elementCost is what one element counts when the element cap is derived
// from MaxAllocBytes: 32 MiB lets a builtin work through 131,072 elements,
// which the slowest of them (new Map of entries, new Set, Object.entries)
// get through in under a second.
const elementCost = 256

// slotBytes is what one element of an array a guarded builtin makes is
// charged: a JavaScript value's slot.
const slotBytes = 16

// charBytes is what one character of a string a guarded builtin makes is
// charged: UTF-16, the widest goja stores.
const charBytes = 2

// maxNesting bounds the nesting of what builtins walk recursively in Go.
const maxNesting = 1000

// regexpTimeout bounds one regular expression match. Backtracking
// expressions (those Go's regexp cannot run: lookaround, backreferences)
// give up after it; a match that took longer fails the call.
const regexpTimeout = 500 * time.Millisecond

func init() {
	// goja compiles backtracking expressions with regexp2, which never
	// gives up by default; only goja uses this major version of it.
	regexp2.DefaultMatchTimeout = regexpTimeout
}

// Limits a script can exceed.
var (
	// errAllocLimit: a guarded builtin would have exceeded the call's
	// allocation budget, element cap or nesting cap.
	errAllocLimit = errors.New("jsvm: script allocation limit")
	// errRegexpTime: a regular expression match ran past regexpTimeout.
	errRegexpTime = errors.New("jsvm: regular expression time limit")
	// errMemory: the engine's scripts together held more heap than
	// Options.MemoryLimit; the watchdog stopped every running call.
	errMemory = errors.New("jsvm: script memory limit")
)

// limitState is what the guarded builtins track for the call a runtime is
// running. It is reset when a call starts.
type limitState struct {
	// left is what guarded builtins may still make in this call, in bytes;
	// negative once a builtin charged after the fact went past the budget.
	left int64
	// refusal is the RangeError last thrown for a limit and refusalKind
	// its limit, so that a refusal the script does not catch fails the call
	// with the limit's code.
	refusal     *goja.Object
	refusalKind error
	// nesting counts guarded builtins running inside each other (join,
	// flat, toLocaleString); joining are the arrays being joined, to answer
	// "" for a cycle as goja does.
	nesting int
	joining []*goja.Object
}

// reset prepares the state for a new call with a budget of max bytes.
func (l *limitState) reset(max int64) {
	l.left, l.refusal, l.refusalKind, l.nesting = max, nil, nil, 0
	clear(l.joining)
	l.joining = l.joining[:0]
}

// enter starts a guarded builtin: it throws when the call was stopped
// (deadline, cancellation, the memory watchdog), so that a builtin looping
// natively over guarded ones ends soon after the interrupt.
func (sb *sandbox) enter() {
	if c := sb.call; c != nil && c.stopped.Load() {
		panic(sb.rangeError("the call was stopped"))
	}
}

// need throws unless n more bytes fit the call's budget (n 0: unless the
// budget is spent).
func (sb *sandbox) need(n float64, what string) {
	sb.enter()
	switch {
	case sb.limits.left <= 0 && (n > 0 || sb.limits.left < 0):
		sb.refuse(errAllocLimit, fmt.Sprintf("%s: the call has spent its allocation budget of %s",
			what, bytesText(float64(sb.e.o.MaxAllocBytes))))
	case n > float64(sb.limits.left):
		sb.refuse(errAllocLimit, fmt.Sprintf("%s would allocate %s; the call may allocate %s more of its %s",
			what, bytesText(n), bytesText(float64(sb.limits.left)), bytesText(float64(sb.e.o.MaxAllocBytes))))
	}
}

// needChars is need for a string of n characters.
func (sb *sandbox) needChars(n float64, what string) { sb.need(n*charBytes, what) }

// charge takes n bytes made by a builtin from the budget; the next need
// refuses once it is spent.
func (sb *sandbox) charge(n int64) { sb.limits.left -= n }

// chargeString charges the string v, when it is one.
func (sb *sandbox) chargeString(v goja.Value) {
	if s, ok := v.(goja.String); ok {
		sb.charge(int64(s.Length()) * charBytes)
	}
}

// chargeArray charges the slots of the array (or array-like) v.
func (sb *sandbox) chargeArray(v goja.Value) {
	if o, ok := v.(*goja.Object); ok {
		sb.charge(toLength(o.Get("length")) * slotBytes)
	}
}

// elements throws unless a builtin may work through n elements.
func (sb *sandbox) elements(n int64, what string) {
	sb.enter()
	if n > sb.e.maxElements {
		sb.refuse(errAllocLimit, fmt.Sprintf("%s would work through %d elements; the limit is %d", what, n, sb.e.maxElements))
	}
}

// lengthOf is the length of v as an array-like: an object's length
// property, a string's length, 0 for anything else (undefined and null
// are left for the builtin to refuse).
func lengthOf(v goja.Value) int64 {
	switch v := v.(type) {
	case *goja.Object:
		return toLength(v.Get("length"))
	case goja.String:
		return int64(v.Length())
	}
	return 0
}

// nest enters a guarded builtin that recurses; the returned function
// leaves it.
func (sb *sandbox) nest(what string) func() {
	if sb.limits.nesting >= maxNesting {
		sb.refuse(errAllocLimit, fmt.Sprintf("%s: values nested deeper than %d levels", what, maxNesting))
	}
	sb.limits.nesting++
	return func() { sb.limits.nesting-- }
}

// refuse throws a RangeError for a limit; uncaught, it fails the call with
// the limit's error.
func (sb *sandbox) refuse(kind error, msg string) {
	e := sb.rangeError(msg)
	sb.limits.refusal, sb.limits.refusalKind = e, kind
	panic(e)
}

// rangeError makes a RangeError of this runtime.
func (sb *sandbox) rangeError(msg string) *goja.Object {
	o, err := sb.newRangeError(nil, sb.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	return o
}

// limitError is the error of a call whose refusal reached the top: the
// limit, where the script was (the innermost of frames in the body) and
// the message.
func (s *script) limitError(kind error, frames []goja.StackFrame, msg string) *engine.Error {
	where := s.where(frames)
	if kind == errRegexpTime {
		return engine.Errorf(http.StatusGatewayTimeout, engine.CodeScriptTimeout,
			"connector method %s was stopped%s: %s", s.name, where, truncate(msg)).
			WithCause(s.fault(connector.PhaseTimeout, "TimeoutError", msg, frames))
	}
	return engine.Errorf(http.StatusInternalServerError, engine.CodeScriptMemoryLimit,
		"connector method %s exceeded a script limit%s: %s", s.name, where, truncate(msg)).
		WithCause(s.fault(connector.PhaseRun, "RangeError", msg, frames))
}

// toLength is ECMAScript's ToLength: an integer in [0, 2^53-1].
func toLength(v goja.Value) int64 {
	if v == nil {
		return 0
	}
	return int64(clampLength(v.ToFloat()))
}

// clampLength is ToLength of a number, as a float.
func clampLength(f float64) float64 {
	switch {
	case math.IsNaN(f) || f <= 0:
		return 0
	case f > 1<<53-1:
		return 1<<53 - 1
	}
	return math.Trunc(f)
}

// bytesText shows a byte count for messages.
func bytesText(n float64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f bytes", n)
}
