package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// documentWith is a one-operation OpenAPI document served at mount whose
// GET /balance has operationId id.
func documentWith(mount, id string) []byte {
	return fmt.Appendf(nil, `{"openapi":"3.0.3","info":{"title":"%s","version":"1"},"servers":[{"url":"%s"}],
	  "paths":{"/balance":{"get":{"operationId":"%s","responses":{"200":{"description":"ok",
	    "content":{"application/json":{"example":{"balance":"1000000.00"}}}}}}}}}`, mount, mount, id)
}

// generatedDocument is an OpenAPI document of n GET operations at mount.
func generatedDocument(mount string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"openapi":"3.0.3","info":{"title":"generated","version":"1"},"servers":[{"url":"%s"}],"paths":{`, mount)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"/r%d/{id}":{"get":{"operationId":"gen%d","parameters":[{"name":"id","in":"path","required":true,
		  "schema":{"type":"string","maxLength":10}}],"responses":{"200":{"description":"ok"}}}}`, i, i)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// roleOf is the role a created document's first operation requires.
func roleOf(t testing.TB, created map[string]any) string {
	t.Helper()
	role, _ := created["operations"].([]any)[0].(map[string]any)["role"].(string)
	if role == "" {
		t.Fatalf("no role in %v", created["operations"])
	}
	return role
}

// userWith creates a user holding roles system wide and logs it in.
func userWith(t testing.TB, inst *enginetest.Engine, name string, roles ...string) (id, token string) {
	t.Helper()
	password := "Passw0rd-of-" + name
	id = inst.CreateUser(t, name, password).ID
	for _, role := range roles {
		inst.Grant(t, id, "", role)
	}
	return id, inst.Login(t, name, password)
}

// TestHardeningDocsRolesArePerDocument: a user who may only create
// documents posts one reusing another document's operationId, and must
// not be let into the other document's operation.
func TestHardeningDocsRolesArePerDocument(t *testing.T) {
	inst := enginetest.New(t)
	first := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", documentWith("/treasury", "getBalance"))
	firstRole := roleOf(t, first)
	if firstRole != "CanGetDynamicEndpoint_getBalance" {
		t.Fatalf("the first document's role is %s, want the predictable name", firstRole)
	}

	_, mallory := userWith(t, inst, "mallory", "CanCreateDynamicEndpoint")
	r := inst.Token(mallory).Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-endpoints", Header: enginetest.JSONHeader(),
		Body: documentWith("/mallory", "getBalance")})
	if r.Status != http.StatusCreated {
		t.Fatalf("mallory's document: %d %s", r.Status, r.Body)
	}
	malloryRole := roleOf(t, r.JSON(t))
	if malloryRole == firstRole || !strings.HasPrefix(malloryRole, firstRole+"_") {
		t.Fatalf("mallory's document got role %s, want its own name after %s", malloryRole, firstRole)
	}

	cases := []struct {
		name, path string
		status     int
	}{
		{"the other document's operation is closed to mallory", "/treasury/balance", http.StatusForbidden},
		{"mallory's own operation is open to mallory", "/mallory/balance", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Token(mallory).Get(t, tc.path)
			if r.Status != tc.status {
				t.Fatalf("GET %s: %d %s", tc.path, r.Status, r.Body)
			}
		})
	}
	t.Run("a grant of one document's role opens that document only", func(t *testing.T) {
		_, carol := userWith(t, inst, "carol", malloryRole)
		if r := inst.Token(carol).Get(t, "/treasury/balance"); r.Status != http.StatusForbidden {
			t.Fatalf("carol, holding %s, reads the treasury: %d", malloryRole, r.Status)
		}
	})
}

