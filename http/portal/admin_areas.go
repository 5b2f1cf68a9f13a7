package portal

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

// area is an admin page over one list of the management API: its rows,
// and the changes it offers, each an API call.
type area struct {
	Slug, Title string
	// API is the list route; Member the answer's member holding the list,
	// ID the member of each item naming it.
	API, Member, ID string
	// Columns are the item members shown.
	Columns []string
	// Create: a form whose JSON is POSTed to API. Upload: a file input
	// whose file is POSTed with its type instead.
	Create, Upload bool
	// Edit: each item's JSON is edited and PUT back. Delete: each item
	// has a delete button.
	Edit, Delete bool
	// Filter is a query parameter the page passes on (a status), with
	// its values; Cursor the one paging goes by, Next the answer's
	// member naming the next page.
	Filter       string
	FilterValues []string
	Cursor, Next string
	// Action is a POST of each item's (API/{id}/Action) offered when its
	// member When has the value Is; none when empty.
	Action, ActionLabel, When, Is string
	// Example is the Create form's starting JSON.
	Example string
}

// areas are the admin pages besides the connector methods and the users.
var areas = []*area{
	{Slug: "documents", Title: "API documents", API: "/admin/v1/dynamic-endpoints", Member: "dynamic_endpoints", ID: "dynamic_endpoint_id",
		Columns: []string{"title", "version", "mount", "host"}, Upload: true, Delete: true},
	{Slug: "entities", Title: "Dynamic entities", API: "/admin/v1/dynamic-entities", Member: "dynamic_entities", ID: "dynamic_entity_id",
		Columns: []string{"entity_name"}, Create: true, Delete: true,
		Example: `{"Note": {"description": "A note", "required": ["text"], "properties": {"text": {"type": "string", "example": "hello"}}}}`},
	{Slug: "routings", Title: "Method routings", API: "/admin/v1/method-routings", Member: "method_routings", ID: "method_routing_id",
		Columns: []string{"method_name", "connector_name", "bank_id_pattern"}, Create: true, Edit: true, Delete: true,
		Example: `{"method_name": "getBanks", "connector_name": "mock", "is_bank_id_exact_match": false, "bank_id_pattern": ".*", "parameters": []}`},
	{Slug: "audit", Title: "Audit log", API: "/admin/v1/audit-log", Member: "entries", ID: "seq",
		Columns: []string{"at", "action", "target", "user_id", "address"}, Cursor: "after", Next: "next_after"},
	{Slug: "deliveries", Title: "Event deliveries", API: "/admin/v1/event-deliveries", Member: "deliveries", ID: "id",
		Columns: []string{"event_type", "status", "attempts", "url"}, Filter: "status",
		FilterValues: []string{"pending", "delivered", "acknowledged", "dead", "cancelled"}, Cursor: "after", Next: "next_after",
		Action: "replay", ActionLabel: "Replay", When: "status", Is: "dead"},
}

// areaRoutes mounts every area's pages.
func (p *portal) areaRoutes(get, post func(string, fiber.Handler)) {
	for _, a := range areas {
		base := "/admin/" + a.Slug
		get(base, p.signedIn(func(c *fiber.Ctx, s *session) error { return p.areaPage(c, s, a, http.StatusOK, nil, "") }))
		if a.Create || a.Upload {
			post(base, p.signedIn(func(c *fiber.Ctx, s *session) error { return p.createItem(c, s, a) }))
		}
		if a.Edit {
			get(base+"/:id", p.signedIn(func(c *fiber.Ctx, s *session) error { return p.itemPage(c, s, a) }))
			post(base+"/:id", p.signedIn(func(c *fiber.Ctx, s *session) error { return p.saveItem(c, s, a) }))
		}
		if a.Delete {
			post(base+"/:id/delete", p.signedIn(func(c *fiber.Ctx, s *session) error {
				return p.changeItem(c, s, a, fiber.MethodDelete, "")
			}))
		}
		if a.Action != "" {
			post(base+"/:id/"+a.Action, p.signedIn(func(c *fiber.Ctx, s *session) error {
				return p.changeItem(c, s, a, fiber.MethodPost, "/"+a.Action)
			}))
		}
	}
}

// row is one item of an area's list.
type row struct {
	ID         string
	Cells      []string
	Actionable bool
}

// listing is what an area's page shows.
type listing struct {
	Area   *area
	Rows   []row
	Filter string
	Next   string
	// Draft is the create form's JSON as last sent.
	Draft string
}

// cell shows an item's member.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	default:
		return strings.TrimSpace(prettyJSON(v))
	}
}

