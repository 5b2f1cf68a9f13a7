package admin

import (
	"reflect"

	"github.com/dynapi/dynapi/engine/apidoc"
	"github.com/dynapi/dynapi/http/server"
)

// problemType is the body of every problem+json answer, as /openapi.json
// describes it.
var problemType = reflect.TypeFor[server.Problem]()

// describedRoutes are the edge's fixed routes as /openapi.json describes
// them, made from the table that serves them, only when the description
// is built. Pages for browsers are not described.
func (a *API) describedRoutes() []apidoc.Route {
	if a.Served == nil {
		return nil
	}
	served := a.Served()
	out := make([]apidoc.Route, 0, len(served))
	for _, r := range served {
		if r.Doc.Page {
			continue
		}
		out = append(out, apidoc.Route{Method: r.Method, Template: r.Template(), Public: r.Public, Roles: r.Roles, AtBank: r.AtBank,
			Summary: r.Doc.Summary, Body: r.Doc.Body, AnyBody: r.Decode != nil && r.Doc.Body == nil})
	}
	return out
}
