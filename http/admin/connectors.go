package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/internal/sample"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

// registerConnectors mounts connector methods, method routings and message
// docs.
func (a *API) registerConnectors(r routes) {
	cm, script := "/connector-methods", r.taking(bodyOf[connector.MethodScript]())
	script.system(fiber.MethodPost, cm, a.createScript, authz.RoleCanCreateConnectorMethod)
	r.system(fiber.MethodGet, cm, a.listScripts, authz.RoleCanGetConnectorMethods)
	r.system(fiber.MethodGet, cm+"/:id", a.getScript, authz.RoleCanGetConnectorMethods)
	script.system(fiber.MethodPut, cm+"/:id", a.updateScript, authz.RoleCanUpdateConnectorMethod)
	r.system(fiber.MethodDelete, cm+"/:id", a.deleteScript, authz.RoleCanDeleteConnectorMethod)
	r.taking(bodyOf[scriptRun]()).system(fiber.MethodPost, cm+"/run", a.runScript,
		authz.RoleCanCreateConnectorMethod, authz.RoleCanUpdateConnectorMethod)

	mr, routing := "/method-routings", r.taking(bodyOf[connector.Routing]())
	routing.system(fiber.MethodPost, mr, a.createRouting, authz.RoleCanCreateMethodRouting)
	r.system(fiber.MethodGet, mr, a.listRoutings, authz.RoleCanGetMethodRoutings)
	r.system(fiber.MethodGet, mr+"/:id", a.getRouting, authz.RoleCanGetMethodRoutings)
	routing.system(fiber.MethodPut, mr+"/:id", a.updateRouting, authz.RoleCanUpdateMethodRouting)
	r.system(fiber.MethodDelete, mr+"/:id", a.deleteRouting, authz.RoleCanDeleteMethodRouting)

	r.loggedIn(fiber.MethodGet, "/message-docs", a.messageDocs)
}

func (a *API) createScript(c *fiber.Ctx) error {
	out, err := a.Cases.CreateScript(c.UserContext(), actor(c), *decoded[connector.MethodScript](c))
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(out)
}

func (a *API) listScripts(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"connector_methods": a.Methods.Scripts()})
}

