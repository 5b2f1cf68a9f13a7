package connector

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/specs"
)

// OperationInvoker returns the invoker of op, an operation of doc: the
// method named by its operation id (see DynamicName), answered by default
// by the connector host names (an alias is accepted) unless a routing or
// a script takes it over. An OperationConnector answers from the
// document; any other connector prepares the method with no parameters,
// and its data is checked against the operation's response schema. The
// untouched path to an OperationConnector costs one atomic load and one
// map lookup.
func (d *Dispatcher) OperationInvoker(host string, doc *specs.Document, op *specs.Operation) (engine.Invoker, error) {
	conn, ok := d.connector(host)
	if !ok {
		return nil, engine.Errorf(http.StatusBadRequest, CodeUnknownConnector,
			"host %q is not a connector; available: %s", host, strings.Join(d.HostNames(), ", "))
	}
	status := http.StatusOK
	var media *specs.ResponseMedia
	for _, r := range op.Responses {
		if r.Status >= 200 && r.Status < 300 {
			status = r.Status
			media = jsonMedia(r)
			break
		}
	}
	o := &operation{d: d, doc: doc, op: op, host: canonical(host), status: status,
		method: &Method{Name: d.DynamicName(op.ID), Dynamic: true, Args: []Arg{{Name: "request"}}},
		schema: sync.OnceValue(func() *specs.Schema { return dataSchema(media) })}
	if oc, ok := conn.(OperationConnector); ok {
		direct, err := oc.PrepareOperation(doc, op)
		if err != nil {
			return nil, err
		}
		direct = d.measured(o.host, o.method.Name, direct)
		o.direct, o.byDefault = direct, direct
		return o, nil
	}
	inv, err := conn.Prepare(o.method, nil)
	if err != nil {
		return nil, err
	}
	inv = d.measured(o.host, o.method.Name, inv)
	o.byDefault = checked{inv: inv, source: "connector " + o.host, connector: o.host}
	return o, nil
}

// jsonMedia is the first JSON media type a response declares, nil when it
// declares none.
func jsonMedia(r *specs.Response) *specs.ResponseMedia {
	for _, m := range r.Media {
		if m.IsJSON() {
			return m
		}
	}
	return nil
}

// dataSchema compiles the schema data answers are checked against: nil
// when the response declares none, or one that does not compile (the
// document loaded with it; its examples went unchecked too).
func dataSchema(media *specs.ResponseMedia) *specs.Schema {
	if media == nil {
		return nil
	}
	s, err := media.CompileSchema()
	if err != nil {
		return nil
	}
	return s
}

// DynamicPrefix names a dynamic operation's method when its operation id
// is also the name of a built-in method ("dynamic:getAccount").
const DynamicPrefix = "dynamic:"

// DynamicName is the method name of the dynamic operations with
// operation id id: the id itself, or DynamicPrefix + id when a built-in
// method has that name, so routings and scripts can tell the two apart.
func (d *Dispatcher) DynamicName(id string) string {
	if _, ok := d.builtins[id]; ok {
		return DynamicPrefix + id
	}
	return id
}

// operation is the invoker of one served dynamic operation.
type operation struct {
	d    *Dispatcher
	doc  *specs.Document
	op   *specs.Operation
	host string // the connector answering by default
	// direct is the invoker the host prepared for the operation when the
	// host is an OperationConnector (a routing naming the host reuses it);
	// nil otherwise.
	direct Invoker
	// byDefault answers the operation when no routing or script takes it
	// over, and is the Default of a routed or scripted call.
	byDefault Invoker
	// prepared holds the invokers of OperationConnectors other than the
	// host that routings send the operation to, by name, each prepared at
	// its first call.
	prepared sync.Map
	method   *Method
	status   int // of data answers: the first 2xx the operation declares
	// schema is the JSON schema of that response, compiled at the first
	// data answer (most operations never get one); nil when there is none.
	schema func() *specs.Schema
}

// requests are the Requests of operation calls, reused: an Invoker keeps
// none after it returns.
var requests = sync.Pool{New: func() any { return new(Request) }}

