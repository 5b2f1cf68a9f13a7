package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/endpoints"
)

// registerEndpoints mounts the dynamic endpoint routes, system level and
// bank level.
func (a *API) registerEndpoints(r routes) {
	h := &endpointHandlers{api: a}
	sys := "/dynamic-endpoints"
	r.system(fiber.MethodPost, sys, h.create, authz.RoleCanCreateDynamicEndpoint)
	r.system(fiber.MethodGet, sys, h.list, authz.RoleCanGetDynamicEndpoints)
	r.system(fiber.MethodGet, sys+"/:id", h.get, authz.RoleCanGetDynamicEndpoints)
	r.system(fiber.MethodGet, sys+"/:id/document", h.document, authz.RoleCanGetDynamicEndpoints)
	r.system(fiber.MethodPut, sys+"/:id", h.replace, authz.RoleCanUpdateDynamicEndpoint)
	r.taking(bodyOf[hostBody]()).system(fiber.MethodPut, sys+"/:id/host", h.setHost, authz.RoleCanUpdateDynamicEndpoint)
	r.system(fiber.MethodDelete, sys+"/:id", h.delete, authz.RoleCanDeleteDynamicEndpoint)

	bank := "/banks/:bank_id/dynamic-endpoints"
	r.atBank(fiber.MethodPost, bank, h.create, authz.RoleCanCreateBankLevelDynamicEndpoint)
	r.atBank(fiber.MethodGet, bank, h.list, authz.RoleCanGetBankLevelDynamicEndpoints)
	r.atBank(fiber.MethodGet, bank+"/:id", h.get, authz.RoleCanGetBankLevelDynamicEndpoints)
	r.atBank(fiber.MethodGet, bank+"/:id/document", h.document, authz.RoleCanGetBankLevelDynamicEndpoints)
	r.atBank(fiber.MethodPut, bank+"/:id", h.replace, authz.RoleCanUpdateBankLevelDynamicEndpoint)
	r.taking(bodyOf[hostBody]()).atBank(fiber.MethodPut, bank+"/:id/host", h.setHost, authz.RoleCanUpdateBankLevelDynamicEndpoint)
	r.atBank(fiber.MethodDelete, bank+"/:id", h.delete, authz.RoleCanDeleteBankLevelDynamicEndpoint)
}

type endpointHandlers struct{ api *API }

// OperationView is one served operation in management responses.
type OperationView struct {
	OperationID string `json:"operation_id"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	ServedPath  string `json:"served_path"`
	// Role is the dynamic role made for the operation; Roles the roles the
	// document names instead; Public an operation open to everyone.
	Role   string   `json:"role,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	Public bool     `json:"public,omitempty"`
	// Consent: the operation is called under a consent, which decides
	// instead of Role (docs/decisions/0039).
	Consent bool `json:"consent,omitempty"`
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
	// ConsentProfile is the consent profile the document is bound to,
	// absent when none.
	ConsentProfile *ConsentProfileView `json:"consent_profile,omitempty"`
	Document       json.RawMessage     `json:"document,omitempty"`
}

// ConsentProfileView is how a document is bound to its consent profile:
// which profile, chosen how (auto, document, query), the document's
// operations it binds and those it leaves to the host, and the operations
// it binds that the document lacks.
type ConsentProfileView struct {
	ID      string   `json:"id"`
	Source  string   `json:"source"`
	Bound   []string `json:"bound"`
	Unbound []string `json:"unbound"`
	Missing []string `json:"missing"`
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
	if b := ep.Consent; b != nil {
		v.ConsentProfile = &ConsentProfileView{ID: b.Profile.ID, Source: b.Source, Bound: nonNil(b.Bound),
			Unbound: nonNil(b.Unbound), Missing: nonNil(b.Missing)}
	}
	for i, op := range ep.Doc.Operations {
		ov := OperationView{OperationID: op.ID, Method: op.Method, Path: op.Path, ServedPath: ep.ServedPath(op),
			Consent: ep.Consent.Uses(op.ID)}
		switch {
		case op.Access.Public:
			ov.Public = true
		case op.Access.RolesDeclared:
			ov.Roles = op.Access.Roles
		default:
			ov.Role = ep.RoleOf(op)
		}
		v.Operations[i] = ov
	}
	return v
}

