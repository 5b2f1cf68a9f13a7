package endpointmap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/specs"
)

// Connector is the dynamic_entity connector: it answers dynamic operations
// (of documents whose host it is, or routed to it) from entity records
// through their endpoint mappings. It reads records from Records and
// writes them through Writer, which validates them and charges new ones to
// the caller, as the record API does. Register it under Host.
type Connector struct {
	Mappings *Store
	Entities *dynentity.Registry
	Records  *records.Store
	Writer   *dynentity.Writer
}

var _ connector.OperationConnector = (*Connector)(nil)

// PrepareOperation returns the invoker of one operation. The mapping is
// looked up at call time, so it may be made after the document.
func (c *Connector) PrepareOperation(_ *specs.Document, op *specs.Operation) (connector.Invoker, error) {
	return &invoker{c: c, op: op, hasKey: pathParams(op) > 0}, nil
}

// Prepare refuses built-in methods: endpoint mappings map the operations
// of documents only.
func (c *Connector) Prepare(m *connector.Method, _ connector.Params) (connector.Invoker, error) {
	msg := fmt.Sprintf("connector %s answers the operations of dynamic endpoint documents, not built-in method %s", Host, m.Name)
	return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, msg,
		engine.Violation{Location: "body", Pointer: "/connector_name", Code: "unsupported", Message: msg})
}

func pathParams(op *specs.Operation) int {
	n := 0
	for _, p := range op.Params {
		if p.In == "path" {
			n++
		}
	}
	return n
}

type invoker struct {
	c      *Connector
	op     *specs.Operation
	hasKey bool // the last path parameter selects a record
}

// ReadsArgs implements connector.ArgsReader: the mapping reads the call,
// not the method's arguments.
func (*invoker) ReadsArgs() bool { return false }

// Invoke answers req's call from the mapped entity's records.
func (inv *invoker) Invoke(ctx context.Context, req *connector.Request) (*connector.Result, error) {
	reply, err := inv.answer(ctx, req.Call)
	if err != nil {
		return nil, err
	}
	return &connector.Result{Reply: reply}, nil
}

// answer reads or writes the mapped entity's records.
func (inv *invoker) answer(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	m, ok := inv.c.Mappings.Lookup(call.BankID, inv.op.ID)
	if !ok {
		return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented,
			"operation %s has no endpoint mapping: POST one to /admin/v1/endpoint-mappings", inv.op.ID)
	}
	entityName, queryField := target(m)
	e, ok := inv.c.Entities.Lookup(call.BankID, entityName)
	if !ok {
		if e, ok = inv.c.Entities.Lookup("", entityName); !ok {
			return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented,
				"the mapping of %s names entity %q, which does not exist", inv.op.ID, entityName)
		}
	}
	key := ""
	if inv.hasKey && call.Path != nil && call.Path.Len() > 0 {
		key = call.Path.Value(call.Path.Len() - 1)
	}
	switch inv.op.Method {
	case http.MethodGet:
		if !inv.hasKey {
			return inv.list(ctx, e, m)
		}
		rec, err := inv.find(ctx, e, queryField, key)
		if err != nil {
			return nil, err
		}
		return reply(http.StatusOK, shape(m.Response, rec))
	case http.MethodPost:
		st, err := inv.c.Writer.Create(ctx, e, "", caller(call), fill(m.Request, call.Body))
		if err != nil {
			return nil, err
		}
		return reply(http.StatusCreated, shape(m.Response, st.Record))
	case http.MethodPut:
		cur, err := inv.find(ctx, e, queryField, key)
		if err != nil {
			return nil, err
		}
		id, _ := cur[e.Def.PrimaryKey()].(string)
		st, err := inv.c.Writer.Update(ctx, e, "", id, nil, fill(m.Request, call.Body), overlay)
		if err != nil {
			return nil, err
		}
		return reply(http.StatusOK, shape(m.Response, st.Record))
	case http.MethodDelete:
		cur, err := inv.find(ctx, e, queryField, key)
		if err != nil {
			return nil, err
		}
		id, _ := cur[e.Def.PrimaryKey()].(string)
		if err := inv.c.Records.Delete(ctx, e.Schema, "", id, false, nil); err != nil {
			return nil, err
		}
		return &engine.Reply{Status: http.StatusNoContent}, nil
	}
	return nil, engine.Errorf(http.StatusMethodNotAllowed, engine.CodeMethodNotAllowed, "%s is not mapped to entities", inv.op.Method)
}

// target is the entity the mapping works on and the field its path
// parameter selects by (the primary key when no leaf names one).
func target(m *Mapping) (entity, query string) {
	for _, leaves := range []map[string]Leaf{m.Response, m.Request} {
		for _, l := range leaves {
			if entity == "" {
				entity = l.Entity
			}
			if l.Query != "" && l.Entity == entity {
				query = l.Query
			}
		}
	}
	return entity, query
}

// find returns the record whose query field (else primary key) equals key,
// or a 404.
func (inv *invoker) find(ctx context.Context, e *dynentity.Entity, field, key string) (map[string]any, error) {
	if field == "" || field == e.Def.PrimaryKey() {
		st, err := inv.c.Records.Get(ctx, e.Schema, "", key)
		if err != nil {
			return nil, err
		}
		return st.Record, nil
	}
	page, err := inv.c.Records.List(ctx, e.Schema, "", records.Query{Limit: 1,
		Filters: []records.Filter{{Field: field, Op: records.Eq, Values: []string{key}}}})
	if err != nil {
		return nil, err
	}
	if len(page.Records) == 0 {
		return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no %s with %s %q", e.Def.Name, field, key)
	}
	return page.Records[0], nil
}

// list answers the first page of records (up to 1000, within the record
// store's page bytes) through the mapping.
func (inv *invoker) list(ctx context.Context, e *dynentity.Entity, m *Mapping) (*engine.Reply, error) {
	page, err := inv.c.Records.List(ctx, e.Schema, "", records.Query{Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page.Records))
	for i, rec := range page.Records {
		out[i] = shape(m.Response, rec)
	}
	return reply(http.StatusOK, out)
}

// shape builds a response object from a record.
func shape(leaves map[string]Leaf, rec map[string]any) map[string]any {
	out := make(map[string]any, len(leaves))
	for name, l := range leaves {
		if v, ok := rec[l.Field]; ok {
			out[name] = v
		}
	}
	return out
}

// fill builds the record fields a request body maps to.
func fill(leaves map[string]Leaf, body any) map[string]any {
	out := map[string]any{}
	obj, _ := body.(map[string]any)
	for name, l := range leaves {
		if v, ok := obj[name]; ok {
			out[l.Field] = v
		}
	}
	return out
}

// overlay sets the mapped fields over a stored record.
func overlay(stored, fields map[string]any) map[string]any {
	out := make(map[string]any, len(stored)+len(fields))
	for k, v := range stored {
		out[k] = v
	}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

// caller is the user new records are charged to: the principal's, "" for
// public operations.
func caller(call *engine.Call) string {
	if call.Principal == nil {
		return ""
	}
	return call.Principal.UserID
}

func reply(status int, v any) (*engine.Reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json", Body: b}, nil
}