// Invoke answers call through the connector a routing or script sends
// the operation's method to, else through its host.
func (o *operation) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	inv := o.d.table.Load().pick(o.method.Name, call.BankID)
	if inv == nil {
		inv = o.byDefault
	}
	req := requests.Get().(*Request)
	*req = Request{Method: o.method, BankID: call.BankID, Call: call, Operation: o.op, Default: o.byDefault, operation: o}
	if readsArgs(inv) {
		req.Args = []any{RequestArg(call, o.op)}
	}
	traced, span := traceCall(ctx, inv, o.method.Name, o.host)
	res, err := inv.Invoke(traced, req)
	tracing.End(span, err)
	*req = Request{}
	requests.Put(req)
	if err != nil {
		return nil, err
	}
	if res.Reply != nil {
		return res.Reply, nil
	}
	if err := o.check(res); err != nil {
		return nil, err
	}
	body := res.JSON
	if body == nil {
		if body, err = json.Marshal(res.Data); err != nil {
			return nil, engine.Internal(err)
		}
	}
	return &engine.Reply{Status: o.status, ContentType: "application/json", Body: body}, nil
}

// check refuses data that does not fit the operation's response schema.
func (o *operation) check(res *Result) error {
	schema := o.schema()
	if schema == nil {
		return nil
	}
	// Where the schema asks only for a kind of value, the first byte of
	// well-formed text is the whole check.
	if res.WellFormed && schema.FitsByKind(res.JSON) {
		return nil
	}
	return checkData(res, schema, "operation "+o.op.ID+" was answered",
		"does not fit its "+strconv.Itoa(o.status)+" response's schema")
}

// checkData checks a result's data against schema: nil when it fits, else
// a 502 saying who answered and how the data is wrong, with a violation
// for each place it breaks the schema (an internal error when the schema
// library failed).
func checkData(res *Result, schema interface{ Validate(any) error }, who, unfit string) error {
	data, err := checkedValue(res)
	if err != nil {
		return engine.NewError(http.StatusBadGateway, engine.CodeInvalidResult,
			who+" with data that is not JSON the engine accepts",
			jsonschemas.Violations(err, "data", "", jsonschemas.Words{})...)
	}
	verr := schema.Validate(data)
	var pe *jsonschemas.PanicError
	switch {
	case verr == nil:
		return nil
	case errors.As(verr, &pe):
		return engine.Internal(verr)
	}
	return engine.NewError(http.StatusBadGateway, engine.CodeInvalidResult, who+" with data that "+unfit,
		jsonschemas.Violations(verr, "data", "", jsonschemas.Words{})...)
}

// via returns the operation's invoker through OperationConnector conn,
// registered as name: the host's own when name is the host, else one
// prepared at the first call and kept with the operation (so it goes when
// the document does).
func (o *operation) via(name string, conn OperationConnector) (Invoker, error) {
	if name == o.host && o.direct != nil {
		return o.direct, nil
	}
	if inv, ok := o.prepared.Load(name); ok {
		return inv.(Invoker), nil
	}
	inv, err := conn.PrepareOperation(o.doc, o.op)
	if err != nil {
		return nil, err
	}
	kept, _ := o.prepared.LoadOrStore(name, o.d.measured(name, o.method.Name, inv))
	return kept.(Invoker), nil
}

// operationVia answers a dynamic operation through the OperationConnector
// a routing names.
type operationVia struct {
	name string
	conn OperationConnector
}

// ReadsArgs implements ArgsReader: the connector reads the call, not Args.
func (operationVia) ReadsArgs() bool { return false }

func (v operationVia) Invoke(ctx context.Context, req *Request) (*Result, error) {
	if req.operation == nil {
		return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented,
			"connector %s answers method %s only when its operation is called", v.name, req.Method.Name)
	}
	inv, err := req.operation.via(v.name, v.conn)
	if err != nil {
		return nil, err
	}
	return inv.Invoke(ctx, req)
}

// RequestArg is the one argument of a dynamic operation's method: the
// validated request as {"path": {...}, "query": {...}, "headers": {...},
// "body": ...}. Query values are strings, or lists when repeated; headers
// are those the operation declares.
func RequestArg(call *engine.Call, op *specs.Operation) map[string]any {
	path := map[string]any{}
	query := map[string]any{}
	headers := map[string]any{}
	var raw url.Values
	if call.HTTP != nil {
		raw, _ = url.ParseQuery(call.HTTP.RawQuery())
	}
	for _, p := range op.Params {
		switch p.In {
		case "path":
			if call.Path != nil && p.PathIndex < call.Path.Len() {
				path[p.Name] = call.Path.Value(p.PathIndex)
			}
		case "header":
			if call.HTTP != nil {
				if v, ok := call.HTTP.Header(p.Name); ok {
					headers[strings.ToLower(p.Name)] = v
				}
			}
		}
	}
	for name, vs := range raw {
		if len(vs) == 1 {
			query[name] = vs[0]
		} else {
			query[name] = vs
		}
	}
	return map[string]any{"path": path, "query": query, "headers": headers, "body": call.Body}
}
