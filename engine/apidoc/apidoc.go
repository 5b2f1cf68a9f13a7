// Package apidoc builds the engine's own OpenAPI 3.1 description: the
// built-in documents (the banking core) as they are served, the generated
// record API of every dynamic entity (with its schema and roles) and every
// live dynamic endpoint operation, as served right now.
package apidoc

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/specs"
)

// Sources are what the description is built from.
type Sources struct {
	// Builtin describe the built-in documents, such as banking.OpenAPI. Their
	// operation ids and schema names are kept as they are: an entity's or
	// dynamic endpoint's that would clash is changed instead.
	Builtin []Describer
	// Entities and Endpoints add nothing when nil.
	Entities  *dynentity.Registry
	Endpoints *endpoints.Manager
	Version   string
}

// Describer describes built-in routes: OpenAPI 3.1 path items by path
// template, and the component schemas they refer to as
// #/components/schemas/{name}. Each call returns values Build may keep and
// change.
type Describer func() (paths, schemas map[string]any)

// doc is a document being built.
type doc struct {
	paths, schemas map[string]any
	ids            map[string]bool // operation ids in use
}

// Build returns the OpenAPI 3.1 document as generic JSON values.
func Build(src Sources) map[string]any {
	d := &doc{paths: map[string]any{}, schemas: map[string]any{}, ids: map[string]bool{}}
	for _, describe := range src.Builtin {
		d.addBuiltin(describe())
	}
	var ents []*dynentity.Entity
	if src.Entities != nil {
		ents = src.Entities.All()
	}
	slices.SortFunc(ents, func(a, b *dynentity.Entity) int {
		return strings.Compare(a.BankID+"/"+a.Def.Name, b.BankID+"/"+b.Def.Name)
	})
	for _, e := range ents {
		d.addEntity(e)
	}
	var eps []*endpoints.Endpoint
	if src.Endpoints != nil {
		eps = src.Endpoints.All()
	}
	slices.SortFunc(eps, func(a, b *endpoints.Endpoint) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, ep := range eps {
		d.addEndpoint(ep)
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "dynapi", "version": src.Version,
			"description": "The built-in banking core, every dynamic entity's record API and every live dynamic endpoint, as served now."},
		"paths":      d.paths,
		"components": map[string]any{"schemas": d.schemas, "securitySchemes": securitySchemes},
		"security":   []any{map[string]any{"directLogin": []any{}}, map[string]any{"bearer": []any{}}},
	}
}

// addBuiltin adds described paths and schemas as they are, reserving their
// operation ids.
func (d *doc) addBuiltin(paths, schemas map[string]any) {
	maps.Copy(d.schemas, schemas)
	for path, v := range paths {
		item, _ := v.(map[string]any)
		into, _ := d.paths[path].(map[string]any)
		if into == nil {
			into = map[string]any{}
			d.paths[path] = into
		}
		for method, op := range item {
			into[method] = op
			if o, ok := op.(map[string]any); ok {
				if id, _ := o["operationId"].(string); id != "" {
					d.ids[id] = true
				}
			}
		}
	}
}

// operationID returns id, or id_2, id_3, ... when id is in use already,
// and marks the result as in use. An empty id stays empty.
func (d *doc) operationID(id string) string {
	if id == "" {
		return id
	}
	out := id
	for n := 2; d.ids[out]; n++ {
		out = id + "_" + strconv.Itoa(n)
	}
	d.ids[out] = true
	return out
}

var securitySchemes = map[string]any{
	"directLogin": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization",
		"description": `DirectLogin token="..." from POST /my/logins/direct`},
	"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}