// TestHardeningDocsBankDocumentCannotTakeSystemRoles: a bank-level
// document that uses an operationId first neither blocks a system document
// using it later nor shares its role with it.
func TestHardeningDocsBankDocumentCannotTakeSystemRoles(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateBank(t, "bank.one")
	bankAdminID, bankAdmin := userWith(t, inst, "bankadmin")
	inst.Grant(t, bankAdminID, "bank.one", "CanCreateBankLevelDynamicEndpoint")

	r := inst.Token(bankAdmin).Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/banks/bank.one/dynamic-endpoints", Header: enginetest.JSONHeader(),
		Body: documentWith("/statements", "getStatement")})
	if r.Status != http.StatusCreated {
		t.Fatalf("bank-level document: %d %s", r.Status, r.Body)
	}
	bankRole := roleOf(t, r.JSON(t))

	r = inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", documentWith("/statements", "getStatement"))
	if r.Status != http.StatusCreated {
		t.Fatalf("the system document using the same operationId: %d %s", r.Status, r.Body)
	}
	systemRole := roleOf(t, r.JSON(t))
	if systemRole == bankRole {
		t.Fatalf("the system document shares role %s with the bank's", systemRole)
	}
	if r := inst.Token(bankAdmin).Get(t, "/statements/balance"); r.Status != http.StatusForbidden {
		t.Fatalf("the bank's admin reads the system document's operation: %d %s", r.Status, r.Body)
	}
	if r := inst.Token(bankAdmin).Get(t, "/banks/bank.one/statements/balance"); r.Status != http.StatusOK {
		t.Fatalf("the bank's admin reads its own operation: %d %s", r.Status, r.Body)
	}
	// The same document at another bank gets a role of its own too.
	inst.CreateBank(t, "bank.two")
	adminID := inst.Admin().Get(t, "/my/user").JSON(t)["user_id"].(string)
	inst.Grant(t, adminID, "bank.two", "CanCreateBankLevelDynamicEndpoint")
	other := inst.Admin().MustCreate(t, "/admin/v1/banks/bank.two/dynamic-endpoints", documentWith("/statements", "getStatement"))
	if role := roleOf(t, other); role == bankRole || role == systemRole {
		t.Fatalf("the second bank's document shares role %s", role)
	}
}

// TestHardeningDocsRolesSurviveRestart: role names are stored with their
// documents, and documents stored before roles were per document keep
// the predictable names their grants use.
func TestHardeningDocsRolesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	first := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", documentWith("/treasury", "getBalance"))
	firstID, firstRole := first["dynamic_endpoint_id"].(string), roleOf(t, first)
	second := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", documentWith("/branch", "getBalance"))
	secondID, secondRole := second["dynamic_endpoint_id"].(string), roleOf(t, second)
	bobID := inst.CreateUser(t, "bob", "Bob-passw0rd-long").ID
	inst.Grant(t, bobID, "", firstRole)
	carolID := inst.CreateUser(t, "carol", "Carol-passw0rd-long").ID
	inst.Grant(t, carolID, "", secondRole)

	// The first document as stored before roles were per document: no
	// role names in its record.
	err := inst.Store.Update(context.Background(), func(tx engine.Tx) error {
		raw, err := tx.Get("dynamic_endpoints", firstID)
		if err != nil {
			return err
		}
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		if _, ok := rec["roles"]; !ok {
			return fmt.Errorf("the record keeps no role names: %s", raw)
		}
		delete(rec, "roles")
		raw, err = json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Put("dynamic_endpoints", firstID, raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	inst.Close(t)

	inst = enginetest.New(t, enginetest.InDir(dir))
	bob, carol := inst.Login(t, "bob", "Bob-passw0rd-long"), inst.Login(t, "carol", "Carol-passw0rd-long")
	cases := []struct {
		name, token, path string
		status            int
	}{
		{"the stored document's grantee still reads it", bob, "/treasury/balance", http.StatusOK},
		{"and not the other document", bob, "/branch/balance", http.StatusForbidden},
		{"the other document's grantee reads that one", carol, "/branch/balance", http.StatusOK},
		{"and not the stored one", carol, "/treasury/balance", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := inst.Token(tc.token).Get(t, tc.path); r.Status != tc.status {
				t.Fatalf("GET %s: %d %s", tc.path, r.Status, r.Body)
			}
		})
	}
	// Deleting the first document frees its name, but the second keeps the
	// name it was created with, and its grant.
	if r := inst.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+firstID); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	inst.Close(t)
	inst = enginetest.New(t, enginetest.InDir(dir))
	got := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints/"+secondID).JSON(t)
	if role := roleOf(t, got); role != secondRole {
		t.Fatalf("after a restart the second document's role is %s, was %s", role, secondRole)
	}
	carol = inst.Login(t, "carol", "Carol-passw0rd-long")
	if r := inst.Token(carol).Get(t, "/branch/balance"); r.Status != http.StatusOK {
		t.Fatalf("the grantee after a restart: %d %s", r.Status, r.Body)
	}
}

