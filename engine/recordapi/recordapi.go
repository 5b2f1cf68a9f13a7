// Package recordapi is the generated record API of dynamic entities:
// /entities/{Name}[/{id}] (system level), /banks/{bank_id}/entities/{Name}
// (bank level) and /my/entities/{Name} (personal records, visible only to
// their owner). A few fixed routes look the entity up per request, so a new
// or changed definition is served at once without building routes.
//
// Envelopes follow the Open Bank Project: one record as {"loan_offer":
// {...}}, a list as {"loan_offer_list": [...]}. POST answers 201, PUT
// replaces, PATCH merges (RFC 7386), DELETE answers 204.
package recordapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/server"
	"github.com/dynapi/dynapi/entities/records"
)

// API serves entity records.
type API struct {
	Entities *dynentity.Registry
	Records  *records.Store
	Gate     *guard.Gate
	Access   *access.Service
}

// scope says where a request's records live and who may touch them.
type scope int

const (
	shared   scope = iota // guarded by the entity's roles
	personal              // the caller's own records: login only
)

// Register mounts the record routes.
func Register(app *fiber.App, a *API) {
	for _, r := range []struct {
		prefix string
		scope  scope
	}{
		{"/entities/:name", shared},
		{"/banks/:bank_id/entities/:name", shared},
		{"/my/entities/:name", personal},
		{"/banks/:bank_id/my/entities/:name", personal},
	} {
		app.Get(r.prefix, a.handle(r.scope, a.list))
		app.Post(r.prefix, a.handle(r.scope, a.create))
		app.Get(r.prefix+"/:id", a.handle(r.scope, a.get))
		app.Put(r.prefix+"/:id", a.handle(r.scope, a.replace))
		app.Patch(r.prefix+"/:id", a.handle(r.scope, a.patch))
		app.Delete(r.prefix+"/:id", a.handle(r.scope, a.delete))
	}
}

// call is one request to the record API, resolved and authorised.
type call struct {
	c      *fiber.Ctx
	ctx    context.Context
	entity *dynentity.Entity
	schema *records.Schema
	owner  string // "" shared records, else the owner's user id
	id     string
}

type handler func(*call) error

// handle resolves the entity, authenticates the caller and checks the
// entity's role for the method (or, for personal records, only login).
func (a *API) handle(sc scope, h handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		bankID, name := strings.Clone(c.Params("bank_id")), strings.Clone(c.Params("name"))
		p, err := a.Gate.Authenticate(c.UserContext(), server.Credentials(c))
		if err != nil {
			return err
		}
		if bankID != "" && !a.Access.BankExists(bankID) {
			return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "bank %q not found", bankID)
		}
		e, ok := a.Entities.Lookup(bankID, name)
		if !ok || (sc == personal && !e.Def.HasPersonalEntity) {
			return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no entity %q here", name)
		}
		cl := &call{c: c, ctx: c.UserContext(), entity: e, schema: e.Schema, id: strings.Clone(c.Params("id"))}
		if sc == personal {
			cl.owner, cl.schema = p.UserID, e.PersonalSchema
		} else {
			create, get, update, del := dynentity.RoleNames(e)
			role := map[string]string{fiber.MethodGet: get, fiber.MethodPost: create, fiber.MethodPut: update,
				fiber.MethodPatch: update, fiber.MethodDelete: del}[c.Method()]
			if err := a.Gate.Authorize(cl.ctx, p, &guard.Rule{Roles: []string{role}}, bankID); err != nil {
				return err
			}
		}
		return h(cl)
	}
}

// single writes one record in its envelope.
func single(cl *call, status int, rec map[string]any) error {
	return cl.c.Status(status).JSON(map[string]any{cl.entity.Def.SingleKey(): rec})
}

func (a *API) get(cl *call) error {
	rec, err := a.Records.Get(cl.ctx, cl.schema, cl.owner, cl.id)
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, rec)
}

func (a *API) create(cl *call) error {
	rec, err := body(cl)
	if err != nil {
		return err
	}
	if err := a.check(cl.ctx, cl.entity, rec); err != nil {
		return err
	}
	saved, err := a.Records.Create(cl.ctx, cl.schema, cl.owner, rec)
	if err != nil {
		return err
	}
	return single(cl, http.StatusCreated, saved)
}

func (a *API) replace(cl *call) error {
	rec, err := body(cl)
	if err != nil {
		return err
	}
	if err := a.check(cl.ctx, cl.entity, withID(cl, rec)); err != nil {
		return err
	}
	saved, err := a.Records.Replace(cl.ctx, cl.schema, cl.owner, cl.id, rec)
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, saved)
}

func (a *API) patch(cl *call) error {
	changes, err := body(cl)
	if err != nil {
		return err
	}
	cur, err := a.Records.Get(cl.ctx, cl.schema, cl.owner, cl.id)
	if err != nil {
		return err
	}
	merged, _ := mergePatch(cur, changes).(map[string]any)
	if err := a.check(cl.ctx, cl.entity, merged); err != nil {
		return err
	}
	saved, err := a.Records.Replace(cl.ctx, cl.schema, cl.owner, cl.id, merged)
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, saved)
}

func (a *API) delete(cl *call) error {
	if err := a.Records.Delete(cl.ctx, cl.schema, cl.owner, cl.id, cl.c.QueryBool("cascade")); err != nil {
		return err
	}
	return cl.c.SendStatus(http.StatusNoContent)
}

// withID puts the URL's id in a replacement, so a record that omits its
// primary key validates as the record it replaces.
func withID(cl *call, rec map[string]any) map[string]any {
	pk := cl.entity.Def.PrimaryKey()
	if _, ok := rec[pk]; !ok {
		rec[pk] = cl.id
	}
	return rec
}

// body decodes a record: a JSON object, numbers kept exact.
func body(cl *call) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(cl.c.Body())))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil || rec == nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the body must be a JSON object",
			engine.Violation{Location: "body", Pointer: "", Code: "type", Message: "must be a JSON object"})
	}
	return rec, nil
}

// check validates a record against its definition and resolves references
// to the engine's own types (banks, consumers, users); references to other
// entities are checked by the record store in the write's transaction.
func (a *API) check(ctx context.Context, e *dynentity.Entity, rec map[string]any) error {
	if v := e.Def.Validate(rec); len(v) > 0 {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the record does not match the definition of "+e.Def.Name, v...)
	}
	for _, ref := range e.Def.References() {
		id, _ := rec[ref.Field].(string)
		if id == "" {
			continue
		}
		var found bool
		switch ref.Entity {
		case "Bank":
			found = a.Access.BankExists(id)
		case "Consumer":
			_, err := a.Access.Consumer(ctx, id)
			found = err == nil
		case "User":
			_, err := a.Access.User(ctx, id)
			found = err == nil
		default:
			continue
		}
		if !found {
			return engine.NewError(http.StatusBadRequest, "reference_not_found", "a reference points to nothing",
				engine.Violation{Location: "body", Pointer: "/" + ref.Field, Code: "reference",
					Message: ref.Entity + " " + id + " does not exist"})
		}
	}
	return nil
}

// mergePatch applies an RFC 7386 merge patch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}
