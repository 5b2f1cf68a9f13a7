package instance_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine/instance"
)

func TestManagementAuth(t *testing.T) {
	inst := open(t, "")
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no credentials", nil, 401},
		{"unknown scheme", map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}, 401},
		{"unknown token", map[string]string{"Authorization": directLogin("nope")}, 401},
		{"unknown bearer", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"admin token in Authorization", map[string]string{"Authorization": directLogin(adminToken(t, inst))}, 200},
		{"admin token in DirectLogin", map[string]string{"DirectLogin": `token="` + adminToken(t, inst) + `"`}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints", headers: tc.headers, anonymous: tc.headers == nil})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 401 {
				if p := r.problem(t); p.Code != "unauthorized" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("problem %+v, WWW-Authenticate %q", p, r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// TestBootstrapPrintedOnce checks that a first start without configured
// credentials prints a generated admin password and consumer once, that
// they work, and that later starts print nothing.
func TestBootstrapPrintedOnce(t *testing.T) {
	dir := t.TempDir()
	var first, second strings.Builder
	for _, out := range []*strings.Builder{&first, &second} {
		inst, err := instance.Open(context.Background(), instance.Config{DataDir: dir, Out: out})
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if second.Len() != 0 {
		t.Fatalf("second start printed %q", second.String())
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `:\s+(\S+)$`).FindStringSubmatch(first.String())
		if m == nil {
			t.Fatalf("first start did not print %s: %q", name, first.String())
		}
		return m[1]
	}
	password, key := field("password"), field("consumer_key")
	field("consumer_secret")
	inst, err := instance.Open(context.Background(), instance.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	r := do(t, inst, request{method: "POST", path: "/my/logins/direct", anonymous: true, headers: map[string]string{
		"DirectLogin": `username="admin", password="` + password + `", consumer_key="` + key + `"`}})
	if r.status != http.StatusCreated {
		t.Fatalf("the printed credentials do not log in: %d %s", r.status, r.body)
	}
}

func TestDynamicEndpointLifecycle(t *testing.T) {
	inst := open(t, "")
	petstore := readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore.yaml"))
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", petstore)
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

	if r := do(t, inst, request{method: "GET", path: "/v1/pets"}); r.status != 200 {
		t.Fatalf("served operation: %d %s", r.status, r.body)
	}
	list := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints"}).json(t)
	if n := len(list["dynamic_endpoints"].([]any)); n != 1 {
		t.Fatalf("list has %d endpoints", n)
	}
	got := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints/" + id}).json(t)
	if doc, ok := got["document"].(map[string]any); !ok || doc["openapi"] != "3.0.0" {
		t.Errorf("GET one does not return the document as JSON: %v", got["document"])
	}
	raw := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints/" + id + "/document"})
	if string(raw.body) != string(petstore) {
		t.Errorf("the stored document is not byte for byte the submitted one")
	}

	t.Run("host", func(t *testing.T) {
		r := do(t, inst, request{method: "PUT", path: "/admin/v1/dynamic-endpoints/" + id + "/host",
			headers: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"host":"nowhere"}`)})
		if r.status != 400 || !contains(r.problem(t).Message, "obp_mock") {
			t.Fatalf("unknown host: %d %s", r.status, r.body)
		}
		r = do(t, inst, request{method: "PUT", path: "/admin/v1/dynamic-endpoints/" + id + "/host",
			headers: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"host":"obp_mock"}`)})
		if r.status != 200 || r.json(t)["host"] != "obp_mock" {
			t.Fatalf("set host: %d %s", r.status, r.body)
		}
	})

	if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/dynamic-endpoints/" + id}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "GET", path: "/v1/pets"}); r.status != 404 {
		t.Fatalf("deleted routes still answer: %d", r.status)
	}
	if r := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints/" + id}); r.status != 404 || r.problem(t).Code != "not_found" {
		t.Fatalf("deleted endpoint: %d %s", r.status, r.body)
	}
}

