// Package jsvm runs JavaScript connector methods in goja, sandboxed and time
// limited. A method body is the inside of an async function of (args, ctx);
// it is compiled once and run in pooled runtimes whose builtins are frozen,
// so no call can leave state behind for the next. Scripts reach the world
// only through the bindings http, entities, connector, log, crypto and
// events.
package jsvm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/textcut"
)

// CodeInvalidScript is the error code of a method body that does not
// compile (400).
const CodeInvalidScript = "invalid_script"

// codeScriptError is the code of a client error a script throws without
// naming one.
const codeScriptError = "script_error"

// The body is wrapped in an async function, or a plain one when it never
// awaits (which spares each call a promise); the prefix stays on the
// body's first line so that line numbers are the body's own.
const (
	asyncPrefix  = `(async function(args, ctx) {"use strict";`
	plainPrefix  = `(function(args, ctx) {"use strict";`
	scriptSuffix = "\n})"
)

// Defaults of Options.
const (
	defaultTimeout        = 2 * time.Second
	defaultMaxCallStack   = 200
	defaultMaxResultBytes = 1 << 20
	defaultFetchTimeout   = 5 * time.Second
	defaultMaxFetchBytes  = 1 << 20
	defaultMaxRuntimes    = 64
)

// credentialHeaders are request headers scripts never see: who calls is
// ctx.principal, never the caller's secrets.
var credentialHeaders = []string{"Authorization", "DirectLogin", "Cookie", "Proxy-Authorization"}

// promiseType is what a promise exports to.
var promiseType = reflect.TypeFor[*goja.Promise]()

// maxMessage bounds the length of a script's error message passed on.
const maxMessage = 1024

// Options configure an Engine. Zero fields take their defaults.
type Options struct {
	// Caller answers connector.call; nil refuses it. Open replaces it
	// with the Caller of its Env.
	Caller connector.Caller
	// Entities answers entities.*; nil refuses them.
	Entities Entities
	// FetchAllow lists the hosts http.fetch may reach, as "host" or
	// "host:port" (case-insensitive; a bare host allows any port). Empty:
	// fetch is refused.
	FetchAllow []string
	// HTTPClient sends http.fetch requests; default: a plain client. Either
	// way, redirects to hosts outside FetchAllow are refused.
	HTTPClient *http.Client
	// Logger receives log.* calls of scripts; default: discarded.
	Logger *slog.Logger
	// DefaultTimeout is the deadline of a call when Compile is given none,
	// default 2s.
	DefaultTimeout time.Duration
	// MaxCallStack bounds the JavaScript call stack, default 200 frames.
	MaxCallStack int
	// MaxResultBytes bounds the JSON size of a result, default 1 MiB.
	MaxResultBytes int
	// FetchTimeout is each fetch's own deadline, default 5s, never past the
	// call's deadline.
	FetchTimeout time.Duration
	// MaxFetchBytes bounds a fetched response body, default 1 MiB.
	MaxFetchBytes int
	// MaxRuntimes bounds the calls running at once, each in a runtime of
	// its own (about 0.5 MB), default 64; further calls wait for one to
	// finish. Calls made by scripts through connector.call are not counted,
	// so scripts calling scripts cannot wait for each other.
	MaxRuntimes int
	// MaxAllocBytes bounds what the builtins of one call may allocate
	// (strings, arrays, buffers, JSON text), default 32 MiB; a builtin
	// whose result would not fit throws a RangeError, which fails the call
	// with CodeScriptMemoryLimit unless the script catches it. It also caps
	// the elements one builtin call may work through at MaxAllocBytes/256.
	MaxAllocBytes int
	// MemoryLimit bounds the heap the running calls hold together, default
	// 512 MiB: beyond it every running call is stopped (503
	// CodeScriptMemoryExhausted) and its runtime dropped.
	MemoryLimit int
	// HiddenHeaders are request headers scripts never see, besides the
	// credentials (Authorization, DirectLogin, Cookie,
	// Proxy-Authorization): the REST connector's context header, say.
	HiddenHeaders []string
	// Emit writes the events a call emitted with events.emit(type,
	// subject, data), all in one store transaction (events.Emit for each),
	// once the call returned successfully: a call that throws, is
	// stopped or times out emits nothing. nil refuses events.emit. Each
	// event was checked by events.CheckCustom; its BankID is the call's
	// bank, its CorrelationID the call's, and its ConsumerID the calling
	// consumer's, if any: a TPP's own subscriptions receive what the
	// bank's script emits while answering that TPP. A call made through
	// connector.call writes its own events when it returns, whatever its
	// caller does next.
	Emit func(ctx context.Context, evs []*events.Event) error
	// Metrics records each run's outcome and time and the waits for a
	// runtime; nil records nothing.
	Metrics *metrics.Scripts
}

