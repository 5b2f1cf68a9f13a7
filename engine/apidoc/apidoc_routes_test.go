package apidoc_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// servedDocument is a real document from ../shared/specs, served at a
// bank or system wide.
type servedDocument struct {
	file, bank string
}

// servedDocuments mix OpenAPI 3.1, 3.0 and Swagger 2.0, a bank-level
// document, and two versions of one API whose components share names.
var servedDocuments = []servedDocument{
	{file: "redocly-museum-oas31/openapi.yaml"},
	{file: "petstore-oas3/petstore.yaml", bank: "gh.29.uk"},
	{file: "ob-uk-v4.0/confirmation-funds-openapi.yaml"},
	{file: "ob-uk-v3.1.7-swagger2/confirmation-funds-swagger.json"},
}

// TestOpenAPIDescribesServedRoutes checks that /openapi.json describes
// exactly the routes served: every operation of every served document (at
// its mount and bank prefix), the banking core, every entity's record API
// and every fixed route of the edge's route table (the management API),
// each of which answers (401 to a caller without credentials, not 404 for
// an unknown route), and nothing else, also once a document and an entity
// are deleted.
func TestOpenAPIDescribesServedRoutes(t *testing.T) {
	inst := enginetest.New(t)
	const bank = "gh.29.uk"
	inst.CreateBank(t, bank)
	inst.GrantAdmin(t, bank, "CanCreateBankLevelDynamicEndpoint")
	inst.GrantAdmin(t, bank, "CanCreateBankLevelDynamicEntity")
	inst.GrantAdmin(t, bank, "CanDeleteBankLevelDynamicEntity")

	want := fixedRoutes(inst)
	for _, w := range wantBankingRoutes {
		want[w.method+" "+w.path] = true
	}
	docIDs := map[string]string{}
	docRoutes := map[string][]string{}
	for _, d := range servedDocuments {
		raw := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), d.file))
		path, prefix := "/admin/v1/dynamic-endpoints", ""
		if d.bank != "" {
			path, prefix = "/admin/v1/banks/"+d.bank+"/dynamic-endpoints", "/banks/"+d.bank
		}
		docIDs[d.file] = inst.Admin().MustCreate(t, path, raw)["dynamic_endpoint_id"].(string)
		sd, err := specs.Load(raw, "", specs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range sd.Operations {
			route := op.Method + " " + prefix + sd.Mount + op.Path
			docRoutes[d.file] = append(docRoutes[d.file], route)
			want[route] = true
		}
	}
	entityRoutes := func(base string) []string {
		return []string{"GET " + base, "POST " + base, "GET " + base + "/{id}", "PUT " + base + "/{id}",
			"PATCH " + base + "/{id}", "DELETE " + base + "/{id}"}
	}
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", accountEntityDef)
	payee := inst.CreateEntity(t, "/admin/v1/banks/"+bank+"/dynamic-entities", `{"Payee": {"description": "A payee",
	  "required": ["name"], "properties": {"name": {"type": "string", "example": "Landlord"}}}, "hasPersonalEntity": false}`)
	for _, r := range append(entityRoutes("/entities/Account"), entityRoutes("/banks/"+bank+"/entities/Payee")...) {
		want[r] = true
	}

	checkDescribed(t, inst, want)

	gone := "ob-uk-v3.1.7-swagger2/confirmation-funds-swagger.json"
	if r := inst.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+docIDs[gone]); r.Status != http.StatusNoContent {
		t.Fatalf("delete %s: %d %s", gone, r.Status, r.Body)
	}
	if r := inst.Admin().Delete(t, "/admin/v1/banks/"+bank+"/dynamic-entities/"+payee); r.Status != http.StatusNoContent {
		t.Fatalf("delete Payee: %d %s", r.Status, r.Body)
	}
	for _, r := range append(docRoutes[gone], entityRoutes("/banks/"+bank+"/entities/Payee")...) {
		delete(want, r)
	}
	checkDescribed(t, inst, want)
}

// fixedRoutes are the routes of the edge's route table, as "METHOD
// template".
func fixedRoutes(inst *enginetest.Engine) map[string]bool {
	out := map[string]bool{}
	for _, r := range inst.Server.Routes() {
		if r.Doc.Page {
			continue // a browser page, not described
		}
		out[r.Method+" "+r.Template()] = true
	}
	return out
}

