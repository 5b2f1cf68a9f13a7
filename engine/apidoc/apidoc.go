// Package apidoc builds the engine's own OpenAPI 3.1 description: the
// built-in documents (the banking core), the edge's fixed routes (the
// management API, described from the route table that serves it), the document
// each dynamic entity's record API is generated as, and every live dynamic
// endpoint's own document, each operation at the path it is served at, with
// its parameters, body and responses as the document declares them and the
// components it refers to, renamed where two documents use one name.
package apidoc

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpoints"
)

// Sources are what the description is built from.
type Sources struct {
	// Builtin describe the built-in documents, such as banking.OpenAPI. Their
	// operation ids and schema names are kept as they are: an entity's or
	// dynamic endpoint's that would clash is changed instead.
	Builtin []Describer
	// Routes are the fixed routes of the HTTP edge (the management API,
	// tokens, health, ...), called only when the description is built;
	// their problem+json answers are described from the Go type Problem.
	// Nil: none.
	Routes  func() []Route
	Problem reflect.Type
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
	paths      map[string]any
	components map[string]map[string]any // section (schemas, ...) -> name -> value
	ids        map[string]bool           // operation ids in use
}

// Build returns the OpenAPI 3.1 document as generic JSON values.
func Build(src Sources) map[string]any {
	d := &doc{paths: map[string]any{}, components: map[string]map[string]any{"schemas": {}}, ids: map[string]bool{}}
	for _, describe := range src.Builtin {
		d.addBuiltin(describe())
	}
	if src.Routes != nil {
		d.addRoutes(src.Routes(), src.Problem)
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
			"description": "The built-in banking core, the management API and the engine's other fixed routes, every dynamic entity's record API and every live dynamic endpoint, as served now."},
		"paths":      d.paths,
		"components": d.componentsOut(),
		"security":   []any{map[string]any{"directLogin": []any{}}, map[string]any{"bearer": []any{}}},
	}
}

// addBuiltin adds described paths and schemas as they are, reserving their
// operation ids.
func (d *doc) addBuiltin(paths, schemas map[string]any) {
	maps.Copy(d.components["schemas"], schemas)
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