// Entities is what scripts reach through entities.*, always on behalf of
// the calling principal. The implementation checks the principal's rights;
// jsvm enforces nothing.
type Entities interface {
	Get(ctx context.Context, p *engine.Principal, bankID, entity, id string) (map[string]any, error)
	List(ctx context.Context, p *engine.Principal, bankID, entity string, filter map[string]string) ([]map[string]any, error)
	Create(ctx context.Context, p *engine.Principal, bankID, entity string, record map[string]any) (map[string]any, error)
	Update(ctx context.Context, p *engine.Principal, bankID, entity, id string, record map[string]any) (map[string]any, error)
	Delete(ctx context.Context, p *engine.Principal, bankID, entity, id string) error
}

// Engine compiles connector method bodies and runs them in a pool of
// sandboxed runtimes. It is safe for concurrent use.
type Engine struct {
	o      Options
	allow  []hostRule
	client *http.Client
	slots  chan struct{} // one per call running, but for nested calls
	// maxElements caps the elements one builtin call works through.
	maxElements int64
	// hidden are the request headers scripts never see.
	hidden []string
	watch  *watchdog
	// runtimes are every runtime made and not dropped, for the watchdog;
	// idle are those no call uses, the most recently used last, so that a
	// call takes the runtime whose memory is most likely still in cache.
	mu       sync.Mutex
	runtimes map[*sandbox]struct{}
	idle     []*sandbox
}

var _ connector.ScriptEngine = (*Engine)(nil)

// New returns an Engine with o's settings, defaults filled in.
func New(o Options) *Engine {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = defaultTimeout
	}
	if o.MaxCallStack <= 0 {
		o.MaxCallStack = defaultMaxCallStack
	}
	if o.MaxResultBytes <= 0 {
		o.MaxResultBytes = defaultMaxResultBytes
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = defaultFetchTimeout
	}
	if o.MaxFetchBytes <= 0 {
		o.MaxFetchBytes = defaultMaxFetchBytes
	}
	if o.MaxRuntimes <= 0 {
		o.MaxRuntimes = defaultMaxRuntimes
	}
	if o.MaxAllocBytes <= 0 {
		o.MaxAllocBytes = DefaultMaxAllocBytes
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	e := &Engine{o: o, slots: make(chan struct{}, o.MaxRuntimes),
		maxElements: int64(o.MaxAllocBytes / elementCost), hidden: append(slices.Clone(credentialHeaders), o.HiddenHeaders...),
		runtimes: map[*sandbox]struct{}{}}
	e.watch = newWatchdog(e, int64(o.MemoryLimit))
	for _, h := range o.FetchAllow {
		e.allow = append(e.allow, parseHostRule(h))
	}
	e.client = e.fetchClient(o.HTTPClient)
	return e
}

// script is a compiled method body.
type script struct {
	e       *Engine
	name    string // the method name, the file name of stack frames
	prg     *goja.Program
	timeout time.Duration
	lines   int    // lines of the body
	last    string // the body's last line
	async   bool   // the body awaits: wrapped in an async function
	// readsArgs: the body may read its arguments. One that never names
	// args or arguments cannot (code cannot be made from strings, and
	// strict mode has no with), so its calls skip converting them.
	readsArgs bool
	prefix    string // what precedes the body on its first line
}

// Open implements connector.Opener: connector.call goes to env.Caller, the
// dispatcher that opens the engine. It is called before the first call.
func (e *Engine) Open(_ context.Context, env connector.Env) error {
	e.o.Caller = env.Caller
	return nil
}

// ReadsArgs implements connector.ArgsReader: a body that never names its
// arguments is called without them being built.
func (s *script) ReadsArgs() bool { return s.readsArgs }