// checkDescribed checks that /openapi.json describes the routes in want
// and no other, and that each route described is served. Routes are
// compared by method and path template, whatever their parameters' names
// (OpenAPI describes one of two templates that differ only in them).
func checkDescribed(t *testing.T, inst *enginetest.Engine, want map[string]bool) {
	t.Helper()
	doc, _ := loadOpenAPI(t, inst)
	wanted := map[string]string{}
	for route := range want {
		wanted[shape(route)] = route
	}
	got := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := method + " " + path
			got[shape(route)] = true
			if _, ok := wanted[shape(route)]; !ok {
				t.Errorf("%s is described but not served", route)
			}
			r := inst.Anonymous().Send(t, enginetest.Request{Method: method, Path: withParams(path)})
			if r.Status == http.StatusNotFound && isProblem(r) && isNoRoute(r.Problem(t).Message) {
				t.Errorf("%s is described but answers %s", route, r.Body)
			}
			if public := op.Security != nil && len(*op.Security) == 0; !public && r.Status != http.StatusUnauthorized {
				t.Errorf("%s needs credentials but answers %d %s", route, r.Status, r.Body)
			}
		}
	}
	for _, route := range slices.Sorted(maps.Keys(want)) {
		if !got[shape(route)] {
			t.Errorf("%s is served but not described", route)
		}
	}
}

// shape is a route with a value in each parameter, the same for two
// templates that differ only in their parameters' names.
func shape(route string) string { return withParams(route) }

// isProblem reports whether an answer is a problem+json (a route may
// answer an HTML page instead).
func isProblem(r enginetest.Response) bool {
	return r.Header.Get("Content-Type") == server.MIMEProblemJSON
}

// withParams puts a value in each parameter of a path template.
func withParams(tmpl string) string {
	segs := strings.Split(tmpl, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "p1"
		}
	}
	return strings.Join(segs, "/")
}

// isNoRoute reports whether a 404's message says that no route matched,
// rather than that what the route names does not exist.
func isNoRoute(message string) bool {
	return message == "no route matches this path" || message == "no operation is served at this path"
}

// BenchmarkOpenAPI measures GET /openapi.json with the UK Open Banking
// v4.0 account-information document (565 kB) and the museum API served
// beside the banking core and an entity.
func BenchmarkOpenAPI(b *testing.B) {
	inst := enginetest.New(b)
	for _, file := range []string{"ob-uk-v4.0/account-info-openapi.yaml", "redocly-museum-oas31/openapi.yaml"} {
		inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(b, filepath.Join(testpaths.Shared("specs"), file)))
	}
	inst.CreateEntity(b, "/admin/v1/dynamic-entities", accountEntityDef)
	b.ReportAllocs()
	for b.Loop() {
		if r := inst.Admin().Get(b, "/openapi.json"); r.Status != http.StatusOK {
			b.Fatalf("GET /openapi.json: %d", r.Status)
		}
	}
}

// TestOpenAPIDescribesConsentChecks: an operation of a document bound to a
// consent profile that is called under a consent is described with the
// consent it needs, not a role; the consent resources keep their role.
func TestOpenAPIDescribesConsentChecks(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "ob-uk-v4.0/account-info-openapi.yaml")))
	doc, _ := loadOpenAPI(t, inst)
	for _, tc := range []struct {
		method, path string
		consent      string // x-dynapi-consent, as JSON; "" for none
		role         bool
	}{
		{"GET", "/open-banking/v4.0/aisp/accounts/{AccountId}/balances", `{"account_param":"AccountId","any_of":["ReadBalances"],"profile":"uk-ob-v4.0-ais"}`, false},
		{"GET", "/open-banking/v4.0/aisp/accounts", `{"any_of":["ReadAccountsBasic","ReadAccountsDetail"],"profile":"uk-ob-v4.0-ais"}`, false},
		{"POST", "/open-banking/v4.0/aisp/account-access-consents", "", true},
	} {
		op := doc.Paths.Find(tc.path).GetOperation(tc.method)
		got, _ := json.Marshal(op.Extensions["x-dynapi-consent"])
		if op.Extensions["x-dynapi-consent"] == nil {
			got = nil
		}
		if string(got) != tc.consent || (op.Extensions["x-dynapi-roles"] != nil) != tc.role {
			t.Errorf("%s %s: x-dynapi-consent %s, x-dynapi-roles %v", tc.method, tc.path, got, op.Extensions["x-dynapi-roles"])
		}
	}
}