// memory is what the process has allocated in all and holds live.
type memory struct{ total, heap uint64 }

func measure() memory {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{total: m.TotalAlloc, heap: m.HeapAlloc}
}

// TestHardeningDocsYAMLAliasBomb: a few hundred bytes of nested aliases
// are refused with a 400 before they expand, and cost next to nothing.
func TestHardeningDocsYAMLAliasBomb(t *testing.T) {
	inst := enginetest.New(t)
	bomb := enginetest.ReadFile(t, filepath.Join("testdata", "alias-bomb.yaml"))
	cases := []struct {
		name, contentType string
		doc               []byte
		code              string
	}{
		{"billion laughs", "application/yaml", bomb, "yaml_expansion"},
		{"billion laughs sniffed", "", bomb, "yaml_expansion"},
		{"billion laughs through merge keys", "application/yaml", enginetest.ReadFile(t, filepath.Join("testdata", "alias-bomb-merge.yaml")), "yaml_expansion"},
		{"an alias in itself", "application/yaml", []byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-self: &s [*s]\n"), "too_deep"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := measure()
			r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-endpoints", Body: tc.doc, Header: map[string]string{"Content-Type": tc.contentType}})
			after := measure()
			if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "document", "*", tc.code) {
				t.Fatalf("status %d, want a 400 with a %s violation: %s", r.Status, tc.code, r.Body)
			}
			if allocated := after.total - before.total; allocated > 32<<20 {
				t.Errorf("refusing %d bytes allocated %d MiB", len(tc.doc), allocated>>20)
			}
			if after.heap > before.heap+8<<20 {
				t.Errorf("the heap grew from %d to %d MiB", before.heap>>20, after.heap>>20)
			}
		})
	}
	if n := len(inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any)); n != 0 {
		t.Fatalf("%d refused documents were stored", n)
	}
	t.Run("a few aliases are fine", func(t *testing.T) {
		doc := `openapi: 3.0.3
info: {title: anchors, version: "1"}
servers: [{url: /anchors}]
x-id: &id {name: id, in: path, required: true, schema: {type: string, maxLength: 8}}
paths:
  /a/{id}: {get: {operationId: anchoredA, parameters: [*id], responses: {"200": {description: ok}}}}
  /b/{id}: {get: {operationId: anchoredB, parameters: [*id], responses: {"200": {description: ok}}}}
`
		inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", []byte(doc))
		if r := inst.Admin().Get(t, "/anchors/b/toolongforit"); r.Status != http.StatusBadRequest {
			t.Fatalf("the aliased parameter is not applied: %d %s", r.Status, r.Body)
		}
	})
}

// TestHardeningDocsReferenceBomb: a few kilobytes of schemas whose every
// property refers to the next level stand for eight to the twelfth values;
// the mock answer built at submission and the message docs any logged-in
// user reads stay bounded instead of expanding them.
func TestHardeningDocsReferenceBomb(t *testing.T) {
	inst := enginetest.New(t)
	before := measure()
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "reference-bomb.json")))
	after := measure()
	if allocated := after.total - before.total; allocated > 128<<20 {
		t.Errorf("creating it allocated %d MiB", allocated>>20)
	}
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/references/x", Header: enginetest.JSONHeader(), Body: []byte(`{}`)}); r.Status != http.StatusBadRequest {
		t.Errorf("an empty body against it: %d %s", r.Status, r.Body)
	}
	_, reader := userWith(t, inst, "reader")
	before = measure()
	r := inst.Token(reader).Get(t, "/admin/v1/message-docs")
	after = measure()
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "nestedReferences") {
		t.Fatalf("message docs: %d %.300s", r.Status, r.Body)
	}
	if allocated := after.total - before.total; allocated > 256<<20 || len(r.Body) > 8<<20 {
		t.Errorf("message docs allocated %d MiB for %d bytes", allocated>>20, len(r.Body))
	}
	if after.heap > before.heap+8<<20 {
		t.Errorf("the heap grew from %d to %d MiB", before.heap>>20, after.heap>>20)
	}
	if created["title"] != "references" {
		t.Errorf("created %v", created["title"])
	}
}

