package admin_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// unauthorized checks a 401 is a problem asking for credentials.
func unauthorized(t *testing.T, r enginetest.Response) {
	t.Helper()
	if p := r.Problem(t); p.Code != "unauthorized" || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("problem %+v, WWW-Authenticate %q", p, r.Header.Get("WWW-Authenticate"))
	}
}

func TestManagementAuth(t *testing.T) {
	e := enginetest.New(t)
	list := enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/dynamic-endpoints"}
	refused := func(name string, c enginetest.Caller) enginetest.Scenario {
		return enginetest.Scenario{Name: name, Caller: c, Request: list, WantStatus: 401, WantProblem: "unauthorized", Check: unauthorized}
	}
	inDirectLoginHeader := list
	inDirectLoginHeader.Header = map[string]string{"DirectLogin": `token="` + e.AdminToken() + `"`}
	e.Run(t,
		refused("no credentials", e.Anonymous()),
		refused("unknown scheme", e.WithAuthorization("Basic YWRtaW46YWRtaW4=")),
		refused("unknown token", e.WithAuthorization(enginetest.DirectLogin("nope"))),
		refused("unknown bearer", e.WithAuthorization("Bearer nope")),
		enginetest.Scenario{Name: "admin token in Authorization", Caller: e.Admin(), Request: list, WantStatus: 200},
		enginetest.Scenario{Name: "admin token in DirectLogin", Caller: e.Anonymous(), Request: inDirectLoginHeader, WantStatus: 200},
	)
}

func TestDynamicEndpointLifecycle(t *testing.T) {
	e := enginetest.New(t)
	admin := e.Admin()
	petstore := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml"))
	created := admin.MustCreate(t, "/admin/v1/dynamic-endpoints", petstore)
	id := created["dynamic_endpoint_id"].(string)
	if created["mount"] != "/v1" || created["title"] != "Swagger Petstore" || created["host"] != "obp_mock" {
		t.Fatalf("unexpected 201: %v", created)
	}
	ops := created["operations"].([]any)
	first := ops[0].(map[string]any)
	if first["served_path"] != "/v1/pets" || first["role"] != "CanGetDynamicEndpoint_listPets" {
		t.Errorf("operation %v", first)
	}
	warned := false
	for _, w := range created["warnings"].([]any) {
		if strings.Contains(w.(map[string]any)["message"].(string), "petstore.swagger.io") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning that petstore.swagger.io is not called: %v", created["warnings"])
	}

	if r := admin.Get(t, "/v1/pets"); r.Status != 200 {
		t.Fatalf("served operation: %d %s", r.Status, r.Body)
	}
	list := admin.Get(t, "/admin/v1/dynamic-endpoints").JSON(t)
	if n := len(list["dynamic_endpoints"].([]any)); n != 1 {
		t.Fatalf("list has %d endpoints", n)
	}
	got := admin.Get(t, "/admin/v1/dynamic-endpoints/"+id).JSON(t)
	if doc, ok := got["document"].(map[string]any); !ok || doc["openapi"] != "3.0.0" {
		t.Errorf("GET one does not return the document as JSON: %v", got["document"])
	}
	raw := admin.Get(t, "/admin/v1/dynamic-endpoints/"+id+"/document")
	if string(raw.Body) != string(petstore) {
		t.Errorf("the stored document is not byte for byte the submitted one")
	}

	setHost := func(host string) enginetest.Request {
		return enginetest.JSONRequest(t, http.MethodPut, "/admin/v1/dynamic-endpoints/"+id+"/host", map[string]string{"host": host})
	}
	get := func(path string) enginetest.Request { return enginetest.Request{Method: http.MethodGet, Path: path} }
	e.Run(t,
		enginetest.Scenario{Name: "host/unknown", Caller: admin, Request: setHost("nowhere"), WantStatus: 400,
			Check: func(t *testing.T, r enginetest.Response) {
				if !strings.Contains(r.Problem(t).Message, "obp_mock") {
					t.Fatalf("unknown host must name the known ones: %s", r.Body)
				}
			}},
		enginetest.Scenario{Name: "host/set", Caller: admin, Request: setHost("obp_mock"), WantStatus: 200,
			WantAudit: []enginetest.Audit{{Action: "dynamic_endpoint.set_host", Target: id}},
			Check: func(t *testing.T, r enginetest.Response) {
				if r.JSON(t)["host"] != "obp_mock" {
					t.Fatalf("set host: %s", r.Body)
				}
			}},
		enginetest.Scenario{Name: "delete", Caller: admin,
			Request: enginetest.Request{Method: http.MethodDelete, Path: "/admin/v1/dynamic-endpoints/" + id}, WantStatus: 204,
			WantAudit: []enginetest.Audit{{Action: "dynamic_endpoint.delete", Target: id}}},
		enginetest.Scenario{Name: "deleted routes do not answer", Caller: admin, Request: get("/v1/pets"), WantStatus: 404},
		enginetest.Scenario{Name: "deleted endpoint", Caller: admin, Request: get("/admin/v1/dynamic-endpoints/" + id),
			WantStatus: 404, WantProblem: "not_found"},
	)
}