// Compile implements connector.ScriptEngine: it checks and compiles body
// once. A body that does not compile is a 400 *engine.Error of code
// CodeInvalidScript naming the line and column.
func (e *Engine) Compile(m *connector.Method, body string, timeout time.Duration) (connector.Invoker, error) {
	if m == nil {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidScript, "a method body needs its connector method")
	}
	if strings.TrimSpace(body) == "" {
		msg := "the body of connector method " + m.Name + " is empty"
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidScript, msg,
			engine.Violation{Location: "body", Pointer: "/method_body", Code: "required", Message: msg})
	}
	if timeout <= 0 {
		timeout = e.o.DefaultTimeout
	}
	s := &script{e: e, name: m.Name, timeout: timeout, lines: strings.Count(body, "\n") + 1}
	s.last = body[strings.LastIndexByte(body, '\n')+1:]
	s.async = strings.Contains(body, "await")
	s.readsArgs = strings.Contains(body, "args") || strings.Contains(body, "arguments") || strings.Contains(body, `\u`)
	s.prefix = plainPrefix
	if s.async {
		s.prefix = asyncPrefix
	}
	src := s.prefix + body + scriptSuffix
	prog, err := parser.ParseFile(nil, s.name, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return nil, s.syntaxError(list[0].Position.Line, list[0].Position.Column, list[0].Message)
		}
		return nil, s.syntaxError(0, 0, err.Error())
	}
	if !isOneFunction(prog, s.async) {
		return nil, s.syntaxError(0, 0, "the body closes the function it is the body of")
	}
	if n := bigIntLiteral(prog); n != nil {
		p := prog.File.Position(int(n.Idx) - prog.File.Base())
		return nil, s.syntaxError(p.Line, p.Column, "BigInt is not available in connector methods")
	}
	s.prg, err = goja.CompileAST(prog, true)
	if err != nil {
		var ce *goja.CompilerSyntaxError
		if errors.As(err, &ce) && ce.File != nil {
			p := ce.File.Position(ce.Offset)
			return nil, s.syntaxError(p.Line, p.Column, ce.Message)
		}
		return nil, s.syntaxError(0, 0, err.Error())
	}
	return s, nil
}

// isOneFunction reports whether the wrapped body parsed as the one function
// expression it is wrapped in, so that no code runs outside it.
func isOneFunction(p *ast.Program, async bool) bool {
	if len(p.Body) != 1 {
		return false
	}
	st, ok := p.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return false
	}
	f, ok := st.Expression.(*ast.FunctionLiteral)
	return ok && f.Async == async
}

// syntaxError is the 400 of a body that does not compile; line 0 when the
// position is unknown.
func (s *script) syntaxError(line, col int, msg string) *engine.Error {
	fault := &connector.ScriptFault{Phase: connector.PhaseCompile, Name: "SyntaxError", Message: truncate(msg)}
	if line > 0 {
		line, col = s.bodyPosition(line, col)
		fault.Line, fault.Column = line, col
		msg = fmt.Sprintf("line %d, column %d: %s", line, col, msg)
	}
	return engine.NewError(http.StatusBadRequest, CodeInvalidScript,
		"the body of connector method "+s.name+" does not compile: "+msg,
		engine.Violation{Location: "body", Pointer: "/method_body", Code: "syntax", Message: msg}).WithCause(fault)
}

// bodyPosition converts a position in the wrapped source into one in the
// body: columns of line 1 lose the prefix, and the closing line of the
// wrapper is the end of the body's last line.
func (s *script) bodyPosition(line, col int) (int, int) {
	if line > s.lines {
		line, col = s.lines, len(s.last)+1
		if line == 1 {
			col += len(s.prefix)
		}
	}
	if line == 1 {
		col = max(1, col-len(s.prefix))
	}
	return line, col
}

// Invoke implements connector.Invoker: it runs the body with req's
// arguments in a pooled runtime until its promise settles or its deadline
// passes, then writes the events it emitted (Options.Emit).
func (s *script) Invoke(ctx context.Context, req *connector.Request) (res *connector.Result, err error) {
	start := s.e.o.Metrics.Start()
	defer func() { s.e.o.Metrics.Ran(outcome(err), start) }()
	ctx, span := tracing.Start(ctx, tracing.SpanScript, trace.SpanKindInternal)
	if span.IsRecording() {
		span.SetAttributes(tracing.Method.String(req.Method.Name))
	}
	res, evs, err := s.invoke(ctx, req)
	if err == nil && evs != nil {
		if err = s.emit(ctx, evs); err != nil {
			res = nil
		}
	}
	tracing.End(span, err)
	return res, err
}