// TestHardeningDocsDeepNestingRefused: a schema nested thousands of levels
// deep (75 kB) is refused at once; the OpenAPI and JSON Schema libraries
// took about a minute over it.
func TestHardeningDocsDeepNestingRefused(t *testing.T) {
	inst := enginetest.New(t)
	const levels = 3000
	schema := strings.Repeat(`{"type":"array","items":`, levels) + `{"type":"string"}` + strings.Repeat(`}`, levels)
	cases := []struct{ name, contentType, doc string }{
		{"JSON", "application/json", `{"openapi":"3.0.3","info":{"title":"deep","version":"1"},"paths":{"/a":{"post":{
		  "requestBody":{"content":{"application/json":{"schema":` + schema + `}}},"responses":{"200":{"description":"d"}}}}}}`},
		{"YAML", "application/yaml", "openapi: 3.0.3\ninfo: {title: deep, version: '1'}\npaths:\n  /a:\n    post:\n      requestBody: {content: {application/json: {schema: " +
			schema + "}}}\n      responses: {'200': {description: d}}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-endpoints", Body: []byte(tc.doc), Header: map[string]string{"Content-Type": tc.contentType}})
			if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "document", "*", "too_deep") {
				t.Fatalf("status %d, want a 400 too_deep: %.300s", r.Status, r.Body)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refusing took %v", took)
			}
		})
	}
}

// TestHardeningDocsStoredBombBootsCheaply: a document stored before the
// alias budget existed is loaded at boot within the same budget, so it is
// left out (logged) instead of making every start expand it.
func TestHardeningDocsStoredBombBootsCheaply(t *testing.T) {
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", documentWith("/treasury", "getBalance"))
	inst.Close(t)

	reopen := func() memory {
		before := measure()
		inst, err := dynapi.Open(context.Background(), enginetest.Config(dir))
		if err != nil {
			t.Fatal(err)
		}
		after := measure()
		if err := inst.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return memory{total: after.total - before.total, heap: after.heap - min(after.heap, before.heap)}
	}
	baseline := reopen()

	raw, err := dynapi.Open(context.Background(), enginetest.Config(dir))
	if err != nil {
		t.Fatal(err)
	}
	record := enginetest.MustJSON(t, map[string]any{"id": "00000000-0000-4000-8000-000000000001", "mount": nil, "host": "",
		"content_type": "application/yaml", "created_at": time.Now().UTC(), "source": string(enginetest.ReadFile(t, filepath.Join("testdata", "alias-bomb.yaml")))})
	if err := raw.Store.Update(context.Background(), func(tx engine.Tx) error {
		return tx.Put("dynamic_endpoints", "00000000-0000-4000-8000-000000000001", record)
	}); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	withBomb := reopen()
	if withBomb.total > baseline.total+32<<20 || withBomb.heap > baseline.heap+8<<20 {
		t.Fatalf("boot with a stored alias bomb allocated %d MiB and holds %d MiB more; without it %d and %d",
			withBomb.total>>20, withBomb.heap>>20, baseline.total>>20, baseline.heap>>20)
	}
	inst = enginetest.New(t, enginetest.InDir(dir))
	list := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any)
	if len(list) != 1 {
		t.Fatalf("served after boot: %v", list)
	}
	if r := inst.Admin().Get(t, "/treasury/balance"); r.Status != http.StatusOK {
		t.Fatalf("the sound document after boot: %d %s", r.Status, r.Body)
	}
}

