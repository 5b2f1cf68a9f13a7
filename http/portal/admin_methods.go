package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

// methodsAPI is the API's connector method routes.
const methodsAPI = "/admin/v1/connector-methods"

// methodRoutes mounts the connector method pages: the list, a new
// method, and the editor with Save and "Run with these args".
func (p *portal) methodRoutes(get, post func(string, fiber.Handler)) {
	get("/admin/methods", p.signedIn(p.methodsPage))
	post("/admin/methods", p.signedIn(p.createMethod))
	get("/admin/methods/:id", p.signedIn(p.methodPage))
	post("/admin/methods/:id", p.signedIn(p.saveMethod))
	post("/admin/methods/:id/run", p.signedIn(p.runMethod))
}

// method is a connector method as the API answers it.
type method struct {
	ID         string `json:"connector_method_id"`
	MethodName string `json:"method_name"`
	MethodBody string `json:"method_body"`
	Language   string `json:"programming_lang"`
	TimeoutMS  int    `json:"timeout_ms"`
}

// editor is what the editor page shows: the method (with the body as
// edited), the run's arguments and bank, and the last run's outcome.
type editor struct {
	Method      method
	Args, Bank  string
	Saved       bool
	Run         *RunResult
	RunRefused  *engine.Error
	ResultShown string
}

func (p *portal) methodsPage(c *fiber.Ctx, s *session) error {
	got := p.call(c, fiber.MethodGet, methodsAPI, s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var out struct {
		Methods []method `json:"connector_methods"`
	}
	if err := got.decode(&out); err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "methods", &view{Title: "Connector methods", Session: s, Data: out.Methods})
}

// createMethod creates a JavaScript connector method through the API and
// opens it in the editor.
func (p *portal) createMethod(c *fiber.Ctx, s *session) error {
	got := p.callJSON(c, fiber.MethodPost, methodsAPI, s.Token, map[string]any{"method_name": strings.Clone(c.FormValue("method_name")),
		"method_body": strings.Clone(c.FormValue("method_body")), "programming_lang": "js"})
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var m method
	if err := got.decode(&m); err != nil {
		return err
	}
	return redirect(c, "/admin/methods/"+url.PathEscape(m.ID))
}

// method is the connector method c names, from the API.
func (p *portal) method(c *fiber.Ctx, s *session) (map[string]any, *method, error) {
	got := p.call(c, fiber.MethodGet, methodsAPI+"/"+url.PathEscape(c.Params("id")), s.Token, "", nil)
	if err := got.err(); err != nil {
		return nil, nil, err
	}
	var raw map[string]any
	var m method
	if err := got.decode(&raw); err != nil {
		return nil, nil, err
	}
	return raw, &m, got.decode(&m)
}

func (p *portal) methodPage(c *fiber.Ctx, s *session) error {
	_, m, err := p.method(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	return p.showEditor(c, s, http.StatusOK, &editor{Method: *m, Args: "[]", Saved: c.Query("saved") != ""}, nil)
}

// showEditor renders the editor.
func (p *portal) showEditor(c *fiber.Ctx, s *session, status int, e *editor, fault *engine.Error) error {
	if e.Run != nil && e.Run.Outcome == "ok" {
		e.ResultShown = prettyRaw(e.Run.Result)
	}
	return p.render(c, status, "method", &view{Title: "Connector method " + e.Method.MethodName, Session: s, Error: fault, Data: e})
}

// prettyRaw indents a JSON value for display.
func prettyRaw(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return prettyJSON(v)
}

// edited is the editor as the form sent it, on the method c names.
func edited(c *fiber.Ctx, m *method) *editor {
	// Browsers send a textarea's line breaks as CRLF; scripts keep LF.
	m.MethodBody = strings.ReplaceAll(c.FormValue("method_body"), "\r\n", "\n")
	return &editor{Method: *m, Args: strings.Clone(c.FormValue("args")), Bank: strings.Clone(c.FormValue("bank_id"))}
}

// saveMethod replaces the method's body through the API (PUT), keeping
// its other fields as they are.
func (p *portal) saveMethod(c *fiber.Ctx, s *session) error {
	raw, m, err := p.method(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	e := edited(c, m)
	raw["method_body"] = e.Method.MethodBody
	got := p.callJSON(c, fiber.MethodPut, methodsAPI+"/"+url.PathEscape(m.ID), s.Token, raw)
	if !got.ok() {
		return p.showEditor(c, s, got.Status, e, got.problem())
	}
	return redirect(c, "/admin/methods/"+url.PathEscape(m.ID)+"?saved=1")
}

// runMethod runs the body as edited (saved or not) with the arguments
// given, through the Runner, and shows the result or the script's error
// with its line.
func (p *portal) runMethod(c *fiber.Ctx, s *session) error {
	_, m, err := p.method(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	e := edited(c, m)
	args := json.RawMessage(strings.TrimSpace(e.Args))
	if !json.Valid(args) {
		fault := engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the arguments are not JSON",
			engine.Violation{Location: "body", Pointer: "/args", Code: "json", Message: "write the arguments as a JSON array, e.g. [\"demo-bank\"]"})
		return p.showEditor(c, s, http.StatusBadRequest, e, fault)
	}
	ctx := context.WithValue(c.UserContext(), originKey{}, originOf(c))
	res, err := p.Runner.Run(ctx, s.Token, RunRequest{MethodName: m.MethodName, MethodBody: e.Method.MethodBody, Args: args, BankID: e.Bank})
	if err != nil {
		re := engine.AsError(err)
		if re.Status == http.StatusNotFound || re.Status == http.StatusMethodNotAllowed {
			re = engine.NewError(http.StatusNotImplemented, engine.CodeNotFound, "this server cannot run connector methods from the editor yet")
		}
		e.RunRefused = re
		return p.showEditor(c, s, http.StatusOK, e, nil)
	}
	e.Run = res
	return p.showEditor(c, s, http.StatusOK, e, nil)
}
