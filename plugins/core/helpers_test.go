package core_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// The published documents the connector answers.
var (
	ukV40 = testpaths.Shared("specs", "ob-uk-v4.0", "account-info-openapi.yaml")
	ukV31 = testpaths.Shared("specs", "ob-uk-v3.1.7-swagger2", "account-info-swagger.json")
	bg    = testpaths.Shared("specs", "berlin-group-nextgenpsd2", "psd2-api_v1.3.11-2021-10-01v1.yaml")
)

// demoBank is the preloaded demo bank, whose accounts current-1 and
// savings-1 the super admin holds.
const demoBank = "demo-bank"

// withDemoBank starts an engine with the demo bank.
func withDemoBank(t *testing.T) *enginetest.Engine {
	t.Helper()
	return enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.PreloadExample = true }))
}

// served is a document served with host core, loaded again to check
// answers against its response schemas.
type served struct {
	doc  *specs.Document
	view map[string]any
}

// serveOnCore posts the document at path with query, moves it to host
// core and loads it.
func serveOnCore(t *testing.T, inst *enginetest.Engine, path, query string) served {
	t.Helper()
	src := enginetest.ReadFile(t, path)
	view := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints"+query, src)
	id := view["dynamic_endpoint_id"].(string)
	r := inst.Admin().Send(t, enginetest.JSONRequest(t, http.MethodPut, "/admin/v1/dynamic-endpoints/"+id+"/host", map[string]string{"host": "core"}))
	if r.Status != http.StatusOK {
		t.Fatalf("host core: %d %s", r.Status, r.Body)
	}
	doc, err := specs.Load(src, "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return served{doc: doc, view: view}
}

// fits fails the test unless r is a 200 whose body is valid against the
// 200 response schema of operation id.
func (s served) fits(t *testing.T, id string, r enginetest.Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", id, r.Status, r.Body)
	}
	var body any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%s: %v: %s", id, err, r.Body)
	}
	for _, op := range s.doc.Operations {
		for _, resp := range op.Responses {
			if op.ID != id || resp.Code != "200" {
				continue
			}
			schema, err := resp.Media[0].CompileSchema()
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(body); err != nil {
				t.Errorf("%s does not fit the document's schema: %v\n%s", id, err, r.Body)
			}
			return r.JSON(t)
		}
	}
	t.Fatalf("no 200 response of %s", id)
	return nil
}

// at is the value at a path of member names and list indexes in v.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// clientToken is a client-credentials token of the engine's first
// consumer: a TPP's token, bound to no consent.
func clientToken(t *testing.T, inst *enginetest.Engine) string {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(enginetest.ConsumerKey + ":" + enginetest.ConsumerSecret))
	r := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodPost, Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
	if r.Status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["access_token"].(string)
}