// areaPage lists an area's items, filtered and paged as the query says.
func (p *portal) areaPage(c *fiber.Ctx, s *session, a *area, status int, fault *engine.Error, draft string) error {
	q := url.Values{"limit": {"50"}}
	filter := c.Query(a.Filter)
	if a.Filter != "" && filter != "" {
		q.Set(a.Filter, filter)
	}
	if a.Cursor != "" && c.Query(a.Cursor) != "" {
		q.Set(a.Cursor, c.Query(a.Cursor))
	}
	got := p.call(c, fiber.MethodGet, a.API+"?"+q.Encode(), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var out map[string]any
	if err := got.decode(&out); err != nil {
		return err
	}
	l := listing{Area: a, Filter: strings.Clone(filter), Draft: draft}
	if draft == "" {
		l.Draft = a.Example
	}
	if a.Next != "" {
		l.Next = cell(out[a.Next])
	}
	items, _ := out[a.Member].([]any)
	for _, it := range items {
		item, _ := it.(map[string]any)
		r := row{ID: cell(item[a.ID]), Actionable: a.Action != "" && cell(item[a.When]) == a.Is}
		for _, col := range a.Columns {
			r.Cells = append(r.Cells, cell(item[col]))
		}
		l.Rows = append(l.Rows, r)
	}
	return p.render(c, status, "area", &view{Title: a.Title, Session: s, Error: fault, Data: &l})
}

// createItem sends the form's JSON, or its uploaded document, to the API.
func (p *portal) createItem(c *fiber.Ctx, s *session, a *area) error {
	var got *answer
	draft := strings.Clone(c.FormValue("json"))
	if a.Upload {
		body, contentType, err := uploaded(c)
		if err != nil {
			return p.areaPage(c, s, a, http.StatusBadRequest, engine.AsError(err), "")
		}
		got = p.call(c, fiber.MethodPost, a.API, s.Token, contentType, body)
	} else {
		got = p.call(c, fiber.MethodPost, a.API, s.Token, fiber.MIMEApplicationJSON, []byte(draft))
	}
	if !got.ok() {
		return p.areaPage(c, s, a, got.Status, got.problem(), draft)
	}
	return redirect(c, "/admin/"+a.Slug)
}

// maxUploadBytes bounds an uploaded document (the API bounds it again).
const maxUploadBytes = 8 << 20

// uploaded is the document file of the form, with the type its name
// says.
func uploaded(c *fiber.Ctx) ([]byte, string, error) {
	fh, err := c.FormFile("document")
	if err != nil {
		return nil, "", engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, "choose a document file to upload")
	}
	if fh.Size > maxUploadBytes {
		return nil, "", engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodeBadRequest, "the document is larger than %d bytes", maxUploadBytes)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", engine.Internal(err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxUploadBytes))
	if err != nil {
		return nil, "", engine.Internal(err)
	}
	contentType := fiber.MIMEApplicationJSON
	if ext := strings.ToLower(path.Ext(fh.Filename)); ext == ".yaml" || ext == ".yml" {
		contentType = "application/yaml"
	}
	return body, contentType, nil
}

// itemPath is the API path of the item of a that c names.
func itemPath(c *fiber.Ctx, a *area) string { return a.API + "/" + url.PathEscape(c.Params("id")) }

// itemPage shows one item's JSON to edit.
func (p *portal) itemPage(c *fiber.Ctx, s *session, a *area) error {
	got := p.call(c, fiber.MethodGet, itemPath(c, a), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	return p.render(c, http.StatusOK, "item", &view{Title: a.Title + ": edit", Session: s,
		Data: map[string]any{"Area": a, "ID": strings.Clone(c.Params("id")), "JSON": prettyRaw(got.Body)}})
}

// saveItem PUTs the edited JSON back.
func (p *portal) saveItem(c *fiber.Ctx, s *session, a *area) error {
	draft := strings.Clone(c.FormValue("json"))
	got := p.call(c, fiber.MethodPut, itemPath(c, a), s.Token, fiber.MIMEApplicationJSON, []byte(draft))
	if !got.ok() {
		return p.render(c, got.Status, "item", &view{Title: a.Title + ": edit", Session: s, Error: got.problem(),
			Data: map[string]any{"Area": a, "ID": strings.Clone(c.Params("id")), "JSON": draft}})
	}
	return redirect(c, "/admin/"+a.Slug)
}

// changeItem makes a bodiless change to one item (delete, replay).
func (p *portal) changeItem(c *fiber.Ctx, s *session, a *area, method, suffix string) error {
	got := p.call(c, method, itemPath(c, a)+suffix, s.Token, "", nil)
	if !got.ok() {
		return p.areaPage(c, s, a, got.Status, got.problem(), "")
	}
	return redirect(c, "/admin/"+a.Slug)
}