func TestMountsAndConflicts(t *testing.T) {
	inst := open(t, "")
	petstore := readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore.yaml"))
	swagger := readFile(t, filepath.Join(sharedSpecs, "petstore-swagger2/petstore.json"))
	a := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", petstore)

	r := postDocument(t, inst, "/admin/v1/dynamic-endpoints", swagger, "application/json")
	if r.status != http.StatusConflict {
		t.Fatalf("two petstores on /v1: %d %s", r.status, r.body)
	}
	p := r.problem(t)
	if p.Code != "route_conflict" || !contains(p.Message, a["dynamic_endpoint_id"].(string)) || !contains(p.Message, "/v1/pets") {
		t.Errorf("the conflict must name both documents and the route: %s", p.Message)
	}
	list := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints"}).json(t)
	if n := len(list["dynamic_endpoints"].([]any)); n != 1 {
		t.Fatalf("a refused document changed the list: %d endpoints", n)
	}

	b := mustCreate(t, inst, "/admin/v1/dynamic-endpoints?mount=/v1-swagger", swagger)
	if b["mount"] != "/v1-swagger" {
		t.Fatalf("mount override ignored: %v", b["mount"])
	}
	for _, path := range []string{"/v1/pets", "/v1-swagger/pets", "/v1-swagger/pets/12"} {
		if r := do(t, inst, request{method: "GET", path: path}); r.status != 200 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	root := mustCreate(t, inst, "/admin/v1/dynamic-endpoints?mount=/", readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore-expanded.yaml")))
	if root["mount"] != "/" {
		t.Errorf("root mount shown as %v", root["mount"])
	}
	if r := do(t, inst, request{method: "GET", path: "/pets"}); r.status != 200 {
		t.Errorf("root-mounted operation: %d %s", r.status, r.body)
	}
	for _, mount := range []string{"/admin/v1", "/my", "/entities"} {
		r := postDocument(t, inst, "/admin/v1/dynamic-endpoints?mount="+mount, swagger, "")
		if r.status != http.StatusConflict || !hasViolation(r.problem(t), "document", "*", "reserved") {
			t.Errorf("mount %s: %d %s", mount, r.status, r.body)
		}
	}
}

func TestBankLevelEndpoints(t *testing.T) {
	inst := open(t, "")
	adminID := do(t, inst, request{method: "GET", path: "/my/user"}).json(t)["user_id"].(string)
	for _, bank := range []string{"gh.29.uk", "de.bank.1"} {
		createBank(t, inst, bank)
		// Bank roles are granted per bank, to the super admin too (as in OBP).
		grant(t, inst, adminID, bank, "CanCreateBankLevelDynamicEndpoint")
		grant(t, inst, adminID, bank, "CanGetBankLevelDynamicEndpoints")
	}
	doc := readFile(t, filepath.Join(sharedSpecs, "obp-dynamic-endpoint/dynamicEndpointSwagger.json"))
	for _, bank := range []string{"gh.29.uk", "de.bank.1"} {
		created := mustCreate(t, inst, "/admin/v1/banks/"+bank+"/dynamic-endpoints", doc)
		if created["bank_id"] != bank {
			t.Errorf("bank id %v", created["bank_id"])
		}
		served := created["operations"].([]any)[0].(map[string]any)["served_path"].(string)
		if !strings.HasPrefix(served, "/banks/"+bank+"/dynamic-endpoint/") {
			t.Errorf("served path %s", served)
		}
	}
	if r := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/dynamic-endpoint/accounts/abc"}); r.status != 200 {
		t.Errorf("bank-level operation: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "GET", path: "/dynamic-endpoint/accounts/abc"}); r.status != 404 {
		t.Errorf("bank-level operation served at system level: %d", r.status)
	}
	if n := len(do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints"}).json(t)["dynamic_endpoints"].([]any)); n != 0 {
		t.Errorf("system list shows %d bank-level endpoints", n)
	}
	if n := len(do(t, inst, request{method: "GET", path: "/admin/v1/banks/gh.29.uk/dynamic-endpoints"}).json(t)["dynamic_endpoints"].([]any)); n != 1 {
		t.Errorf("bank list shows %d endpoints", n)
	}
	if r := postDocument(t, inst, "/admin/v1/banks/bad%20bank/dynamic-endpoints", doc, ""); r.status != 404 {
		t.Errorf("bank that cannot exist: %d %s", r.status, r.body)
	}
}

// TestRefusedDocuments checks that what cannot be served is refused with a
// problem naming where, and nothing is stored.
func TestRefusedDocuments(t *testing.T) {
	inst := open(t, "")
	cases := []struct {
		name, doc, code, pointer string
	}{
		{"not JSON or YAML", "{\"openapi\": ", "invalid_document", ""},
		{"no version", `{"info": {"title": "x"}, "paths": {}}`, "invalid_document", ""},
		{"unsupported version", `{"openapi": "4.0.0", "paths": {}}`, "invalid_document", ""},
		{"unresolved local ref", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"$ref":"#/components/responses/Nope"}}}}}}`, "unresolved_ref", "/paths/~1a/get/responses/200/$ref"},
		{"external ref", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"other.json#/A"}}}}}}}}}`, "unresolved_ref", "/paths/~1a/get/responses/200/content/application~1json/schema/$ref"},
		{"duplicate route in one document", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a/{x}":{"get":{"responses":{"200":{"description":"d"}}}},"/a/{y}":{"get":{"responses":{"200":{"description":"d"}}}}}}`, "route_conflict", ""},
		{"bad schema", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"nonsense"}}}},"responses":{"200":{"description":"d"}}}}}}`, "invalid_document", "/paths/~1a/post/requestBody/content/application~1json/schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := postDocument(t, inst, "/admin/v1/dynamic-endpoints", []byte(tc.doc), "")
			if r.status < 400 || r.status >= 500 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			p := r.problem(t)
			if p.Code != tc.code {
				t.Fatalf("code %q, want %q: %s", p.Code, tc.code, r.body)
			}
			if tc.pointer != "" && !hasViolation(p, "document", tc.pointer, "*") {
				t.Errorf("no violation at %s: %s", tc.pointer, r.body)
			}
			if strings.Contains(string(r.body), "/tmp") || strings.Contains(string(r.body), "file://") {
				t.Errorf("a file path leaked: %s", r.body)
			}
		})
	}
	list := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints"}).json(t)
	if n := len(list["dynamic_endpoints"].([]any)); n != 0 {
		t.Fatalf("refused documents were stored: %d", n)
	}
}

func TestTolerated(t *testing.T) {
	inst := open(t, "")
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, filepath.Join(sharedSpecs, "ob-uk-v3.1.7-swagger2/events-swagger.json")))
	var codes []string
	for _, w := range created["warnings"].([]any) {
		codes = append(codes, w.(map[string]any)["code"].(string))
	}
	if !strings.Contains(strings.Join(codes, " "), "ref_missing_hash") {
		t.Errorf("the ref missing its '#' was not reported: %v", codes)
	}
	created = mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, filepath.Join(sharedSpecs, "ob-uk-v4.0/payment-initiation-openapi.yaml")))
	if !strings.Contains(string(mustJSON(t, created["warnings"])), "enum_duplicate") {
		t.Errorf("duplicate enum values were not reported")
	}
}

func TestLimitsAndCorrelation(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.MaxBodyBytes, cfg.MaxDocumentBytes = 64, 4096
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/validation-31.yaml"))

	big := []byte(`{"kind":"thing","size":1,"label":"` + strings.Repeat("x", 100) + `"}`)
	r := do(t, inst, request{method: "POST", path: "/v31/things", body: big, headers: map[string]string{"Content-Type": "application/json"}})
	if r.status != 413 || r.problem(t).Code != "payload_too_large" {
		t.Errorf("body over the limit: %d %s", r.status, r.body)
	}
	// A document over every limit is refused by the HTTP layer before any
	// handler runs, so this one goes over a real connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go inst.Server.Serve(ln)
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/admin/v1/dynamic-endpoints",
		bytes.NewReader(readFile(t, filepath.Join(sharedSpecs, "swagger-petstore3/openapi.yaml"))))
	req.Header.Set("Authorization", directLogin(adminToken(t, inst)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r = response{status: resp.StatusCode, header: resp.Header, body: body}
	if r.status != 413 || r.problem(t).Code != "payload_too_large" || r.problem(t).CorrelationID == "" {
		t.Errorf("document over the limit: %d %s", r.status, r.body)
	}
	r = do(t, inst, request{method: "GET", path: "/nowhere", headers: map[string]string{"X-Correlation-Id": "abc-123"}})
	if r.header.Get("X-Correlation-Id") != "abc-123" || r.problem(t).CorrelationID != "abc-123" {
		t.Errorf("the caller's correlation id is not echoed: %q", r.header.Get("X-Correlation-Id"))
	}
	a := do(t, inst, request{method: "GET", path: "/healthz"}).header.Get("X-Correlation-Id")
	b := do(t, inst, request{method: "GET", path: "/healthz"}).header.Get("X-Correlation-Id")
	if a == "" || a == b {
		t.Errorf("generated correlation ids %q and %q", a, b)
	}
}

// TestRestart checks that documents persist: posted, stopped, started on the
// same data directory, still served.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	inst := openWith(t, testConfig(dir))
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints?mount=/restart", readFile(t, filepath.Join(sharedSpecs, "ob-uk-v4.0/account-info-openapi.yaml")))
	closeInstance(t, inst)

	inst = open(t, dir)
	r := do(t, inst, request{method: "GET", path: "/restart/accounts", headers: map[string]string{"x-fapi-auth-date": "Sun, 10 Sep 2017 19:43:31 UTC"}})
	if r.status != 200 {
		t.Fatalf("after restart: %d %s", r.status, r.body)
	}
	got := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints/" + created["dynamic_endpoint_id"].(string)})
	if got.status != 200 || got.json(t)["mount"] != "/restart" {
		t.Fatalf("endpoint after restart: %d %s", got.status, got.body)
	}
}

func TestExamplePreloadedOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.PreloadExample = true
	inst := openWith(t, cfg)
	r := do(t, inst, request{method: "GET", path: "/example/v1/accounts"})
	if r.status != 200 || !contains(string(r.body), "GB33BUKB20201555555555") {
		t.Fatalf("example: %d %s", r.status, r.body)
	}
	id := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints"}).json(t)["dynamic_endpoints"].([]any)[0].(map[string]any)["dynamic_endpoint_id"].(string)
	if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/dynamic-endpoints/" + id}); r.status != 204 {
		t.Fatal(r.status)
	}
	closeInstance(t, inst)
	inst = openWith(t, cfg)
	defer closeInstance(t, inst)
	if r := do(t, inst, request{method: "GET", path: "/example/v1/accounts"}); r.status != 404 {
		t.Fatalf("a deleted example came back: %d", r.status)
	}
}
