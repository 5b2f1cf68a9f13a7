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
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/specs"
)

// Operation returns the invoker of a dynamic endpoint operation: the
// method named by its operation id (see DynamicName), answered by its document's host unless
// a routing or a script takes it over. The untouched path costs one atomic
// load and one map lookup.
func (d *Dispatcher) Operation(op *specs.Operation, host engine.Invoker) engine.Invoker {
	status := http.StatusOK
	var media *specs.ResponseMedia
	for _, r := range op.Responses {
		if r.Status >= 200 && r.Status < 300 {
			status = r.Status
			media = jsonMedia(r)
			break
		}
	}
	name := d.DynamicName(op.ID)
	return &operation{d: d, op: op, host: host, status: status,
		method: &Method{Name: name, Dynamic: true, Args: []Arg{{Name: "request"}}},
		schema: sync.OnceValue(func() *specs.Schema { return dataSchema(media) })}
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

type operation struct {
	d      *Dispatcher
	op     *specs.Operation
	host   engine.Invoker
	method *Method
	status int // of data answers: the first 2xx the operation declares
	// schema is the JSON schema of that response, compiled at the first
	// data answer (most operations never get one); nil when there is none.
	schema func() *specs.Schema
}

func (o *operation) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	inv := o.d.table.Load().pick(o.method.Name, call.BankID)
	if inv == nil {
		return o.host.Invoke(ctx, call)
	}
	req := &Request{Method: o.method, BankID: call.BankID, Call: call, Operation: o.op, Default: hostInvoker{o.host}}
	if readsArgs(inv) {
		req.Args = []any{RequestArg(call, o.op)}
	}
	res, err := inv.Invoke(ctx, req)
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

// hostInvoker answers a dynamic operation through its document's host.
type hostInvoker struct{ inv engine.Invoker }

// ReadsArgs implements ArgsReader: the host reads the call, not Args.
func (hostInvoker) ReadsArgs() bool { return false }

func (h hostInvoker) Invoke(ctx context.Context, req *Request) (*Result, error) {
	reply, err := h.inv.Invoke(ctx, req.Call)
	if err != nil {
		return nil, err
	}
	return &Result{Reply: reply}, nil
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
