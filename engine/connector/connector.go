// Package connector is the connector method layer: every operation, built
// in (getBanks, createTransactionRequest, ...) or dynamic (named by its
// operation id), is a named method; a Connector answers methods; method
// routing picks the connector of each call by method name and bank id. The
// Dispatcher holds the routings and the JavaScript method bodies in one
// immutable table swapped atomically, so a call never sees half a change.
package connector

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/specs"
)

// Method describes one connector method: its named outbound fields (the
// arguments) and its inbound data, as message docs show them.
type Method struct {
	Name        string
	Description string
	// Args are the method's named outbound fields, in the order a
	// JavaScript method receives them in args.
	Args []Arg
	// Data is the JSON Schema of the inbound data (decoded JSON);
	// DataExample is an example of it.
	Data        map[string]any
	DataExample any
	// Idempotent methods only read, so a failed call may be retried.
	Idempotent bool
	// Endpoints are the routes that call the method, for message docs.
	Endpoints []EndpointRef
	// Dynamic is true for the operations of dynamic endpoints.
	Dynamic bool

	data *jsonschemas.Schema // compiled Data; nil when not checked
}

// Arg is one named outbound field of a method.
type Arg struct {
	Name        string
	Description string
	Schema      map[string]any
	Example     any
}

// EndpointRef names one route that calls a method.
type EndpointRef struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// Request is one call of a connector method. Invokers read it and must not
// keep it after Invoke returns.
type Request struct {
	Method *Method
	// BankID is the bank the call is for ("" when none), the key of method
	// routing.
	BankID string
	// Args are the values of Method.Args, in order.
	Args []any
	// Call is the request being answered: caller, correlation id and, for
	// dynamic operations, the validated request.
	Call *engine.Call
	// Operation is the dynamic operation being answered, nil for built-in
	// methods.
	Operation *specs.Operation
	// Default answers the method as it would without routing or scripts:
	// the mapped connector for built-in methods, the document's host for
	// dynamic operations. Scripts reach it through connector.call.
	Default Invoker
	// Depth counts nested connector.call calls, to stop runaway recursion.
	Depth int
	// Unrestricted is set when a script whose connector method opts out of
	// the access rules (MethodScript.UnrestrictedConnectorCalls) answers
	// the call: its connector.call calls skip CallRules.
	Unrestricted bool

	// operation is the served dynamic operation being answered, through
	// which a routing reaches an OperationConnector; nil for built-in
	// methods.
	operation *operation
}

// Result is an invoker's answer: inbound data, or for dynamic operations a
// reply sent as it is.
type Result struct {
	// Data is the inbound data: Go values from the mapped connector,
	// decoded JSON (map[string]any, []any, string, float64, bool, nil)
	// from back ends.
	Data any
	// JSON, when not nil, is the inbound data as JSON text and Data is
	// unset: scripts answer so, and a dynamic operation sends the text as
	// it is, never decoding it. Value decodes it.
	JSON []byte
	// WellFormed tells that JSON is text the engine itself encoded from
	// plain values: valid UTF-8 without lone surrogates, finite numbers,
	// bounded nesting. What the engine accepts of text it did not write
	// then need not be checked again (the operation's schema still is).
	WellFormed bool
	// Reply, when not nil, is sent to the client as it is.
	Reply *engine.Reply
}

// Value is the result's data, decoded from JSON when the connector gave
// text.
func (r *Result) Value() (any, error) {
	if r.JSON == nil {
		return r.Data, nil
	}
	var v any
	if err := json.Unmarshal(r.JSON, &v); err != nil {
		return nil, engine.Errorf(http.StatusBadGateway, engine.CodeInvalidResult, "the connector's data is not JSON: %v", err)
	}
	return v, nil
}

// Invoker answers calls of one method through one connector. It is
// prepared once, when a routing or script is submitted, and called
// concurrently afterwards. Invoke must not keep req after it returns: the
// engine reuses it for another call.
type Invoker interface {
	Invoke(ctx context.Context, req *Request) (*Result, error)
}