// loadGate is a log handler that holds the loading of every document of at
// least big bytes at its "loading dynamic endpoint" record until released,
// so a test can act while a large document is loading.
type loadGate struct {
	big     int64
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *loadGate) Enabled(context.Context, slog.Level) bool { return true }
func (g *loadGate) WithAttrs([]slog.Attr) slog.Handler       { return g }
func (g *loadGate) WithGroup(string) slog.Handler            { return g }

func (g *loadGate) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "loading dynamic endpoint" {
		return nil
	}
	var size int64
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "bytes" {
			size = a.Value.Int64()
		}
		return true
	})
	if size >= g.big {
		g.once.Do(func() { close(g.started) })
		select {
		case <-g.release:
		case <-time.After(10 * time.Second):
		}
	}
	return nil
}

// postAsync submits a document as the super admin from another goroutine
// and delivers the status and body.
func postAsync(inst *enginetest.Engine, token string, doc []byte) <-chan enginetest.Response {
	out := make(chan enginetest.Response, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/admin/v1/dynamic-endpoints", strings.NewReader(string(doc)))
		req.Header.Set("Authorization", enginetest.DirectLogin(token))
		resp, err := inst.Server.App().Test(req, 30_000)
		if err != nil {
			out <- enginetest.Response{Status: -1, Body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		out <- enginetest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	}()
	return out
}

// TestHardeningDocsLargeDocumentDoesNotBlockOthers: while a document of
// thousands of operations is loading, another administrator's
// one-operation document is created and served.
func TestHardeningDocsLargeDocumentDoesNotBlockOthers(t *testing.T) {
	gate := &loadGate{big: 100_000, started: make(chan struct{}), release: make(chan struct{})}
	cfg := enginetest.Config(t.TempDir())
	cfg.Logger = slog.New(gate)
	cfg.MaxDocumentOperations = 3000
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer func() {
		select {
		case <-gate.release:
		default:
			close(gate.release)
		}
	}()
	large := postAsync(inst, inst.AdminToken(), generatedDocument("/large", 2000))
	select {
	case <-gate.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the large document never started loading")
	}

	select {
	case r := <-postAsync(inst, inst.AdminToken(), documentWith("/small", "smallBalance")):
		if r.Status != http.StatusCreated {
			t.Fatalf("the small document: %d %s", r.Status, r.Body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the one-operation document waited for the large one to load")
	}
	if r := inst.Admin().Get(t, "/small/balance"); r.Status != http.StatusOK {
		t.Fatalf("the small document is not served while the large one loads: %d %s", r.Status, r.Body)
	}
	select {
	case r := <-large:
		t.Fatalf("the large document finished while held: %d %s", r.Status, r.Body)
	default:
	}

	close(gate.release)
	select {
	case r := <-large:
		if r.Status != http.StatusCreated {
			t.Fatalf("the large document: %d %s", r.Status, r.Body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the large document never finished loading")
	}
	if r := inst.Admin().Get(t, "/large/r1999/x"); r.Status != http.StatusOK {
		t.Fatalf("the large document's last operation: %d %s", r.Status, r.Body)
	}
}

// TestHardeningDocsOperationCap: a document with more operations than
// --max-document-operations is refused, naming the cap, before it is
// compiled; one at the cap is served.
func TestHardeningDocsOperationCap(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.MaxDocumentOperations = 50
	inst := enginetest.New(t, enginetest.WithConfig(cfg))

	r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", generatedDocument("/over", 51))
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("51 operations under a cap of 50: %d %s", r.Status, r.Body)
	}
	p := r.Problem(t)
	if p.Code != engine.CodePayloadTooLarge || !enginetest.HasViolation(p, "document", "/paths", "max_operations") || !strings.Contains(p.Message, "50") {
		t.Fatalf("the refusal must name the cap: %s", r.Body)
	}
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", generatedDocument("/at", 50))

	// The default applies when none is configured.
	def := enginetest.New(t)
	if r := def.Admin().Post(t, "/admin/v1/dynamic-endpoints", generatedDocument("/default", 1001)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("1001 operations under the default cap: %d %s", r.Status, r.Body)
	}
}

// TestHardeningDocsAmbiguousDocumentsRefused: what two readers could take
// differently is refused at submission with the pointer of the problem,
// and nothing is stored.
func TestHardeningDocsAmbiguousDocumentsRefused(t *testing.T) {
	inst := enginetest.New(t)
	const info = `"info":{"title":"t","version":"1"}`
	const op = `{"get":{"responses":{"200":{"description":"d"}}}}`
	valid := `{"openapi":"3.0.3",` + info + `,"servers":[{"url":"/fine"}],"paths":{"/a":` + op + `}}`
	cases := []struct {
		name, path, contentType, doc string
		location, pointer, code      string
	}{
		{"dot-dot mount", "?mount=/v1/..", "", valid, "query", "/mount", "ambiguous_path"},
		{"encoded dot-dot mount", "?mount=/v1/%252e%252e", "", valid, "query", "/mount", "ambiguous_path"},
		{"dot-dot server URL", "", "", strings.Replace(valid, "/fine", "/fine/../admin", 1), "document", "/servers/0/url", "ambiguous_path"},
		{"encoded server URL", "", "", strings.Replace(valid, "/fine", "/fine/%2E%2E/admin", 1), "document", "/servers/0/url", "ambiguous_path"},
		{"dot-dot basePath", "", "", `{"swagger":"2.0",` + info + `,"basePath":"/v1/..","paths":{}}`, "document", "/basePath", "ambiguous_path"},
		{"dot-dot path", "", "", strings.Replace(valid, `"/a"`, `"/a/../admin"`, 1), "document", "/paths/~1a~1..~1admin", "ambiguous_path"},
		{"encoded dot-dot path", "", "", strings.Replace(valid, `"/a"`, `"/a/%2e%2e/admin"`, 1), "document", "/paths/~1a~1%2e%2e~1admin", "ambiguous_path"},
		{"no info", "", "", `{"openapi":"3.0.3","paths":{}}`, "document", "/info", "required"},
		{"no paths", "", "", `{"openapi":"3.0.3",` + info + `}`, "document", "/paths", "required"},
		{"webhooks only (OpenAPI 3.1)", "", "", `{"openapi":"3.1.0",` + info + `,"webhooks":{"w":{"post":{"responses":{"200":{"description":"d"}}}}}}`, "document", "/paths", "required"},
		{"duplicate JSON key", "", "application/json", strings.Replace(valid, `"/a":`+op, `"/a":{"get":{"responses":{"200":{"description":"d"}}},"get":{"responses":{"201":{"description":"d"}}}}`, 1), "document", "/paths/~1a/get", "duplicate_key"},
		{"duplicate YAML key", "", "application/yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {responses: {'200': {description: d}}}\n    get: {responses: {'201': {description: d}}}\n", "document", "/paths/~1a/get", "duplicate_key"},
		{"invalid UTF-8 in JSON", "", "", strings.Replace(valid, `"title":"t"`, "\"title\":\"t\xff\"", 1), "document", "/info/title", "invalid_utf8"},
		{"invalid UTF-8 in YAML", "", "application/yaml", "openapi: 3.0.3\ninfo: {title: \"t\xff\", version: '1'}\npaths: {}\n", "document", "", "invalid_utf8"},
		{"lone surrogate in JSON", "", "", strings.Replace(valid, `"title":"t"`, `"title":"\udc00"`, 1), "document", "/info/title", "lone_surrogate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-endpoints" + tc.path, Body: []byte(tc.doc), Header: map[string]string{"Content-Type": tc.contentType}})
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if !enginetest.HasViolation(r.Problem(t), tc.location, tc.pointer, tc.code) {
				t.Fatalf("no %s violation at %s %q: %s", tc.code, tc.location, tc.pointer, r.Body)
			}
		})
	}
	if n := len(inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any)); n != 0 {
		t.Fatalf("%d refused documents were stored", n)
	}
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", []byte(valid))
}
