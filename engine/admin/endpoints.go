package admin

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/specs"
)

// Options configure the management API.
type Options struct {
	TokenHash        TokenHash
	MaxDocumentBytes int
}

// Register mounts the management API on app under /admin/v1.
func Register(app *fiber.App, mgr *endpoints.Manager, opts Options) {
	h := &handlers{mgr: mgr, maxDocument: opts.MaxDocumentBytes}
	g := app.Group("/admin/v1", RequireToken(opts.TokenHash))
	for _, prefix := range []string{"/dynamic-endpoints", "/banks/:bank_id/dynamic-endpoints"} {
		g.Post(prefix, h.create)
		g.Get(prefix, h.list)
		g.Get(prefix+"/:id", h.get)
		g.Get(prefix+"/:id/document", h.document)
		g.Delete(prefix+"/:id", h.delete)
		g.Put(prefix+"/:id/host", h.setHost)
	}
}

type handlers struct {
	mgr         *endpoints.Manager
	maxDocument int
}

// OperationView is one served operation in management responses.
type OperationView struct {
	OperationID string `json:"operation_id"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	ServedPath  string `json:"served_path"`
	Role        string `json:"role"`
}

// EndpointView is a dynamic endpoint in management responses.
type EndpointView struct {
	ID          string             `json:"dynamic_endpoint_id"`
	BankID      string             `json:"bank_id,omitempty"`
	Title       string             `json:"title"`
	Version     string             `json:"version"`
	SpecVersion string             `json:"spec_version"`
	Mount       string             `json:"mount"`
	Host        string             `json:"host"`
	CreatedAt   time.Time          `json:"created_at"`
	Operations  []OperationView    `json:"operations"`
	Warnings    []engine.Violation `json:"warnings"`
	Document    json.RawMessage    `json:"document,omitempty"`
}

var nonWord = regexp.MustCompile(`\W`)

// roleVerbs names the verb of an operation's role, as the Open Bank Project
// does: POST creates, PUT updates.
var roleVerbs = map[string]string{"GET": "Get", "HEAD": "Get", "POST": "Create", "PUT": "Update",
	"PATCH": "Patch", "DELETE": "Delete", "OPTIONS": "Options", "TRACE": "Trace"}

// RoleName is the role an operation will require once roles are enforced:
// Can<Verb>DynamicEndpoint_<operationId>.
func RoleName(op *specs.Operation) string {
	return "Can" + roleVerbs[op.Method] + "DynamicEndpoint_" + nonWord.ReplaceAllString(op.ID, "_")
}

func view(ep *endpoints.Endpoint) EndpointView {
	v := EndpointView{ID: ep.ID, BankID: ep.BankID, Title: ep.Doc.Title, Version: ep.Doc.Version,
		SpecVersion: ep.Doc.SpecVersion, Mount: ep.Mount, Host: ep.Host, CreatedAt: ep.CreatedAt,
		Operations: make([]OperationView, len(ep.Doc.Operations)), Warnings: ep.Doc.Warnings}
	if v.Mount == "" {
		v.Mount = "/"
	}
	if v.Warnings == nil {
		v.Warnings = []engine.Violation{}
	}
	for i, op := range ep.Doc.Operations {
		v.Operations[i] = OperationView{OperationID: op.ID, Method: op.Method, Path: op.Path,
			ServedPath: ep.ServedPath(op), Role: RoleName(op)}
	}
	return v
}

func (h *handlers) create(c *fiber.Ctx) error {
	body := c.Body()
	if h.maxDocument > 0 && len(body) > h.maxDocument {
		return engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodePayloadTooLarge,
			"the document is larger than %d bytes", h.maxDocument)
	}
	if len(body) == 0 {
		return engine.NewError(http.StatusBadRequest, engine.CodeInvalidDocument, "the request body must be a Swagger 2.0 or OpenAPI 3.x document")
	}
	// fiber's strings point into buffers reused by the next request: clone
	// whatever outlives this one.
	in := endpoints.CreateInput{BankID: strings.Clone(c.Params("bank_id")), Source: append([]byte(nil), body...),
		ContentType: string(c.Request().Header.ContentType())}
	if c.Context().QueryArgs().Has("mount") {
		in.Mount, in.MountSet = strings.Clone(c.Query("mount")), true
	}
	ep, err := h.mgr.Create(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Location(c.Path() + "/" + ep.ID)
	return c.Status(http.StatusCreated).JSON(view(ep))
}

func (h *handlers) list(c *fiber.Ctx) error {
	eps := h.mgr.List(c.Params("bank_id"))
	out := make([]EndpointView, len(eps))
	for i, ep := range eps {
		out[i] = view(ep)
	}
	return c.JSON(fiber.Map{"dynamic_endpoints": out})
}

func (h *handlers) get(c *fiber.Ctx) error {
	ep, err := h.mgr.Get(c.Params("bank_id"), c.Params("id"))
	if err != nil {
		return err
	}
	v := view(ep)
	doc, err := documentJSON(ep)
	if err != nil {
		return err
	}
	v.Document = doc
	return c.JSON(v)
}

// documentJSON returns the stored document as JSON, converting YAML.
func documentJSON(ep *endpoints.Endpoint) (json.RawMessage, error) {
	if json.Valid(ep.Source) {
		return ep.Source, nil
	}
	tree, err := specs.DecodeDocument(ep.Source, ep.ContentType)
	if err != nil {
		return nil, engine.Internal(err)
	}
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return b, nil
}

// document returns the document exactly as submitted.
func (h *handlers) document(c *fiber.Ctx) error {
	ep, err := h.mgr.Get(c.Params("bank_id"), c.Params("id"))
	if err != nil {
		return err
	}
	ct := ep.ContentType
	if ct == "" {
		ct = "application/json"
		if !json.Valid(ep.Source) {
			ct = "application/yaml"
		}
	}
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(ep.Source)
}

func (h *handlers) delete(c *fiber.Ctx) error {
	if err := h.mgr.Delete(c.UserContext(), c.Params("bank_id"), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (h *handlers) setHost(c *fiber.Ctx) error {
	var in struct {
		Host string `json:"host"`
	}
	if err := json.Unmarshal(c.Body(), &in); err != nil || in.Host == "" {
		return engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, `the body must be {"host": "<host mode>"}`)
	}
	ep, err := h.mgr.SetHost(c.UserContext(), c.Params("bank_id"), c.Params("id"), in.Host)
	if err != nil {
		return err
	}
	return c.JSON(view(ep))
}
