package portal

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/specs"
)

// engineDocument is the catalogue id of the engine's own description
// (/openapi.json: the banking core, the entities' record API, the live
// dynamic endpoints and, once merged, the management API).
const engineDocument = "dynapi"

// catalogueRoutes mounts the API catalogue.
func (p *portal) catalogueRoutes(get func(string, fiber.Handler)) {
	get("/catalogue", p.signedIn(p.cataloguePage))
	get("/catalogue/:id", p.signedIn(p.viewerPage))
	get("/catalogue/:id/openapi.json", p.signedIn(p.documentJSON))
}

// entry is one document of the catalogue.
type entry struct {
	ID, Title, Version, Bank, ServedAt string
	Operations                         int
}

// entries are the catalogue: the engine's own description first, then
// every live document, system level then by bank.
func (p *portal) entries() []entry {
	out := []entry{{ID: engineDocument, Title: "dynapi: banking core, entities and management API", ServedAt: "/"}}
	var docs []entry
	for _, ep := range p.Endpoints.All() {
		docs = append(docs, entry{ID: ep.ID, Title: ep.Doc.Title, Version: ep.Doc.Version, Bank: ep.BankID,
			ServedAt: servedAt(ep), Operations: len(ep.Doc.Operations)})
	}
	slices.SortFunc(docs, func(a, b entry) int { return cmp.Or(cmp.Compare(a.Bank, b.Bank), cmp.Compare(a.Title, b.Title)) })
	return append(out, docs...)
}

// servedAt is the path prefix an endpoint's operations are served under:
// where an operation of no path of its own would be.
func servedAt(ep *endpoints.Endpoint) string { return cmp.Or(ep.ServedPath(&specs.Operation{}), "/") }

func (p *portal) cataloguePage(c *fiber.Ctx, s *session) error {
	return p.render(c, http.StatusOK, "catalogue", &view{Title: "API catalogue", Session: s, Data: p.entries()})
}

// viewerPage is Swagger UI over one document. The page carries the
// signed-in user's token for "Try it out" (see viewer.js): only to that
// user, on a page no other origin can frame or script.
func (p *portal) viewerPage(c *fiber.Ctx, s *session) error {
	id := c.Params("id")
	i := slices.IndexFunc(p.entries(), func(e entry) bool { return e.ID == id })
	if i < 0 {
		return p.failed(c, s, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no document %q in the catalogue", id))
	}
	e := p.entries()[i]
	return p.render(c, http.StatusOK, "viewer", &view{Title: e.Title, Session: s, Viewer: true, Data: e})
}

// documentJSON answers a document of the catalogue as JSON: the engine's
// /openapi.json, read with the user's token, or a live document with its
// servers set to where the engine serves it, so "Try it out" calls it
// here.
func (p *portal) documentJSON(c *fiber.Ctx, s *session) error {
	id := c.Params("id")
	var body []byte
	if id == engineDocument {
		got := p.call(c, fiber.MethodGet, "/openapi.json", s.Token, "", nil)
		if err := got.err(); err != nil {
			return err
		}
		body = got.Body
	} else {
		var err error
		if body, err = p.liveDocument(c, id); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// liveDocument is a live dynamic endpoint's document as JSON, served at
// the engine.
func (p *portal) liveDocument(c *fiber.Ctx, id string) ([]byte, error) {
	i := slices.IndexFunc(p.Endpoints.All(), func(ep *endpoints.Endpoint) bool { return ep.ID == id })
	if i < 0 {
		return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no document %q in the catalogue", id)
	}
	ep := p.Endpoints.All()[i]
	source, err := p.Endpoints.Source(c.UserContext(), ep)
	if err != nil {
		return nil, err
	}
	tree, err := p.Endpoints.DocumentTree(ep, source)
	if err != nil {
		return nil, err
	}
	if doc, ok := tree.(map[string]any); ok {
		if _, v2 := doc["swagger"]; v2 {
			doc["host"], doc["schemes"] = c.Hostname(), []string{c.Protocol()}
			doc["basePath"] = servedAt(ep)
		} else {
			doc["servers"] = []map[string]string{{"url": servedAt(ep)}}
		}
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return out, nil
}