func (h *endpointHandlers) create(c *fiber.Ctx) error {
	in, err := h.documentInput(c)
	if err != nil {
		return err
	}
	ep, err := h.api.Cases.CreateDocument(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	c.Location(c.Path() + "/" + ep.ID)
	return c.Status(http.StatusCreated).JSON(view(ep))
}

// replace serves a new version of a document in place of the current one:
// same id, host and mount (unless ?mount says otherwise); operations both
// versions have keep their roles and the entitlements to them.
func (h *endpointHandlers) replace(c *fiber.Ctx) error {
	in, err := h.documentInput(c)
	if err != nil {
		return err
	}
	ep, err := h.api.Cases.ReplaceDocument(c.UserContext(), actor(c), param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(view(ep))
}

// documentInput reads a submitted document and its ?mount.
func (h *endpointHandlers) documentInput(c *fiber.Ctx) (endpoints.CreateInput, error) {
	body := c.Request().Body()
	if max := h.api.MaxDocumentBytes; max > 0 && len(body) > max {
		return endpoints.CreateInput{}, engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodePayloadTooLarge,
			"the document is larger than %d bytes", max)
	}
	if len(body) == 0 {
		return endpoints.CreateInput{}, engine.NewError(http.StatusBadRequest, engine.CodeInvalidDocument, "the request body must be a Swagger 2.0 or OpenAPI 3.x document")
	}
	// fiber's strings point into buffers reused by the next request: clone
	// whatever outlives this one.
	in := endpoints.CreateInput{BankID: param(c, "bank_id"), Source: append([]byte(nil), body...),
		ContentType: string(c.Request().Header.ContentType())}
	if c.Context().QueryArgs().Has("mount") {
		in.Mount, in.MountSet = query(c, "mount"), true
	}
	in.ConsentProfile = query(c, "consent_profile")
	return in, nil
}

func (h *endpointHandlers) list(c *fiber.Ctx) error {
	eps := h.api.Endpoints.List(param(c, "bank_id"))
	out := make([]EndpointView, len(eps))
	for i, ep := range eps {
		out[i] = view(ep)
	}
	return c.JSON(fiber.Map{"dynamic_endpoints": out})
}

func (h *endpointHandlers) get(c *fiber.Ctx) error {
	ep, err := h.api.Endpoints.Get(param(c, "bank_id"), param(c, "id"))
	if err != nil {
		return err
	}
	v := view(ep)
	doc, err := h.documentJSON(c.UserContext(), ep)
	if err != nil {
		return err
	}
	v.Document = doc
	return c.JSON(v)
}

// documentJSON returns the stored document as JSON, converting YAML.
func (h *endpointHandlers) documentJSON(ctx context.Context, ep *endpoints.Endpoint) (json.RawMessage, error) {
	source, err := h.api.Endpoints.Source(ctx, ep)
	if err != nil {
		return nil, err
	}
	if json.Valid(source) {
		return source, nil
	}
	tree, err := h.api.Endpoints.DocumentTree(ep, source)
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
func (h *endpointHandlers) document(c *fiber.Ctx) error {
	ep, err := h.api.Endpoints.Get(param(c, "bank_id"), param(c, "id"))
	if err != nil {
		return err
	}
	source, err := h.api.Endpoints.Source(c.UserContext(), ep)
	if err != nil {
		return err
	}
	ct := ep.ContentType
	if ct == "" {
		ct = "application/json"
		if !json.Valid(source) {
			ct = "application/yaml"
		}
	}
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(source)
}

func (h *endpointHandlers) delete(c *fiber.Ctx) error {
	if err := h.api.Cases.DeleteDocument(c.UserContext(), actor(c), param(c, "bank_id"), param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// hostBody is the body of setHost.
type hostBody struct {
	Host string `json:"host"`
}

func (h *endpointHandlers) setHost(c *fiber.Ctx) error {
	in := decoded[hostBody](c)
	if in.Host == "" {
		return badRequest(`the body must be {"host": "<host mode>"}`)
	}
	ep, err := h.api.Cases.SetDocumentHost(c.UserContext(), actor(c), param(c, "bank_id"), param(c, "id"), in.Host)
	if err != nil {
		return err
	}
	return c.JSON(view(ep))
}
