package portal_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestDevelopersAppsAreTheirOwn: a developer registers an app (the secret
// is shown once, then never again), edits its URLs through the API's
// validation, disables it (audited), and can neither see nor disable
// another developer's app.
func TestDevelopersAppsAreTheirOwn(t *testing.T) {
	inst := enginetest.New(t)
	dev := inst.CreateUser(t, "dev-one", "Dev-one-passw0rd")
	other := inst.CreateUser(t, "dev-two", "Dev-two-passw0rd")
	c := newClient(t, inst)
	c.signIn(t, dev.Username, dev.Password)
	c.submit(t, "/portal/apps", "/portal/apps", url.Values{"name": {"One"}, "redirect_uris": {"https://one.example/cb\r\n"}})
	if c.status != http.StatusCreated || !strings.Contains(c.page, `id="consumer-secret"`) {
		t.Fatalf("register: %d %.300s", c.status, c.page)
	}
	apps := inst.Token(dev.Token).Get(t, "/my/consumers").JSON(t)["consumers"].([]any)
	app := apps[0].(map[string]any)
	id := app["consumer_id"].(string)
	c.get(t, "/portal/apps/"+id)
	if c.status != http.StatusOK || strings.Contains(c.page, "consumer-secret") {
		t.Fatalf("the app page: %d", c.status)
	}

	c.submit(t, "/portal/apps/"+id, "/portal/apps/"+id+"/urls", url.Values{"redirect_uris": {"not a uri"}})
	if c.status != http.StatusBadRequest || !strings.Contains(c.page, `id="error"`) {
		t.Fatalf("a bad redirect URI: %d %.300s", c.status, c.page)
	}
	c.submit(t, "/portal/apps/"+id, "/portal/apps/"+id+"/urls", url.Values{"redirect_uris": {"https://one.example/a\nhttps://one.example/b"}})
	if got, _ := inst.Access.Identity.Consumer(t.Context(), id); c.status != http.StatusSeeOther || len(got.RedirectURIs) != 2 {
		t.Fatalf("set URIs: %d %+v", c.status, got)
	}

	o := newClient(t, inst)
	o.signIn(t, other.Username, other.Password)
	o.get(t, "/portal/apps/"+id)
	if o.status != http.StatusNotFound {
		t.Fatalf("another's app page: %d", o.status)
	}
	o.submit(t, "/portal/apps", "/portal/apps/"+id+"/disable", url.Values{})
	if got, _ := inst.Access.Identity.Consumer(t.Context(), id); o.status != http.StatusNotFound || !got.Enabled {
		t.Fatalf("another disabling it: %d, enabled %v", o.status, got.Enabled)
	}

	before := inst.Audited(t, "consumer.disable", id)
	c.submit(t, "/portal/apps/"+id, "/portal/apps/"+id+"/disable", url.Values{})
	if got, _ := inst.Access.Identity.Consumer(t.Context(), id); c.status != http.StatusSeeOther || got.Enabled {
		t.Fatalf("disabling it: %d, enabled %v", c.status, got.Enabled)
	}
	if inst.Audited(t, "consumer.disable", id) != before+1 {
		t.Error("the disabling is not in the audit log")
	}
}

// TestAdminPagesUseTheAPIsGuard: a user without roles sees each admin
// page refused with the roles it needs; the super admin sees each.
func TestAdminPagesUseTheAPIsGuard(t *testing.T) {
	inst := enginetest.New(t)
	user := inst.CreateUser(t, "plain", "Plain-passw0rd-1")
	admin, plain := newClient(t, inst), newClient(t, inst)
	admin.signIn(t, enginetest.AdminUsername, enginetest.AdminPassword)
	plain.signIn(t, user.Username, user.Password)
	for _, path := range []string{"/portal/admin/methods", "/portal/admin/documents", "/portal/admin/entities", "/portal/admin/routings",
		"/portal/admin/audit", "/portal/admin/deliveries", "/portal/admin/deliveries?status=dead", "/portal/admin/users",
		"/portal/admin/consumers"} {
		t.Run(path, func(t *testing.T) {
			admin.get(t, path)
			if admin.status != http.StatusOK {
				t.Errorf("admin: %d %.300s", admin.status, admin.page)
			}
			plain.get(t, path)
			if plain.status != http.StatusForbidden || !strings.Contains(plain.page, "Can") {
				t.Errorf("no role: %d %.300s", plain.status, plain.page)
			}
		})
	}
}

// TestAdminChangesGoThroughTheAPI: an entity created from JSON exists over
// the API, JSON that is not an entity is refused on the page and creates
// nothing, an uploaded document is served, and a user is locked and
// granted a role.
func TestAdminChangesGoThroughTheAPI(t *testing.T) {
	inst := enginetest.New(t)
	c := newClient(t, inst)
	c.signIn(t, enginetest.AdminUsername, enginetest.AdminPassword)

	c.submit(t, "/portal/admin/entities", "/portal/admin/entities", url.Values{"json": {`{"Bad": {"properties": 7}}`}})
	if c.status != http.StatusBadRequest || !strings.Contains(c.page, `id="error"`) {
		t.Fatalf("a bad entity: %d %.300s", c.status, c.page)
	}
	c.submit(t, "/portal/admin/entities", "/portal/admin/entities", url.Values{"json": {
		`{"Note": {"description": "A note", "required": ["text"], "properties": {"text": {"type": "string", "example": "hi"}}}}`}})
	if c.status != http.StatusSeeOther {
		t.Fatalf("an entity: %d %.300s", c.status, c.page)
	}
	if list := inst.Admin().Get(t, "/admin/v1/dynamic-entities").JSON(t)["dynamic_entities"].([]any); len(list) != 1 {
		t.Fatalf("entities over the API: %v", list)
	}

	c.get(t, "/portal/admin/documents")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", c.csrf(t))
	fw, _ := mw.CreateFormFile("document", "ops.json")
	_, _ = fw.Write(enginetest.OperationsDocument("/portal-test", "listThings"))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/portal/admin/documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	c.page, c.header, c.status = enginetest.Fetch(t, c.http, req)
	if c.status != http.StatusSeeOther {
		t.Fatalf("upload: %d %.300s", c.status, c.page)
	}
	docs := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any)
	if len(docs) != 1 {
		t.Fatalf("documents over the API: %v", docs)
	}
	docID := docs[0].(map[string]any)["dynamic_endpoint_id"].(string)

	c.get(t, "/portal/catalogue/"+docID+"/openapi.json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(c.page), &doc); c.status != http.StatusOK || err != nil {
		t.Fatalf("the document's JSON: %d %v", c.status, err)
	}
	if servers, _ := json.Marshal(doc["servers"]); string(servers) != `[{"url":"/portal-test"}]` {
		t.Errorf("servers %s", servers)
	}

	u := inst.CreateUser(t, "locked-one", "Locked-passw0rd-1")
	c.submit(t, "/portal/admin/users/"+u.ID, "/portal/admin/users/"+u.ID+"/grant", url.Values{"role_name": {"CanGetAnyUser"}, "bank_id": {""}})
	if c.status != http.StatusSeeOther {
		t.Fatalf("grant: %d %.300s", c.status, c.page)
	}
	c.submit(t, "/portal/admin/users/"+u.ID, "/portal/admin/users/"+u.ID+"/lock", url.Values{})
	if got, _ := inst.Access.Identity.User(t.Context(), u.ID); c.status != http.StatusSeeOther || !got.Locked {
		t.Fatalf("lock: %d", c.status)
	}
	c.get(t, "/portal/admin/users/"+u.ID)
	if !strings.Contains(c.page, "CanGetAnyUser") || !strings.Contains(c.page, `id="user-state">locked`) {
		t.Errorf("the user page: %.500s", c.page)
	}
}