// endpointCount is how many endpoints a list answer holds.
func endpointCount(t testing.TB, r enginetest.Response) int {
	t.Helper()
	return len(r.JSON(t)["dynamic_endpoints"].([]any))
}

func TestMountsAndConflicts(t *testing.T) {
	e := enginetest.New(t)
	admin := e.Admin()
	petstore := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml"))
	swagger := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-swagger2/petstore.json"))
	a := admin.MustCreate(t, "/admin/v1/dynamic-endpoints", petstore)

	e.Run(t, enginetest.Scenario{Name: "two petstores on /v1", Caller: admin,
		Request:    enginetest.JSONRequest(t, http.MethodPost, "/admin/v1/dynamic-endpoints", swagger),
		WantStatus: http.StatusConflict, WantProblem: "route_conflict",
		Check: func(t *testing.T, r enginetest.Response) {
			if p := r.Problem(t); !strings.Contains(p.Message, a["dynamic_endpoint_id"].(string)) || !strings.Contains(p.Message, "/v1/pets") {
				t.Errorf("the conflict must name both documents and the route: %s", p.Message)
			}
		}})
	if n := endpointCount(t, admin.Get(t, "/admin/v1/dynamic-endpoints")); n != 1 {
		t.Fatalf("a refused document changed the list: %d endpoints", n)
	}

	b := admin.MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/v1-swagger", swagger)
	if b["mount"] != "/v1-swagger" {
		t.Fatalf("mount override ignored: %v", b["mount"])
	}
	for _, path := range []string{"/v1/pets", "/v1-swagger/pets", "/v1-swagger/pets/12"} {
		if r := admin.Get(t, path); r.Status != 200 {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	root := admin.MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore-expanded.yaml")))
	if root["mount"] != "/" {
		t.Errorf("root mount shown as %v", root["mount"])
	}
	if r := admin.Get(t, "/pets"); r.Status != 200 {
		t.Errorf("root-mounted operation: %d %s", r.Status, r.Body)
	}
	for _, mount := range []string{"/admin/v1", "/my", "/entities"} {
		e.Run(t, enginetest.Scenario{Name: "reserved mount " + mount, Caller: admin,
			Request:    enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/dynamic-endpoints?mount=" + mount, Body: swagger},
			WantStatus: http.StatusConflict,
			Check: func(t *testing.T, r enginetest.Response) {
				if !enginetest.HasViolation(r.Problem(t), "document", "*", "reserved") {
					t.Errorf("mount %s: %s", mount, r.Body)
				}
			}})
	}
}

func TestBankLevelEndpoints(t *testing.T) {
	e := enginetest.New(t)
	admin := e.Admin()
	adminID := admin.Get(t, "/my/user").JSON(t)["user_id"].(string)
	for _, bank := range []string{"gh.29.uk", "de.bank.1"} {
		e.CreateBank(t, bank)
		// Bank roles are granted per bank, to the super admin too (as in OBP).
		e.Grant(t, adminID, bank, "CanCreateBankLevelDynamicEndpoint")
		e.Grant(t, adminID, bank, "CanGetBankLevelDynamicEndpoints")
	}
	doc := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "obp-dynamic-endpoint/dynamicEndpointSwagger.json"))
	for _, bank := range []string{"gh.29.uk", "de.bank.1"} {
		created := admin.MustCreate(t, "/admin/v1/banks/"+bank+"/dynamic-endpoints", doc)
		if created["bank_id"] != bank {
			t.Errorf("bank id %v", created["bank_id"])
		}
		served := created["operations"].([]any)[0].(map[string]any)["served_path"].(string)
		if !strings.HasPrefix(served, "/banks/"+bank+"/dynamic-endpoint/") {
			t.Errorf("served path %s", served)
		}
	}
	get := func(path string) enginetest.Request { return enginetest.Request{Method: http.MethodGet, Path: path} }
	count := func(n int) func(t *testing.T, r enginetest.Response) {
		return func(t *testing.T, r enginetest.Response) {
			if got := endpointCount(t, r); got != n {
				t.Errorf("the list shows %d endpoints, want %d", got, n)
			}
		}
	}
	e.Run(t,
		enginetest.Scenario{Name: "bank-level operation", Caller: admin, Request: get("/banks/gh.29.uk/dynamic-endpoint/accounts/abc"), WantStatus: 200},
		enginetest.Scenario{Name: "not served at system level", Caller: admin, Request: get("/dynamic-endpoint/accounts/abc"), WantStatus: 404},
		enginetest.Scenario{Name: "system list shows no bank-level endpoint", Caller: admin, Request: get("/admin/v1/dynamic-endpoints"),
			WantStatus: 200, Check: count(0)},
		enginetest.Scenario{Name: "bank list", Caller: admin, Request: get("/admin/v1/banks/gh.29.uk/dynamic-endpoints"),
			WantStatus: 200, Check: count(1)},
		enginetest.Scenario{Name: "bank that cannot exist", Caller: admin,
			Request: enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/banks/bad%20bank/dynamic-endpoints", Body: doc}, WantStatus: 404},
	)
}

// TestRefusedDocuments checks that what cannot be served is refused with a
// problem naming where, and nothing is stored.
func TestRefusedDocuments(t *testing.T) {
	e := enginetest.New(t)
	cases := []struct {
		name, doc, code, pointer string
		status                   int
	}{
		{"not JSON or YAML", "{\"openapi\": ", "invalid_document", "", 400},
		{"no version", `{"info": {"title": "x"}, "paths": {}}`, "invalid_document", "", 400},
		{"unsupported version", `{"openapi": "4.0.0", "paths": {}}`, "invalid_document", "", 400},
		{"unresolved local ref", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"$ref":"#/components/responses/Nope"}}}}}}`, "unresolved_ref", "/paths/~1a/get/responses/200/$ref", 400},
		{"external ref", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"other.json#/A"}}}}}}}}}`, "unresolved_ref", "/paths/~1a/get/responses/200/content/application~1json/schema/$ref", 400},
		{"duplicate route in one document", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a/{x}":{"get":{"responses":{"200":{"description":"d"}}}},"/a/{y}":{"get":{"responses":{"200":{"description":"d"}}}}}}`, "route_conflict", "", 409},
		{"bad schema", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"nonsense"}}}},"responses":{"200":{"description":"d"}}}}}}`, "invalid_document", "/paths/~1a/post/requestBody/content/application~1json/schema", 400},
	}
	var scenarios []enginetest.Scenario
	for _, tc := range cases {
		scenarios = append(scenarios, enginetest.Scenario{Name: tc.name, Caller: e.Admin(),
			Request:    enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/dynamic-endpoints", Body: []byte(tc.doc)},
			WantStatus: tc.status, WantProblem: tc.code,
			Check: func(t *testing.T, r enginetest.Response) {
				if tc.pointer != "" && !enginetest.HasViolation(r.Problem(t), "document", tc.pointer, "*") {
					t.Errorf("no violation at %s: %s", tc.pointer, r.Body)
				}
				if strings.Contains(string(r.Body), "/tmp") || strings.Contains(string(r.Body), "file://") {
					t.Errorf("a file path leaked: %s", r.Body)
				}
			}})
	}
	e.Run(t, scenarios...)
	if n := endpointCount(t, e.Admin().Get(t, "/admin/v1/dynamic-endpoints")); n != 0 {
		t.Fatalf("refused documents were stored: %d", n)
	}
}

func TestTolerated(t *testing.T) {
	e := enginetest.New(t)
	created := e.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "ob-uk-v3.1.7-swagger2/events-swagger.json")))
	var codes []string
	for _, w := range created["warnings"].([]any) {
		codes = append(codes, w.(map[string]any)["code"].(string))
	}
	if !strings.Contains(strings.Join(codes, " "), "ref_missing_hash") {
		t.Errorf("the ref missing its '#' was not reported: %v", codes)
	}
	created = e.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "ob-uk-v4.0/payment-initiation-openapi.yaml")))
	if !strings.Contains(string(enginetest.MustJSON(t, created["warnings"])), "enum_duplicate") {
		t.Errorf("duplicate enum values were not reported")
	}
}

func TestLimitsAndCorrelation(t *testing.T) {
	e := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.MaxBodyBytes, c.MaxDocumentBytes = 64, 4096 }))
	admin := e.Admin()
	admin.MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, testpaths.Root("http", "server", "testdata", "validation-31.yaml")))

	big := `{"kind":"thing","size":1,"label":"` + strings.Repeat("x", 100) + `"}`
	correlated := func(t *testing.T, r enginetest.Response) {
		if r.Problem(t).CorrelationID == "" {
			t.Errorf("no correlation id: %s", r.Body)
		}
	}
	e.Run(t,
		enginetest.Scenario{Name: "body over the limit", Caller: admin, Request: enginetest.JSONRequest(t, http.MethodPost, "/v31/things", big),
			WantStatus: 413, WantProblem: "payload_too_large"},
		// A document over every limit is refused by the HTTP layer before
		// any handler runs, so this one goes over a real connection.
		enginetest.Scenario{Name: "document over the limit", Caller: admin.Loopback(),
			Request: enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/dynamic-endpoints",
				Body: enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "swagger-petstore3/openapi.yaml"))},
			WantStatus: 413, WantProblem: "payload_too_large", Check: correlated},
		enginetest.Scenario{Name: "the caller's correlation id is echoed", Caller: admin,
			Request:    enginetest.Request{Method: http.MethodGet, Path: "/nowhere", Header: map[string]string{"X-Correlation-Id": "abc-123"}},
			WantStatus: 404,
			Check: func(t *testing.T, r enginetest.Response) {
				if r.Header.Get("X-Correlation-Id") != "abc-123" || r.Problem(t).CorrelationID != "abc-123" {
					t.Errorf("the caller's correlation id is not echoed: %q", r.Header.Get("X-Correlation-Id"))
				}
			}},
	)
	a := admin.Get(t, "/healthz").Header.Get("X-Correlation-Id")
	b := admin.Get(t, "/healthz").Header.Get("X-Correlation-Id")
	if a == "" || a == b {
		t.Errorf("generated correlation ids %q and %q", a, b)
	}
}