// ArgsReader is implemented by an invoker that can tell whether it reads
// Request.Args. A dynamic operation's one argument (see RequestArg) is
// built for every invoker except one whose ReadsArgs reports false.
type ArgsReader interface {
	// ReadsArgs reports whether Invoke may read Request.Args.
	ReadsArgs() bool
}

// readsArgs reports whether inv may read Request.Args: true unless it says
// otherwise.
func readsArgs(inv Invoker) bool {
	r, ok := inv.(ArgsReader)
	return !ok || r.ReadsArgs()
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, req *Request) (*Result, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, req *Request) (*Result, error) { return f(ctx, req) }

// Params are a method routing's parameters, OBP's [{"key", "value"}] list
// as a map.
type Params map[string]string

// Connector answers connector methods: mapped (the local store), obp_mock,
// dynamic_entity, rest, or one registered by a Go plugin. A document's
// host names the connector that answers its operations' methods unless a
// routing says otherwise.
type Connector interface {
	// Prepare checks the routing parameters for method m and returns the
	// invoker of its calls. An error refuses the routing (or the document
	// whose host it is) when it is submitted; it should be an
	// *engine.Error naming the parameter.
	Prepare(m *Method, params Params) (Invoker, error)
}

// OperationConnector is a Connector that answers dynamic operations from
// their document rather than from a method's arguments: obp_mock (the
// document's examples) and dynamic_entity (entity records). A dynamic
// operation routed to one, or whose document names one as its host, is
// answered by the invoker it prepares for that operation. That invoker
// speaks the one contract of every connector, Invoker: it reads the call
// being answered (Request.Call, validated against Request.Operation) and
// answers with Result.Reply, sent as it is, or with data, checked against
// the operation's response schema.
type OperationConnector interface {
	Connector
	// PrepareOperation returns the invoker of op, an operation of doc. An
	// error refuses the document (or the routing) when it is submitted.
	PrepareOperation(doc *specs.Document, op *specs.Operation) (Invoker, error)
}

// InMemory is a Connector that answers from memory, without I/O: obp_mock
// (the document's examples). The metrics count its calls without timing
// them: their time is the engine's own, which each request's latency
// shows, and timing them would add two clock reads to every call.
type InMemory interface {
	Connector
	// AnswersInMemory marks the connector; it does nothing.
	AnswersInMemory()
}

// Operations tells which dynamic operations are served: the endpoint
// manager. Routings and scripts may name only those.
type Operations interface {
	// Serves reports whether a served document has an operation with id.
	Serves(operationID string) bool
}

// ScriptEngine compiles connector method bodies (JavaScript).
type ScriptEngine interface {
	// Compile checks and compiles a method body once, into the invoker of
	// its calls, each limited to timeout (0: the engine's default). A
	// syntax error is an *engine.Error (400) naming the line and column.
	Compile(m *Method, body string, timeout time.Duration) (Invoker, error)
}

// CallRules apply the access rules of the routes that call built-in
// methods to the calls scripts make through connector.call, for the
// principal the script runs for: a script can reach no more than its
// caller could through those routes.
type CallRules interface {
	// Call makes call, a script's call of built-in method req.Method with
	// req.Args, when the principal of req.Call may make it, and returns
	// what that principal may see of the result; otherwise an
	// *engine.Error (401, 403, 404) as the route would answer. read makes
	// the further calls the rules decide on (reading the account whose
	// holder is checked), for the same principal, one level deeper.
	Call(ctx context.Context, req *Request, read Reader, call func() (*Result, error)) (*Result, error)
}

// Reader calls built-in method name with args for the request the rules
// are applied to.
type Reader func(ctx context.Context, name string, args ...any) (*Result, error)

// Caller calls connector methods by name, for scripts (connector.call).
type Caller interface {
	// CallMethod calls method name with positional args on behalf of
	// parent. Calling parent's own method reaches its Default.
	CallMethod(ctx context.Context, parent *Request, name string, args []any) (any, error)
}

// ErrRecursion refuses a call nested deeper than MaxDepth.
var ErrRecursion = engine.Errorf(http.StatusLoopDetected, "connector_recursion",
	"connector methods call each other more than %d levels deep", MaxDepth)

// MaxDepth bounds nested connector.call calls.
const MaxDepth = 8
