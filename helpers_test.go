package dynapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/dynapi/dynapi/internal/testpaths"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// The super admin and first consumer every test instance bootstraps.
const (
	adminUsername  = enginetest.AdminUsername
	adminPassword  = enginetest.AdminPassword
	consumerKey    = enginetest.ConsumerKey
	consumerSecret = enginetest.ConsumerSecret
)

// adminTokens holds the DirectLogin token of each open test instance's
// super admin.
var adminTokens sync.Map // *dynapi.Instance -> string

// testConfig is the configuration of a test instance on dir.
func testConfig(dir string) dynapi.Config { return enginetest.Config(dir) }

// sharedSpecs is the folder of real bank and sample API documents beside
// the repository.
var sharedSpecs = testpaths.Shared("specs")

// open starts an instance on a fresh store in a temporary directory (or on
// dir) and logs its super admin in; it is closed when the test ends.
func open(t testing.TB, dir string) *dynapi.Instance {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	inst := openWith(t, testConfig(dir))
	t.Cleanup(func() { closeInstance(t, inst) })
	return inst
}

// openWith starts an instance and logs its super admin in; the caller
// closes it.
func openWith(t testing.TB, cfg dynapi.Config) *dynapi.Instance {
	t.Helper()
	inst, err := dynapi.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open instance: %v", err)
	}
	adminTokens.Store(inst, login(t, inst, adminUsername, adminPassword))
	return inst
}

func closeInstance(t testing.TB, inst *dynapi.Instance) {
	t.Helper()
	adminTokens.Delete(inst)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := inst.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// login gets a DirectLogin token through the first consumer.
func login(t testing.TB, inst *dynapi.Instance, username, password string) string {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/my/logins/direct", anonymous: true, headers: map[string]string{
		"DirectLogin": fmt.Sprintf(`username="%s", password="%s", consumer_key="%s"`, username, password, consumerKey)}})
	if r.status != http.StatusCreated {
		t.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	return r.json(t)["token"].(string)
}

// directLogin is the header value carrying a DirectLogin token.
func directLogin(token string) string { return enginetest.DirectLogin(token) }

// response is a finished HTTP exchange with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// problem decodes a problem+json response.
func (r response) problem(t testing.TB) server.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != server.MIMEProblemJSON {
		t.Fatalf("content type %q, want %s; body %s", ct, server.MIMEProblemJSON, r.body)
	}
	var p server.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("bad problem: %v\n%s", err, r.body)
	}
	return p
}

// request is one HTTP request to send through the real fiber application.
type request struct {
	method  string
	path    string
	body    []byte
	headers map[string]string
	// anonymous sends no credentials; otherwise the super admin's token is
	// sent unless headers carry an Authorization of their own.
	anonymous bool
}

func do(t testing.TB, inst *dynapi.Instance, r request) response {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	if !r.anonymous && req.Header.Get("Authorization") == "" && req.Header.Get("DirectLogin") == "" {
		if token, ok := adminTokens.Load(inst); ok {
			req.Header.Set("Authorization", directLogin(token.(string)))
		}
	}
	resp, err := inst.Server.App().Test(req, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// postDocument submits a document and returns the response.
func postDocument(t testing.TB, inst *dynapi.Instance, path string, doc []byte, contentType string) response {
	t.Helper()
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return do(t, inst, request{method: http.MethodPost, path: path, body: doc, headers: h})
}

// mustCreate submits a document and fails the test unless it is accepted.
func mustCreate(t testing.TB, inst *dynapi.Instance, path string, doc []byte) map[string]any {
	t.Helper()
	r := postDocument(t, inst, path, doc, "")
	if r.status != http.StatusCreated {
		t.Fatalf("POST %s: status %d, body %s", path, r.status, r.body)
	}
	return r.json(t)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hasViolation reports whether p lists a violation at location whose
// pointer and code match.
func hasViolation(p server.Problem, location, pointer, code string) bool {
	for _, v := range p.Violations {
		if v.Location == location && (pointer == "*" || v.Pointer == pointer) && (code == "*" || v.Code == code) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveLoopback serves inst on a real loopback listener, for tests that
// need what app.Test cannot show (connections, raw bytes on the wire), and
// returns its address (host:port). The listener closes with the dynapi.
func serveLoopback(t testing.TB, inst *dynapi.Instance) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = inst.Server.Serve(ln) }()
	return ln.Addr().String()
}

// doLoopback sends r over a real connection to addr (see serveLoopback),
// with the super admin's token unless r is anonymous or carries its own.
func doLoopback(t testing.TB, inst *dynapi.Instance, addr string, r request) response {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, "http://"+addr+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	if !r.anonymous && req.Header.Get("Authorization") == "" && req.Header.Get("DirectLogin") == "" {
		if token, ok := adminTokens.Load(inst); ok {
			req.Header.Set("Authorization", directLogin(token.(string)))
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// lockedBuffer is a log sink a test reads while the server writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// createUser makes a user through the management API and returns its id.
func createUser(t testing.TB, inst *dynapi.Instance, username, password string) string {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/admin/v1/users", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"username": username, "password": password, "email": username + "@example.com"})})
	if r.status != http.StatusCreated {
		t.Fatalf("create user %s: %d %s", username, r.status, r.body)
	}
	return r.json(t)["user_id"].(string)
}

func jsonHeaders() map[string]string { return map[string]string{"Content-Type": "application/json"} }

// as returns headers carrying a DirectLogin token.
func as(token string) map[string]string {
	return map[string]string{"Authorization": directLogin(token), "Content-Type": "application/json"}
}

// grant gives a user a role through the management API.
func grant(t testing.TB, inst *dynapi.Instance, userID, bankID, role string) string {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/admin/v1/users/" + userID + "/entitlements", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"bank_id": bankID, "role_name": role})})
	if r.status != http.StatusCreated {
		t.Fatalf("grant %s at %q: %d %s", role, bankID, r.status, r.body)
	}
	return r.json(t)["entitlement_id"].(string)
}

func createBank(t testing.TB, inst *dynapi.Instance, id string) {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/admin/v1/banks", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"bank_id": id, "short_name": id, "full_name": "Bank " + id})})
	if r.status != http.StatusCreated {
		t.Fatalf("create bank %s: %d %s", id, r.status, r.body)
	}
}

// adminToken returns the super admin's token of an open dynapi.
func adminToken(t testing.TB, inst *dynapi.Instance) string {
	t.Helper()
	token, ok := adminTokens.Load(inst)
	if !ok {
		t.Fatal("instance not logged in")
	}
	return token.(string)
}
