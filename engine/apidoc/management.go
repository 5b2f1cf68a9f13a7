package apidoc

import (
	"reflect"
	"strings"
)

// Route is one fixed route of the HTTP edge (the management API, the
// caller's own resources, tokens, health, the record API), as the
// description shows it. The edge's route table is described from a list
// of these, made from the very routes it serves.
type Route struct {
	Method string
	// Template is the route's path with its parameters in braces
	// ("/admin/v1/users/{user_id}").
	Template string
	// Public routes take no credentials; others need one of Roles (none:
	// any authenticated caller), with AtBank at the path's bank.
	Public bool
	Roles  []string
	AtBank bool
	// Summary says what the route does; empty: one is made from the method
	// and path.
	Summary string
	// Body is the Go type the route reads its JSON body into; nil with
	// AnyBody: a JSON object of no fixed shape; nil without: no JSON body.
	Body    reflect.Type
	AnyBody bool
}

// problemName is the component schema of the problem+json answers.
const problemName = "Problem"

// addRoutes adds the edge's fixed routes, each answering its errors as
// problem (the Go type of the problem+json body). A route whose template
// differs from one already described only in its parameters' names is
// described at the path already there (OpenAPI allows one of them).
func (d *doc) addRoutes(routes []Route, problem reflect.Type) {
	if len(routes) == 0 {
		return
	}
	d.components["schemas"][problemName] = answerSchema(problem)
	shapes := map[string]string{}
	for path := range d.paths {
		shapes[shapeOf(path)] = path
	}
	for _, r := range routes {
		path, ok := shapes[shapeOf(r.Template)]
		if !ok {
			path = r.Template
			shapes[shapeOf(path)] = path
		}
		item, _ := d.paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			d.paths[path] = item
		}
		method := strings.ToLower(r.Method)
		if _, taken := item[method]; !taken {
			item[method] = d.routeOperation(r, path)
		}
	}
}

// routeOperation is the OpenAPI operation of route r served at path.
func (d *doc) routeOperation(r Route, path string) map[string]any {
	params := pathParams(path)
	op := map[string]any{
		"operationId": d.operationID(operationName(r.Method, path)),
		"summary":     summaryOf(r),
		"tags":        []any{areaOf(path)},
		"responses":   routeResponses(r, len(params) > 0),
	}
	if len(params) > 0 {
		list := make([]any, len(params))
		for i, p := range params {
			list[i] = map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
		}
		op["parameters"] = list
	}
	if r.Public {
		op["security"] = []any{}
		op["x-dynapi-public"] = true
	} else {
		op["x-dynapi-roles"] = anyList(r.Roles)
		if r.AtBank {
			op["x-dynapi-at-bank"] = true
		}
		op["description"] = accessText(r)
	}
	switch {
	case r.Body != nil:
		op["requestBody"] = jsonBody(requestSchema(r.Body))
	case r.AnyBody:
		op["requestBody"] = jsonBody(map[string]any{"type": "object"})
	}
	return op
}

// jsonBody is a request body of JSON described by schema.
func jsonBody(schema map[string]any) map[string]any {
	return map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

// routeResponses are r's answers: a success, and the problems the
// pipeline's stages answer.
func routeResponses(r Route, hasParams bool) map[string]any {
	problem := func(why string) map[string]any {
		return map[string]any{"description": why, "content": map[string]any{"application/problem+json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/" + problemName}}}}
	}
	out := map[string]any{
		"2XX":     map[string]any{"description": "Done; JSON unless the route says otherwise"},
		"default": problem("Refused or failed"),
	}
	if r.Body != nil || r.AnyBody {
		out["400"] = problem("The body is not acceptable: each fault is a violation")
	}
	if !r.Public {
		out["401"] = problem("No valid credentials")
		out["403"] = problem("The caller lacks the roles the route needs (missing_roles names them)")
	}
	if hasParams {
		out["404"] = problem("What the path names does not exist, or is not the caller's")
	}
	return out
}

// accessText says who may call a route that needs credentials.
func accessText(r Route) string {
	if len(r.Roles) == 0 {
		return "Any authenticated caller."
	}
	s := "Needs one of the roles " + strings.Join(r.Roles, ", ")
	if r.AtBank {
		return s + " at the path's bank (system roles count anywhere)."
	}
	return s + "."
}

// shapeOf is a path template with its parameters' names left out, the
// same for two templates that match the same paths.
func shapeOf(template string) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// pathParams are the names of template's parameters, in order.
func pathParams(template string) []string {
	var out []string
	for _, s := range strings.Split(template, "/") {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			out = append(out, s[1:len(s)-1])
		}
	}
	return out
}

// routePrefixes are left out of a path to find its area: the management
// API's and a bank's.
var routePrefixes = []string{"/admin/v1", "/banks/{bank_id}"}

// areaTags are the tags of the areas not named by their first segment.
var areaTags = map[string]string{
	"": "banks", "my": "self-service", "user": "self-service", "password": "self-service", "oauth2": "oauth2", ".well-known": "oauth2", "logins": "logins",
	"healthz": "health", "readyz": "health", "metrics": "health", "openapi.json": "api description",
	"entities": "entity records", "consumer": "consents", "consent-requests": "consents",
	"consent-authorisations": "consents", "dynamic-endpoints": "endpoints", "dynamic-entities": "entities",
}

// areaOf is the tag of the area a path belongs to: its first segment
// after the management API's, a bank's and the caller's own prefixes.
func areaOf(path string) string {
	rest := path
	for _, p := range routePrefixes {
		rest = strings.TrimPrefix(rest, p)
	}
	segs := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	area := segs[0]
	if area == "my" && len(segs) > 1 {
		area = segs[1]
	}
	if tag, ok := areaTags[area]; ok {
		return tag
	}
	return area
}

// operationName is an operation id made of a route's method and path:
// "getAdminV1UsersByUserId".
func operationName(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			b.WriteString("By")
			seg = strings.Trim(seg, "{}")
		}
		for _, word := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

// verbs name what each method does, for made-up summaries.
var verbs = map[string]string{"GET": "Read", "POST": "Submit to", "PUT": "Replace", "PATCH": "Change", "DELETE": "Delete"}

// summaryOf is r's summary, or one made of its method and path: "Read
// users/{user_id}/entitlements".
func summaryOf(r Route) string {
	if r.Summary != "" {
		return r.Summary
	}
	rest := r.Template
	for _, p := range routePrefixes {
		rest = strings.TrimPrefix(rest, p)
	}
	verb, ok := verbs[r.Method]
	if !ok {
		verb = r.Method
	}
	return verb + " " + strings.TrimPrefix(rest, "/")
}