// outcome is the metrics' outcome of a run that returned err.
func outcome(err error) string {
	var e *engine.Error
	switch {
	case err == nil:
		return metrics.ScriptOK
	case !errors.As(err, &e):
		return metrics.ScriptError
	case e.Code == engine.CodeScriptTimeout:
		return metrics.ScriptTimeout
	case e.Code == engine.CodeScriptMemoryExhausted:
		return metrics.ScriptMemory
	}
	return metrics.ScriptError
}

// invoke runs the body as Invoke says and returns its result and the
// events it emitted, which are nil when it failed.
func (s *script) invoke(ctx context.Context, req *connector.Request) (res *connector.Result, evs []*events.Event, err error) {
	sb, err := s.e.acquire(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	deadline := start.Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	limit := deadline.Sub(start)
	// The watchdog stops the call once it is past its deadline or its
	// caller is gone, or when the calls hold too much memory; no timer is
	// set per call.
	c := &callState{parent: ctx, deadline: deadline, sb: sb, req: req, script: s}
	if c.ended(start) {
		s.e.release(sb)
		return nil, nil, s.stopped(ctx, c, limit, nil)
	}
	sb.call = c
	sb.limits.reset(int64(s.e.o.MaxAllocBytes))
	sb.current.Store(c)
	s.e.watch.begin()
	defer func() {
		if x := recover(); x != nil {
			sb.broken = true
			s.e.o.Logger.ErrorContext(ctx, "jsvm: panic in a connector method call",
				"connector_method", s.name, "correlation_id", c.correlationID(), "panic", fmt.Sprint(x), "stack", string(debug.Stack()))
			res, evs, err = nil, nil, engine.Errorf(http.StatusInternalServerError, engine.CodeScriptFailed,
				"connector method %s failed: the script engine failed", s.name).WithCause(fmt.Errorf("panic: %v", x))
		}
		// A runtime the call was stopped in is not reused: the interrupt
		// may still be pending.
		if c.finish() {
			sb.broken = true
		}
		sb.current.Store(nil)
		s.e.watch.end()
		s.e.release(sb)
	}()
	if res, err = s.run(sb, req); err != nil {
		return nil, nil, s.failed(ctx, c, limit, err)
	}
	return res, sb.emitted, nil
}

// failed is the error of a call that ran into err: a stop (interrupt,
// or a stopped binding) is reported as one, with where it stopped.
func (s *script) failed(ctx context.Context, c *callState, limit time.Duration, err error) error {
	var ie *goja.InterruptedError
	var sa *stoppedAt
	switch {
	case errors.As(err, &ie):
		return s.stopped(ctx, c, limit, ie.Stack())
	case errors.As(err, &sa):
		return s.stopped(ctx, c, limit, sa.frames)
	case c.ended(time.Now()):
		// The call was stopped while a binding waited: it failed first.
		return s.stopped(ctx, c, limit, nil)
	}
	return err
}

// errStopped is the value runtimes are interrupted with.
var errStopped = errors.New("jsvm: deadline passed")

// run calls the script's function and turns its value, or its settled
// promise, into a result or an error. An interrupt is returned as the *goja.InterruptedError.
func (s *script) run(sb *sandbox, req *connector.Request) (*connector.Result, error) {
	fn, err := sb.function(s)
	if err != nil {
		return nil, s.vmError(sb, err)
	}
	args := goja.Undefined()
	if s.readsArgs {
		if args, err = sb.argsValue(req.Args); err != nil {
			return nil, engine.Internal(fmt.Errorf("jsvm: arguments of %s: %w", s.name, err))
		}
	}
	v, err := fn(goja.Undefined(), args, sb.ctxValue(s, req))
	if err != nil {
		return nil, s.vmError(sb, err)
	}
	// A plain function's value is the result unless it is a promise (an
	// async function's always is). The type is checked first: exporting
	// any other object would copy it into Go.
	if v.ExportType() != promiseType {
		return s.result(sb, v)
	}
	p := v.Export().(*goja.Promise)
	switch p.State() {
	case goja.PromiseStateFulfilled:
		return s.result(sb, p.Result())
	case goja.PromiseStateRejected:
		return nil, s.rejected(sb, p.Result())
	default:
		return nil, engine.Errorf(http.StatusInternalServerError, engine.CodeScriptFailed,
			"connector method %s failed: it awaits a promise that never settles", s.name)
	}
}

// result is a fulfilled value as JSON text, decoded only where it is read:
// written in Go when it is plain, else by the guarded JSON.stringify.
func (s *script) result(sb *sandbox, v goja.Value) (*connector.Result, error) {
	encoded, plain, err := sb.encodePlain(v)
	switch {
	case err != nil:
		return nil, s.encodeError(sb, err)
	case plain && encoded == nil:
		return &connector.Result{}, nil
	case plain:
		return &connector.Result{JSON: slices.Clone(encoded), WellFormed: true}, nil
	}
	out, err := sb.stringify(goja.Undefined(), v)
	if err != nil {
		return nil, s.vmError(sb, err)
	}
	if goja.IsUndefined(out) {
		return &connector.Result{}, nil
	}
	text := out.String()
	if len(text) > s.e.o.MaxResultBytes {
		return nil, engine.Errorf(http.StatusInternalServerError, engine.CodeScriptFailed,
			"connector method %s failed: its result is larger than the limit of %d bytes", s.name, s.e.o.MaxResultBytes)
	}
	return &connector.Result{JSON: []byte(text)}, nil
}

// encodeError is the error of an encoding that failed with err.
func (s *script) encodeError(sb *sandbox, err error) error {
	if sa := (*stoppedAt)(nil); errors.As(err, &sa) {
		sb.broken = true // the interrupt may be pending
		return err
	}
	return s.vmError(sb, err)
}

// stoppedAt is what a call stopped by its context ran into: guarded
// builtins throw once it is stopped, and the interrupt follows.
type stoppedAt struct{ frames []goja.StackFrame }

func (*stoppedAt) Error() string { return "jsvm: the call was stopped" }

// vmError converts an error of a call into the runtime: an exception is a
// thrown value (or, once the call was stopped, where it stopped), an
// interrupt is returned as it is for Invoke, a stack overflow fails the
// call. The latter leave the runtime unusable.
func (s *script) vmError(sb *sandbox, err error) error {
	var ex *goja.Exception
	if errors.As(err, &ex) && sb.call != nil && sb.call.stopped.Load() {
		sb.broken = true // the interrupt is pending
		return &stoppedAt{frames: ex.Stack()}
	}
	switch e := err.(type) {
	case *goja.InterruptedError:
		sb.broken = true
		return e
	case *goja.StackOverflowError:
		sb.broken = true
		msg := fmt.Sprintf("maximum call stack size of %d exceeded", s.e.o.MaxCallStack)
		return engine.Errorf(http.StatusInternalServerError, engine.CodeScriptFailed,
			"connector method %s failed%s: %s", s.name, s.where(e.Stack()), msg).
			WithCause(s.fault(connector.PhaseRun, "RangeError", msg, e.Stack()))
	}
	if errors.As(err, &ex) {
		return s.rejected(sb, ex.Value())
	}
	sb.broken = true
	return engine.Internal(fmt.Errorf("jsvm: %s: %w", s.name, err))
}

// rejected converts a thrown value: an object with a status in 400..499 is a
// client error of that status, anything else fails the call (500) naming
// where the error was made.
func (s *script) rejected(sb *sandbox, reason goja.Value) error {
	d, err := sb.describe(goja.Undefined(), reason)
	if err != nil {
		if _, ok := err.(*goja.Exception); ok {
			// describe catches everything it can; this cannot happen.
			return engine.Internal(fmt.Errorf("jsvm: describing an error of %s: %w", s.name, err))
		}
		return s.vmError(sb, err)
	}
	o := d.ToObject(sb.vm)
	status := int(o.Get("status").ToInteger())
	code, msg, name := o.Get("code").String(), o.Get("message").String(), o.Get("name").String()
	if obj, ok := reason.(*goja.Object); ok && obj == sb.limits.refusal {
		frames, err := s.frames(sb, reason)
		if err != nil {
			return err
		}
		return s.limitError(sb.limits.refusalKind, frames, msg)
	}
	if status >= 400 && status <= 499 {
		if obj, ok := reason.(*goja.Object); ok {
			if ee := sb.call.errs[obj]; ee != nil && ee.Status == status {
				return ee // a binding's client error, passed on unchanged
			}
		}
		if code == "" {
			code = codeScriptError
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		// Where it was thrown is not looked up: a client error is an
		// answer, not a fault, and finding it costs a rethrow.
		return engine.NewError(status, code, truncate(msg)).WithCause(s.fault(connector.PhaseRun, cmp.Or(name, code), msg, nil))
	}
	frames, err := s.frames(sb, reason)
	if err != nil {
		return err
	}
	if msg == "" {
		msg = o.Get("text").String()
	}
	fault := s.fault(connector.PhaseRun, cmp.Or(name, "Error"), msg, frames)
	if name != "" {
		msg = name + ": " + msg
	}
	return engine.Errorf(http.StatusInternalServerError, engine.CodeScriptFailed,
		"connector method %s failed%s: %s", s.name, s.where(frames), truncate(msg)).WithCause(fault)
}

// frames are the stack frames of where thrown value reason was made.
func (s *script) frames(sb *sandbox, reason goja.Value) ([]goja.StackFrame, error) {
	_, err := sb.rethrow(goja.Undefined(), reason)
	if ex, ok := err.(*goja.Exception); ok {
		return ex.Stack(), nil
	}
	if err != nil {
		return nil, s.vmError(sb, err)
	}
	return nil, nil
}

// stopped is the error of a call stopped by its deadline, its context's
// cancellation or the memory watchdog (c's cause), with where the script
// was when known.
func (s *script) stopped(ctx context.Context, c *callState, limit time.Duration, frames []goja.StackFrame) error {
	where := s.where(frames)
	if errors.Is(c.cause(), errMemory) {
		msg := "the scripts running together held more memory than their limit of " + bytesText(float64(s.e.o.MemoryLimit))
		return engine.Errorf(http.StatusServiceUnavailable, engine.CodeScriptMemoryExhausted,
			"connector method %s was stopped%s: %s; try again later", s.name, where, msg).
			WithCause(s.fault(connector.PhaseRun, "RangeError", msg, frames))
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return engine.Errorf(http.StatusGatewayTimeout, engine.CodeScriptTimeout,
			"connector method %s was cancelled%s", s.name, where).
			WithCause(s.fault(connector.PhaseTimeout, "TimeoutError", "the call was cancelled", frames))
	}
	msg := "did not finish within its deadline of " + limit.Round(time.Millisecond).String() + " and was stopped"
	return engine.Errorf(http.StatusGatewayTimeout, engine.CodeScriptTimeout,
		"connector method %s %s%s", s.name, msg, where).
		WithCause(s.fault(connector.PhaseTimeout, "TimeoutError", msg, frames))
}

// where names the innermost position in the body among frames, as
// " at line L, column C", or "" when none is in the body.
func (s *script) where(frames []goja.StackFrame) string {
	if line, col := s.position(frames); line > 0 {
		return fmt.Sprintf(" at line %d, column %d", line, col)
	}
	return ""
}

// position is the innermost position in the body among frames, as the
// body's author sees it; 0, 0 when none is in the body.
func (s *script) position(frames []goja.StackFrame) (line, col int) {
	for _, f := range frames {
		if f.SrcName() != s.name {
			continue
		}
		if p := f.Position(); p.Line > 0 {
			return s.bodyPosition(p.Line, p.Column)
		}
	}
	return 0, 0
}

// fault is where and why the script failed in phase, for its author
// (connector.ScriptFault): an error named name with msg, made at the
// innermost of frames in the body.
func (s *script) fault(phase, name, msg string, frames []goja.StackFrame) *connector.ScriptFault {
	line, col := s.position(frames)
	return &connector.ScriptFault{Phase: phase, Name: name, Message: truncate(msg), Line: line, Column: col}
}

// truncate bounds a message from a script.
func truncate(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	return textcut.Bytes(msg, maxMessage) + "…"
}