func (a *API) getScript(c *fiber.Ctx) error {
	s, err := a.Methods.Script(c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *API) updateScript(c *fiber.Ctx) error {
	out, err := a.Cases.UpdateScript(c.UserContext(), actor(c), strings.Clone(c.Params("id")), *decoded[connector.MethodScript](c))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *API) deleteScript(c *fiber.Ctx) error {
	if err := a.Cases.DeleteScript(c.UserContext(), actor(c), strings.Clone(c.Params("id"))); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (a *API) createRouting(c *fiber.Ctx) error {
	out, err := a.Cases.CreateRouting(c.UserContext(), actor(c), *decoded[connector.Routing](c))
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(out)
}

func (a *API) listRoutings(c *fiber.Ctx) error {
	routings := a.Methods.Routings(c.Query("method_name"))
	if routings == nil {
		routings = []*connector.Routing{}
	}
	return c.JSON(fiber.Map{"method_routings": routings})
}

func (a *API) getRouting(c *fiber.Ctx) error {
	r, err := a.Methods.Routing(c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (a *API) updateRouting(c *fiber.Ctx) error {
	out, err := a.Cases.UpdateRouting(c.UserContext(), actor(c), strings.Clone(c.Params("id")), *decoded[connector.Routing](c))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *API) deleteRouting(c *fiber.Ctx) error {
	if err := a.Cases.DeleteRouting(c.UserContext(), actor(c), strings.Clone(c.Params("id"))); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// messageDocs lists every connector method, built in and dynamic, with its
// outbound and inbound schemas and examples; ?method_name= keeps one.
func (a *API) messageDocs(c *fiber.Ctx) error {
	docs := a.Methods.Docs(dynamicMethods(a.Endpoints, a.Methods.DynamicName))
	if name := c.Query("method_name"); name != "" {
		kept := docs[:0]
		for _, d := range docs {
			if d.MethodName == name {
				kept = append(kept, d)
			}
		}
		docs = kept
	}
	if docs == nil {
		docs = []connector.Doc{}
	}
	return c.JSON(fiber.Map{"message_docs": docs})
}

// dynamicMethods describes the operation of every served dynamic endpoint
// as a connector method, one per operation id (the oldest document's when
// several share one): the validated request is its argument, the first
// success response its data, the mock answer its example.
func dynamicMethods(mgr *endpoints.Manager, name func(operationID string) string) []*connector.Method {
	seen := map[string]*connector.Method{}
	var out []*connector.Method
	for _, ep := range mgr.List("") {
		out = appendOperations(out, seen, ep, name)
	}
	for _, ep := range mgr.All() {
		if ep.BankID != "" {
			out = appendOperations(out, seen, ep, name)
		}
	}
	return out
}

func appendOperations(out []*connector.Method, seen map[string]*connector.Method, ep *endpoints.Endpoint, name func(string) string) []*connector.Method {
	for _, op := range ep.Doc.Operations {
		ref := connector.EndpointRef{Method: op.Method, Path: ep.ServedPath(op)}
		if m, ok := seen[op.ID]; ok {
			m.Endpoints = append(m.Endpoints, ref)
			continue
		}
		req := requestSchema(ep.Doc, op)
		m := &connector.Method{Name: name(op.ID), Description: op.Summary, Dynamic: true,
			Args: []connector.Arg{{Name: "request", Description: "the validated request", Schema: req,
				Example: sample.Generate(req, sample.Options{Request: true})}},
			Data: responseSchema(ep.Doc, op), DataExample: mockExample(ep.Doc, op), Endpoints: []connector.EndpointRef{ref}}
		seen[op.ID] = m
		out = append(out, m)
	}
	return out
}

// requestSchema is the schema of a dynamic operation's request argument.
func requestSchema(doc *specs.Document, op *specs.Operation) map[string]any {
	groups := map[string]map[string]any{"path": {}, "query": {}, "headers": {}}
	for _, p := range op.Params {
		in := p.In
		if in == "header" {
			in = "headers"
		}
		if g, ok := groups[in]; ok {
			name := p.Name
			if in == "headers" {
				name = strings.ToLower(name)
			}
			g[name] = orEmpty(doc, p.SchemaNode())
		}
	}
	props := map[string]any{}
	for name, g := range groups {
		props[name] = map[string]any{"type": "object", "properties": g}
	}
	props["body"] = map[string]any{}
	if op.Body != nil {
		for _, m := range op.Body.Media {
			if m.IsJSON() {
				props["body"] = orEmpty(doc, m.Node()["schema"])
				break
			}
		}
	}
	return map[string]any{"type": "object", "properties": props}
}

// responseSchema is the JSON schema of an operation's first success
// response, or {} when it declares none.
func responseSchema(doc *specs.Document, op *specs.Operation) map[string]any {
	for _, r := range op.Responses {
		if r.Status < 200 || r.Status > 299 {
			continue
		}
		content, _ := r.Node()["content"].(map[string]any)
		for mt, media := range content {
			if m, ok := media.(map[string]any); ok && strings.Contains(mt, "json") {
				return orEmpty(doc, m["schema"])
			}
		}
	}
	return map[string]any{}
}

// mockExample is the body mock mode answers for op, decoded.
func mockExample(doc *specs.Document, op *specs.Operation) any {
	inv, err := mock.Prepare(doc, op)
	if err != nil {
		return nil
	}
	reply := inv.Reply(&engine.Call{})
	if len(reply.Body) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(reply.Body, &v) != nil {
		return nil
	}
	return v
}

// orEmpty is a schema node inlined, or {} when there is none.
func orEmpty(doc *specs.Document, v any) map[string]any {
	if m, ok := doc.Inline(v).(map[string]any); ok {
		return m
	}
	return map[string]any{}
}