// schemaName names an entity's schema component, unique across banks and
// apart from the built-in schemas: a system-level entity named like one
// (Account) is DynamicEntity_Account.
func (d *doc) schemaName(e *dynentity.Entity) string {
	if e.BankID == "" {
		if _, taken := d.schemas[e.Def.Name]; taken {
			return "DynamicEntity_" + e.Def.Name
		}
		return e.Def.Name
	}
	return strings.NewReplacer(".", "_", "-", "_").Replace(e.BankID) + "_" + e.Def.Name
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// addEntity describes the record API of one entity.
func (d *doc) addEntity(e *dynentity.Entity) {
	name := d.schemaName(e)
	d.schemas[name] = e.Def.JSONSchema()
	single := map[string]any{"type": "object", "properties": map[string]any{e.Def.SingleKey(): ref(name)}}
	list := map[string]any{"type": "object", "properties": map[string]any{
		e.Def.ListKey(): map[string]any{"type": "array", "items": ref(name)},
		"next_cursor":   map[string]any{"type": "string"},
		"total":         map[string]any{"type": "integer"},
	}}
	create, get, update, del := dynentity.RoleNames(e)
	base := "/entities/" + e.Def.Name
	if e.BankID != "" {
		base = "/banks/" + e.BankID + base
	}
	tag := []any{"Dynamic entity " + e.Def.Name}
	op := func(id, summary, role string, status string, body, resp map[string]any, params ...any) map[string]any {
		o := map[string]any{"operationId": d.operationID(id), "summary": summary, "tags": tag,
			"x-dynapi-roles": []any{role}, "responses": map[string]any{status: response(resp)}}
		if body != nil {
			o["requestBody"] = map[string]any{"required": true, "content": jsonContent(body)}
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return o
	}
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
	prefix := strings.NewReplacer(".", "_", "-", "_").Replace(e.BankID)
	if prefix != "" {
		prefix += "_"
	}
	d.paths[base] = map[string]any{
		"get":  op(prefix+"list"+e.Def.Name, "List "+e.Def.Name+" records", get, "200", nil, list, listParams()...),
		"post": op(prefix+"create"+e.Def.Name, "Create a "+e.Def.Name, create, "201", ref(name), single),
	}
	d.paths[base+"/{id}"] = map[string]any{
		"get":    op(prefix+"get"+e.Def.Name, "One "+e.Def.Name, get, "200", nil, single, idParam),
		"put":    op(prefix+"replace"+e.Def.Name, "Replace a "+e.Def.Name, update, "200", ref(name), single, idParam),
		"patch":  op(prefix+"patch"+e.Def.Name, "Merge changes into a "+e.Def.Name+" (RFC 7386)", update, "200", map[string]any{"type": "object"}, single, idParam),
		"delete": op(prefix+"delete"+e.Def.Name, "Delete a "+e.Def.Name, del, "204", nil, nil, idParam),
	}
}

func listParams() []any {
	p := func(name, typ, desc string) any {
		return map[string]any{"name": name, "in": "query", "description": desc, "schema": map[string]any{"type": typ}}
	}
	return []any{
		p("limit", "integer", "page size, 1 to 1000 (default 50)"),
		p("cursor", "string", "next_cursor of the previous page"),
		p("sort_by", "string", "a scalar field"),
		p("sort_direction", "string", "asc or desc"),
		p("count", "boolean", "fill total"),
	}
}

func response(schema map[string]any) map[string]any {
	r := map[string]any{"description": "OK"}
	if schema != nil {
		r["content"] = jsonContent(schema)
	}
	return r
}

func jsonContent(schema map[string]any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// addEndpoint describes the live operations of one dynamic endpoint; the
// full document is at /admin/v1/dynamic-endpoints/{id}/document.
func (d *doc) addEndpoint(ep *endpoints.Endpoint) {
	for _, op := range ep.Doc.Operations {
		path := ep.ServedPath(op)
		item, _ := d.paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			d.paths[path] = item
		}
		o := map[string]any{"operationId": d.operationID(op.ID), "summary": op.Summary, "tags": []any{ep.Doc.Title},
			"x-dynapi-dynamic-endpoint-id": ep.ID, "responses": responses(op.Responses)}
		switch {
		case op.Access.Public:
			o["security"] = []any{}
		case op.Access.RolesDeclared:
			o["x-dynapi-roles"] = anyList(op.Access.Roles)
		default:
			o["x-dynapi-roles"] = []any{ep.RoleOf(op)}
		}
		item[strings.ToLower(op.Method)] = o
	}
}

func responses(rs []*specs.Response) map[string]any {
	out := map[string]any{}
	for _, r := range rs {
		desc, _ := r.Node()["description"].(string)
		if desc == "" {
			desc = r.Code
		}
		out[r.Code] = map[string]any{"description": desc}
	}
	if len(out) == 0 {
		out["default"] = map[string]any{"description": "as the document says"}
	}
	return out
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
