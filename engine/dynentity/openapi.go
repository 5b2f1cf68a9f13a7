package dynentity

import (
	"strings"
)

// OpenAPI returns the OpenAPI 3.1 document of the entity's record API as it
// is served: its paths (under /banks/{bank} for a bank-level entity), the
// roles each operation needs (x-dynapi-roles) and, as the component schema
// every body and answer refers to, the JSON Schema its definition generates
// and the record API validates with. Each call returns a new document the
// caller may change.
func (e *Entity) OpenAPI() map[string]any {
	name := e.Def.Name
	prefix := ""
	if e.BankID != "" {
		prefix = strings.NewReplacer(".", "_", "-", "_").Replace(e.BankID) + "_"
		name = prefix + e.Def.Name
	}
	ref := map[string]any{"$ref": "#/components/schemas/" + name}
	single := map[string]any{"type": "object", "properties": map[string]any{e.Def.SingleKey(): ref}}
	list := map[string]any{"type": "object", "properties": map[string]any{
		e.Def.ListKey(): map[string]any{"type": "array", "items": ref},
		"next_cursor":   map[string]any{"type": "string"},
		"total":         map[string]any{"type": "integer"},
	}}
	create, get, update, del := RoleNames(e)
	base := "/entities/" + e.Def.Name
	if e.BankID != "" {
		base = "/banks/" + e.BankID + base
	}
	op := func(id, summary, role, status string, body, answer map[string]any, params ...any) map[string]any {
		o := map[string]any{"operationId": prefix + id + e.Def.Name, "summary": summary,
			"x-dynapi-roles": []any{role}, "responses": map[string]any{status: response(answer)}}
		if body != nil {
			o["requestBody"] = map[string]any{"required": true, "content": jsonContent(body)}
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return o
	}
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Dynamic entity " + e.Def.Name, "version": "1"},
		"paths": map[string]any{
			base: map[string]any{
				"get":  op("list", "List "+e.Def.Name+" records", get, "200", nil, list, listParams()...),
				"post": op("create", "Create a "+e.Def.Name, create, "201", ref, single),
			},
			base + "/{id}": map[string]any{
				"get":    op("get", "One "+e.Def.Name, get, "200", nil, single, idParam),
				"put":    op("replace", "Replace a "+e.Def.Name, update, "200", ref, single, idParam),
				"patch":  op("patch", "Merge changes into a "+e.Def.Name+" (RFC 7386)", update, "200", map[string]any{"type": "object"}, single, idParam),
				"delete": op("delete", "Delete a "+e.Def.Name, del, "204", nil, nil, idParam),
			},
		},
		"components": map[string]any{"schemas": map[string]any{name: e.Def.JSONSchema()}},
	}
}

// listParams are the query parameters of a record list.
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
