package endpoints

import (
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/router"
	"github.com/dynapi/dynapi/specs"
)

// Builtin is a document the engine serves itself (the banking core): its
// operations are routed, guarded and validated as a submitted document's
// are, from every snapshot, but it is never stored, listed or deleted, and
// Operation does not find it (its operations are not dynamic operations).
type Builtin struct {
	// Name says what the document is in route conflicts ("banking core").
	Name string
	Doc  *specs.Document
	// Routes answer Doc.Operations, one each and in the same order, with
	// their Invoker, Rule, Hooks and BankParam set; the manager sets
	// Endpoint and Operation.
	Routes []*Route
}

// builtinOwner is the route table owner of a built-in document.
func builtinOwner(b *Builtin) string { return "builtin:" + b.Name }

// BankID is the bank a call to the route is for: the path value BankParam
// names, else the endpoint's bank.
func (r *Route) BankID(path engine.PathValues) string {
	if r.BankParam > 0 {
		return path.Value(r.BankParam - 1)
	}
	return r.Endpoint.BankID
}

// builtinRoutes are the routes of the built-in documents, first in every
// snapshot.
func (m *Manager) builtinRoutes() []router.Route[*Route] {
	var routes []router.Route[*Route]
	for _, b := range m.builtin {
		ep := &Endpoint{ID: builtinOwner(b), Doc: b.Doc, Mount: b.Doc.Mount}
		for i, op := range b.Doc.Operations {
			rt := *b.Routes[i]
			rt.Endpoint, rt.Operation = ep, op
			routes = append(routes, router.Route[*Route]{Method: op.Method, Template: ep.ServedPath(op), Owner: ep.ID, Value: &rt})
		}
	}
	return routes
}

// builtinName describes the built-in document a route table owner names.
func (m *Manager) builtinName(owner string) (string, bool) {
	for _, b := range m.builtin {
		if builtinOwner(b) == owner {
			return "the built-in " + b.Name, true
		}
	}
	return "", false
}
