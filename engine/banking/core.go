package banking

import (
	_ "embed"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/specs"
)

// coreSource is the banking core as an OpenAPI 3.1 document: every route,
// its parameters, bodies, answers, roles, connector method (x-dynapi-method)
// and holder rule (x-dynapi-holder). It is served by the same router, guard
// and validator as a submitted document, and /openapi.json shows it as it
// is, so what is described is what is served.
//
//go:embed core.json
var coreSource []byte

// loadCore loads coreSource once.
var loadCore = sync.OnceValues(func() (*specs.Document, error) {
	return specs.Load(coreSource, "application/json", specs.Options{SchemaBase: "https://dynapi.invalid/banking/"})
})

// Document returns the banking core's document. It is built into the
// binary, so failing to load it is a bug of the build: it panics.
func Document() *specs.Document {
	doc, err := loadCore()
	if err != nil {
		panic("banking: the core document does not load: " + err.Error())
	}
	return doc
}

// route is what the core document says of one operation beyond what specs
// compiles: the connector method answering it and who reaches which
// accounts through it.
type route struct {
	op *specs.Operation
	// method is the connector method (x-dynapi-method).
	method string
	// listKey is the member of the answer holding the method's list, as in
	// {"accounts": [...]} (x-dynapi-list); "" when the method's data is the
	// answer.
	listKey string
	// status is the status of a successful answer: the first 2xx the
	// document lists.
	status int
	// rule is who may call the route at all (x-dynapi-public,
	// x-dynapi-roles).
	rule guard.Rule
	// holder routes work on the accounts the caller holds (x-dynapi-holder):
	// the account in the path, which the caller must hold, or a list, which
	// shows only the caller's accounts, unless the caller passes others.
	holder bool
	// others are the holder rule's orRoles as a rule; nil when there are
	// none.
	others *guard.Rule
	// bankParam and accountParam are the positions (from 1) of the path's
	// bank_id and account_id; 0 when the path has none.
	bankParam, accountParam int
}

// routes returns the core document's routes, in document order.
var routes = sync.OnceValue(func() []*route {
	doc := Document()
	out := make([]*route, len(doc.Operations))
	for i, op := range doc.Operations {
		rt, err := newRoute(doc, op)
		if err != nil {
			panic("banking: the core document: " + err.Error())
		}
		out[i] = rt
	}
	return out
})

// newRoute reads op's vendor extensions.
func newRoute(doc *specs.Document, op *specs.Operation) (*route, error) {
	node, _ := doc.Resolve("#" + op.Pointer)
	raw, _ := node.(map[string]any)
	rt := &route{op: op, rule: guard.Rule{Public: op.Access.Public, Roles: op.Access.Roles,
		// Callers under a consent read; they never open accounts or pay.
		Delegated: op.Method == http.MethodGet}}
	rt.method, _ = raw["x-dynapi-method"].(string)
	if rt.method == "" {
		return nil, fmt.Errorf("%s names no x-dynapi-method", op.ID)
	}
	rt.listKey, _ = raw["x-dynapi-list"].(string)
	if h, ok := raw["x-dynapi-holder"].(map[string]any); ok {
		rt.holder = true
		if roles, _ := h["orRoles"].([]any); len(roles) > 0 {
			rt.others = &guard.Rule{}
			for _, r := range roles {
				name, _ := r.(string)
				rt.others.Roles = append(rt.others.Roles, name)
			}
		}
	}
	for _, r := range op.Responses {
		if code, err := strconv.Atoi(r.Code); err == nil && code >= 200 && code < 300 {
			rt.status = code
			break
		}
	}
	if rt.status == 0 {
		return nil, fmt.Errorf("%s has no successful answer", op.ID)
	}
	for i, name := range pathParams(op.Path) {
		switch name {
		case "bank_id":
			rt.bankParam = i + 1
		case "account_id":
			rt.accountParam = i + 1
		}
	}
	return rt, nil
}

// pathParams are the parameter names of a path template, in order.
func pathParams(template string) []string {
	var names []string
	for _, seg := range strings.Split(template, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, seg[1:len(seg)-1])
		}
	}
	return names
}

// OpenAPI describes the banking core for /openapi.json: the core
// document's path items by path template and its component schemas, as
// served. Each call returns fresh top-level maps the caller may change;
// the values inside are shared and must not be changed.
func OpenAPI() (paths, schemas map[string]any) {
	doc := Document()
	p, _ := doc.Resolve("#/paths")
	s, _ := doc.Resolve("#/components/schemas")
	paths, schemas = map[string]any{}, map[string]any{}
	for path, item := range p.(map[string]any) {
		paths[path] = maps.Clone(item.(map[string]any))
	}
	maps.Copy(schemas, s.(map[string]any))
	return paths, schemas
}

// component is the core document's component schema name, with every
// reference inside it inlined, for message docs.
func component(name string) map[string]any {
	doc := Document()
	s, ok := doc.Resolve("#/components/schemas/" + name)
	if !ok {
		panic("banking: the core document has no schema " + name)
	}
	return doc.Inline(s).(map[string]any)
}
