package admin

import (
	"encoding/json"
	"net/http"
	"reflect"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// registerEntities mounts dynamic entity definitions, system and bank
// level.
func (a *API) registerEntities(r routes) {
	sys := "/dynamic-entities"
	r.system(fiber.MethodPost, sys, a.createEntity, authz.RoleCanCreateSystemLevelDynamicEntity)
	r.system(fiber.MethodGet, sys, a.listEntities, authz.RoleCanGetSystemLevelDynamicEntities)
	r.system(fiber.MethodGet, sys+"/:id", a.getEntity, authz.RoleCanGetSystemLevelDynamicEntities)
	r.taking(entityUpdateBody).system(fiber.MethodPut, sys+"/:id", a.updateEntity, authz.RoleCanUpdateSystemLevelDynamicEntity)
	r.system(fiber.MethodDelete, sys+"/:id", a.deleteEntity, authz.RoleCanDeleteSystemLevelDynamicEntity)

	bank := "/banks/:bank_id/dynamic-entities"
	r.atBank(fiber.MethodPost, bank, a.createEntity, authz.RoleCanCreateBankLevelDynamicEntity)
	r.atBank(fiber.MethodGet, bank, a.listEntities, authz.RoleCanGetBankLevelDynamicEntities)
	r.atBank(fiber.MethodGet, bank+"/:id", a.getEntity, authz.RoleCanGetBankLevelDynamicEntities)
	r.taking(entityUpdateBody).atBank(fiber.MethodPut, bank+"/:id", a.updateEntity, authz.RoleCanUpdateBankLevelDynamicEntity)
	r.atBank(fiber.MethodDelete, bank+"/:id", a.deleteEntity, authz.RoleCanDeleteBankLevelDynamicEntity)
}

// EntityView is a dynamic entity in management responses: the definition in
// OBP's format plus who made it and the roles guarding its records.
type EntityView struct {
	ID         string          `json:"dynamic_entity_id"`
	BankID     string          `json:"bank_id,omitempty"`
	UserID     string          `json:"user_id"`
	EntityName string          `json:"entity_name"`
	CreatedAt  time.Time       `json:"created_at"`
	Definition json.RawMessage `json:"definition"`
	RecordPath string          `json:"record_path"`
	Roles      []string        `json:"roles"`
}

func entityView(e *dynentity.Entity) (EntityView, error) {
	def, err := json.Marshal(e.Def)
	if err != nil {
		return EntityView{}, engine.Internal(err)
	}
	path := "/entities/" + e.Def.Name
	if e.BankID != "" {
		path = "/banks/" + e.BankID + path
	}
	c, g, u, d := dynentity.RoleNames(e)
	return EntityView{ID: e.ID, BankID: e.BankID, UserID: e.CreatedBy, EntityName: e.Def.Name, CreatedAt: e.CreatedAt,
		Definition: def, RecordPath: path, Roles: []string{c, g, u, d}}, nil
}

func (a *API) createEntity(c *fiber.Ctx) error {
	e, err := a.Cases.CreateEntity(c.UserContext(), actor(c), dynentity.NewEntity{BankID: param(c, "bank_id"),
		Definition: append([]byte(nil), c.Request().Body()...), AllowUndeclared: c.QueryBool("allow_undeclared")})
	if err != nil {
		return err
	}
	v, err := entityView(e)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(v)
}

func (a *API) listEntities(c *fiber.Ctx) error {
	return a.writeEntities(c, a.Entities.List(param(c, "bank_id"), ""))
}

func (a *API) writeEntities(c *fiber.Ctx, list []*dynentity.Entity) error {
	out := make([]EntityView, 0, len(list))
	for _, e := range list {
		v, err := entityView(e)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(fiber.Map{"dynamic_entities": out})
}

func (a *API) getEntity(c *fiber.Ctx) error {
	e, err := a.Entities.Get(param(c, "bank_id"), param(c, "id"))
	if err != nil {
		return err
	}
	v, err := entityView(e)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// entityUpdate is the body of updateEntity: the definition, and the
// defaults when the body wraps it.
type entityUpdate struct {
	Definition json.RawMessage `json:"definition"`
	Defaults   map[string]any  `json:"defaults"`
}

// decodeEntityUpdate is updateEntity's Decode stage: a body
// {"definition": ..., "defaults": ...} is read as bodyOf reads a JSON
// body; any other is the bare definition, left to the definition's parser
// (it points into the request, valid only while it is served).
func decodeEntityUpdate(raw []byte) (any, error) {
	if isWrappedDefinition(raw) {
		return bodyOf[entityUpdate]().decode(raw)
	}
	return &entityUpdate{Definition: raw}, nil
}

// entityUpdateBody is updateEntity's body, described as the wrapped form.
var entityUpdateBody = body{decode: decodeEntityUpdate, typ: reflect.TypeFor[entityUpdate]()}

// updateEntity replaces a definition: {"definition": {...}, "defaults":
// {...}} or the bare definition; ?migrate=true applies defaults to records
// that lack a newly required field.
func (a *API) updateEntity(c *fiber.Ctx) error {
	in := decoded[entityUpdate](c)
	e, err := a.Cases.UpdateEntity(c.UserContext(), actor(c), usecase.EntityUpdate{BankID: param(c, "bank_id"), ID: param(c, "id"),
		Definition: append([]byte(nil), in.Definition...), Migrate: c.QueryBool("migrate"), Defaults: in.Defaults})
	if err != nil {
		return err
	}
	v, err := entityView(e)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// isWrappedDefinition tells a body {"definition": ..., "defaults": ...}
// from a bare definition, whose members are entity names and
// hasPersonalEntity. A body that is not JSON is left to the definition's
// parser to refuse.
func isWrappedDefinition(body []byte) bool {
	tree, err := strictjson.Decode(body)
	if err != nil {
		return false
	}
	obj, _ := tree.(map[string]any)
	_, ok := obj["definition"]
	return ok
}

func (a *API) deleteEntity(c *fiber.Ctx) error {
	if err := a.Cases.DeleteEntity(c.UserContext(), actor(c), param(c, "bank_id"), param(c, "id"), c.QueryBool("cascade")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
