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

// Routes are the record routes, for server.New, which serves each through
// the pipeline's stages: the entity's roles are the guard's (Admit), the
// body is decoded by the pipeline's policy for free-form objects once the
// policies passed.
func Routes(a *API) []server.Route {
	var list []server.Route
	for _, r := range []struct {
		prefix string
		scope  scope
	}{
		{"/entities/:name", shared},
		{"/banks/:bank_id/entities/:name", shared},
		{"/my/entities/:name", personal},
		{"/banks/:bank_id/my/entities/:name", personal},
	} {
		for _, op := range []struct {
			method, suffix string
			handle         handler
			body           bool
		}{
			{fiber.MethodGet, "", a.list, false},
			{fiber.MethodPost, "", a.create, true},
			{fiber.MethodGet, "/:id", a.get, false},
			{fiber.MethodPut, "/:id", a.replace, true},
			{fiber.MethodPatch, "/:id", a.patch, true},
			{fiber.MethodDelete, "/:id", a.delete, false},
		} {
			route := server.Route{Method: op.method, Path: r.prefix + op.suffix, AtBank: true,
				Admit: a.admit(r.scope), Handle: serve(op.handle)}
			if op.body {
				route.Decode = a.decode
			}
			list = append(list, route)
		}
	}
	return list
}

// call is one request to the record API, resolved and authorised.
type call struct {
	c      *fiber.Ctx
	ctx    context.Context
	entity *dynentity.Entity
	schema *records.Schema
	owner  string         // "" shared records, else the owner's user id
	user   string         // the caller's user id, to whom new records are charged
	id     string         // the record's id, from the path
	body   map[string]any // the decoded body of a write
}

type handler func(*call) error

// callKey is where admit keeps the resolved call for the handler.
type callKey struct{}

// admit is the record routes' part of the guard: the entity must exist at
// the URL's bank (which the pipeline checked exists), and the caller must
// hold the entity's role for the method (or, for personal records, act for
// a user).
func (a *API) admit(sc scope) func(c *fiber.Ctx, pc *engine.Call) error {
	return func(c *fiber.Ctx, pc *engine.Call) error {
		// Looked up in place: the name is copied only into an error.
		name := c.Params("name")
		e, ok := a.Entities.Lookup(pc.BankID, name)
		if !ok || (sc == personal && !e.Def.HasPersonalEntity) {
			return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no entity %q here", name)
		}
		p := pc.Principal
		cl := &call{c: c, ctx: c.UserContext(), entity: e, schema: e.Schema, user: p.UserID, id: strings.Clone(c.Params("id"))}
		if sc == personal {
			if p.UserID == "" { // a consumer acting for no user: "" would mean the shared records
				return engine.Errorf(http.StatusForbidden, engine.CodeForbidden, "personal records belong to a user; this caller acts for none")
			}
			cl.owner, cl.schema = p.UserID, e.PersonalSchema
		} else {
			if err := server.Guard(cl.ctx, a.Gate, p, e.Rule(rolename.VerbOf(c.Method())), pc.BankID); err != nil {
				return err
			}
		}
		c.Locals(callKey{}, cl)
		return nil
	}
}

// serve is the invoke stage of a record route: h on the call admit
// resolved, with the body the pipeline decoded.
func serve(h handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl := c.Locals(callKey{}).(*call)
		cl.body, _ = server.CallOf(c).Body.(map[string]any)
		return h(cl)
	}
}

// etagKey is the ETag header's name as fasthttp normalises it.
var etagKey = []byte("Etag")

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

// get writes the record into the answer from the store's memory, in its
// envelope: copied once, not decoded.
func (a *API) get(cl *call) error {
	return a.Records.Read(cl.ctx, cl.schema, cl.owner, cl.id, func(raw []byte) error {
		var tag, open [64]byte
		resp := cl.c.Status(http.StatusOK).Response()
		resp.Header.SetCanonical(etagKey, records.AppendETag(tag[:0], raw))
		resp.Header.SetContentType(fiber.MIMEApplicationJSON)
		resp.ResetBody()
		resp.AppendBody(append(appendString(append(open[:0], '{'), cl.entity.Def.SingleKey()), ':'))
		resp.AppendBody(raw)
		resp.AppendBodyString("}")
		return nil
	})
}

func (a *API) create(cl *call) error {
	st, err := a.Writer.Create(cl.ctx, cl.entity, cl.owner, cl.user, cl.body)
	if err != nil {
		return err
	}
	return single(cl, http.StatusCreated, st)
}

func (a *API) replace(cl *call) error {
	st, err := a.Writer.Replace(cl.ctx, cl.entity, cl.owner, cl.id, cl.body, ifMatch(cl.c))
	if err != nil {
		return err
	}
	return single(cl, http.StatusOK, st)
}

func (a *API) patch(cl *call) error {
	st, err := a.Writer.Update(cl.ctx, cl.entity, cl.owner, cl.id, ifMatch(cl.c), cl.body, dynentity.MergePatch)
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

// decode reads a record by the pipeline's body policy for free-form
// objects (server.DecodeObject): a JSON object of at most MaxBodyBytes,
// decoded strictly, numbers kept exact. Which members it may have is the
// entity's schema's to say, when the record is written.
func (a *API) decode(raw []byte) (any, error) {
	max := a.MaxBodyBytes
	if max <= 0 {
		max = server.DefaultMaxBodyBytes
	}
	return server.DecodeObject(raw, max)
}
