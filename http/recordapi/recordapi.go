// Package recordapi is the generated record API of dynamic entities:
// /entities/{Name}[/{id}] (system level), /banks/{bank_id}/entities/{Name}
// (bank level) and /my/entities/{Name} (personal records, visible only to
// their owner). A few fixed routes look the entity up per request, so a new
// or changed definition is served at once without building routes.
//
// Envelopes follow the Open Bank Project: one record as {"loan_offer":
// {...}}, a list as {"loan_offer_list": [...]}. POST answers 201, PUT
// replaces, PATCH merges (RFC 7386) in the transaction that writes the
// record, DELETE answers 204. Each record answered carries its ETag, and
// PUT, PATCH and DELETE honour If-Match (412 when it fails).
//
// Bodies are bounded by MaxBodyBytes before they are read as JSON, and
// read with strictjson: duplicate keys, text that is not UTF-8, lone
// surrogates and numbers out of range are 400s naming their pointer.
package recordapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/rolename"
)

// API serves entity records.
type API struct {
	Entities *dynentity.Registry
	// Records reads records; Writer writes them.
	Records *records.Store
	Writer  *dynentity.Writer
	Gate    *guard.Gate
	// MaxBodyBytes bounds a record body (default
	// server.DefaultMaxBodyBytes); a larger one is a 413 before it is read.
	MaxBodyBytes int
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
	user   string // the caller's user id, to whom new records are charged
	id     string
}

type handler func(*call) error

// bankOnly is the rule that checks only that the URL's bank exists, before
// the entity is looked up there.
var bankOnly = &guard.Rule{}

// handle resolves the entity, authenticates the caller and checks the
// entity's role for the method (or, for personal records, only login).
func (a *API) handle(sc scope, h handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		bankID, name := strings.Clone(c.Params("bank_id")), strings.Clone(c.Params("name"))
		p, err := server.Authenticate(c, a.Gate)
		if err != nil {
			return err
		}
		if err := server.Guard(c.UserContext(), a.Gate, p, bankOnly, bankID); err != nil {
			return err
		}
		e, ok := a.Entities.Lookup(bankID, name)
		if !ok || (sc == personal && !e.Def.HasPersonalEntity) {
			return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no entity %q here", name)
		}
		cl := &call{c: c, ctx: c.UserContext(), entity: e, schema: e.Schema, user: p.UserID, id: strings.Clone(c.Params("id"))}
		if sc == personal {
			if p.UserID == "" { // a consumer acting for no user: "" would mean the shared records
				return engine.Errorf(http.StatusForbidden, engine.CodeForbidden, "personal records belong to a user; this caller acts for none")
			}
			cl.owner, cl.schema = p.UserID, e.PersonalSchema
		} else {
			role := dynentity.RoleName(e, rolename.VerbOf(c.Method()))
			if err := server.Guard(cl.ctx, a.Gate, p, &guard.Rule{Roles: []string{role}}, bankID); err != nil {
				return err
			}
		}
		return h(cl)
	}
}

// single writes one record in its envelope, with its ETag.
// The record is written as the store holds it (Stored.Raw, what c.JSON
// would make of Record), so it is neither decoded nor encoded again.
func single(cl *call, status int, st *records.Stored) error {
	cl.c.Set(fiber.HeaderETag, st.ETag)
	if st.Raw == nil {
		return cl.c.Status(status).JSON(map[string]any{cl.entity.Def.SingleKey(): st.Record})
	}
	key := cl.entity.Def.SingleKey()
	b := make([]byte, 0, len(key)+len(st.Raw)+8)
	b = append(appendString(append(b, '{'), key), ':')
	b = append(append(b, st.Raw...), '}')
	cl.c.Status(status).Response().SetBodyRaw(b)
	cl.c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	return nil
}

func (a *API) get(cl *call) error {
	st, err := a.Records.GetRaw(cl.ctx, cl.schema, cl.owner, cl.id)
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, st)
}

func (a *API) create(cl *call) error {
	rec, err := a.body(cl)
	if err != nil {
		return err
	}
	st, err := a.Writer.Create(cl.ctx, cl.entity, cl.owner, cl.user, rec)
	if err != nil {
		return err
	}
	return single(cl, http.StatusCreated, st)
}

func (a *API) replace(cl *call) error {
	rec, err := a.body(cl)
	if err != nil {
		return err
	}
	st, err := a.Writer.Replace(cl.ctx, cl.entity, cl.owner, cl.id, rec, ifMatch(cl.c))
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, st)
}

func (a *API) patch(cl *call) error {
	changes, err := a.body(cl)
	if err != nil {
		return err
	}
	st, err := a.Writer.Update(cl.ctx, cl.entity, cl.owner, cl.id, ifMatch(cl.c), changes, dynentity.MergePatch)
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, st)
}

func (a *API) delete(cl *call) error {
	if err := a.Records.Delete(cl.ctx, cl.schema, cl.owner, cl.id, cl.c.QueryBool("cascade"), ifMatch(cl.c)); err != nil {
		return err
	}
	return cl.c.SendStatus(http.StatusNoContent)
}

// ifMatch reads the If-Match header: nil without one, else its entity tags
// ("*" for any). Weak tags are kept as written and so never match, as
// If-Match compares strongly.
func ifMatch(c *fiber.Ctx) records.IfMatch {
	h := c.Request().Header.Peek(fiber.HeaderIfMatch)
	if h == nil {
		return nil
	}
	cond := records.IfMatch{}
	for _, tag := range strings.Split(string(h), ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			cond = append(cond, tag)
		}
	}
	return cond
}

// body reads a record by the pipeline's body policy for free-form objects
// (server.DecodeObject): a JSON object of at most MaxBodyBytes, decoded
// strictly, numbers kept exact. Which members it may have is the entity's
// schema's to say, when the record is written.
func (a *API) body(cl *call) (map[string]any, error) {
	max := a.MaxBodyBytes
	if max <= 0 {
		max = server.DefaultMaxBodyBytes
	}
	return server.DecodeObject(cl.c.Body(), max)
}
