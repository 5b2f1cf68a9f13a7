package mapping

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/specs"
)

// Connector answers operations of dynamic_entity documents.
type Connector struct {
	Mappings *Store
	Entities *dynentity.Registry
	Records  *records.Store
}

// Prepare returns the invoker of one operation. The mapping is looked up at
// call time, so it may be made after the document.
func (c *Connector) Prepare(_ *specs.Document, op *specs.Operation) (engine.Invoker, error) {
	return &invoker{c: c, op: op, hasKey: pathParams(op) > 0}, nil
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

// Invoke reads or writes the mapped entity's records.
func (inv *invoker) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
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
		rec := fill(m.Request, call.Body, nil)
		if err := validate(e, rec); err != nil {
			return nil, err
		}
		rec, err := inv.c.Records.Create(ctx, e.Schema, "", rec)
		if err != nil {
			return nil, err
		}
		return reply(http.StatusCreated, shape(m.Response, rec))
	case http.MethodPut:
		cur, err := inv.find(ctx, e, queryField, key)
		if err != nil {
			return nil, err
		}
		id, _ := cur[e.Def.PrimaryKey()].(string)
		rec := fill(m.Request, call.Body, cur)
		if err := validate(e, rec); err != nil {
			return nil, err
		}
		rec, err = inv.c.Records.Replace(ctx, e.Schema, "", id, rec)
		if err != nil {
			return nil, err
		}
		return reply(http.StatusOK, shape(m.Response, rec))
	case http.MethodDelete:
		cur, err := inv.find(ctx, e, queryField, key)
		if err != nil {
			return nil, err
		}
		id, _ := cur[e.Def.PrimaryKey()].(string)
		if err := inv.c.Records.Delete(ctx, e.Schema, "", id, false); err != nil {
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
		return inv.c.Records.Get(ctx, e.Schema, "", key)
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

// list answers every record (first page of 1000) through the mapping.
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

// fill builds a record from a request body over base (nil for a new one).
func fill(leaves map[string]Leaf, body any, base map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	obj, _ := body.(map[string]any)
	for name, l := range leaves {
		if v, ok := obj[name]; ok {
			out[l.Field] = v
		}
	}
	return out
}

// validate checks a mapped record against its entity's definition.
func validate(e *dynentity.Entity, rec map[string]any) error {
	if v := e.Def.Validate(rec); len(v) > 0 {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the mapped record does not match the definition of "+e.Def.Name, v...)
	}
	return nil
}

func reply(status int, v any) (*engine.Reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json", Body: b}, nil
}
