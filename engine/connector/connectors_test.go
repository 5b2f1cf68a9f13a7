package connector_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

func bankIDs(t testing.TB, inst *enginetest.Engine) []string {
	t.Helper()
	r := inst.Anonymous().Get(t, "/banks")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /banks: %d %s", r.Status, r.Body)
	}
	var ids []string
	for _, b := range r.JSON(t)["banks"].([]any) {
		ids = append(ids, b.(map[string]any)["bank_id"].(string))
	}
	return ids
}

// TestScriptOverridesGetBanks overrides getBanks in JavaScript, plain and
// URL-encoded as OBP sends it: GET /banks changes at once, and goes back
// when the script is deleted.
func TestScriptOverridesGetBanks(t *testing.T) {
	const script = `const banks = [{bank_id: "js-bank", short_name: "JS", full_name: "Bank from " + ctx.method}];
return banks;`
	for _, c := range []struct{ name, body string }{
		{"plain", script},
		{"url-encoded", url.QueryEscape(script)},
	} {
		t.Run(c.name, func(t *testing.T) {
			inst := enginetest.New(t)
			inst.CreateBank(t, "gh.29.uk")
			id := inst.CreateScript(t, "getBanks", c.body, 0)
			if got := bankIDs(t, inst); !slices.Equal(got, []string{"js-bank"}) {
				t.Fatalf("banks %v, want the script's", got)
			}
			stored := inst.Admin().Get(t, "/admin/v1/connector-methods/"+id).JSON(t)
			if stored["method_body"] != script {
				t.Fatalf("stored body %q, want the decoded script", stored["method_body"])
			}
			if r := inst.Admin().Delete(t, "/admin/v1/connector-methods/"+id); r.Status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
			if got := bankIDs(t, inst); !slices.Equal(got, []string{"gh.29.uk"}) {
				t.Fatalf("banks %v after delete, want the store's", got)
			}
		})
	}
}

// TestScriptWrapsDefault wraps the default getAccounts and hides one
// account; the script survives a restart.
func TestScriptWrapsDefault(t *testing.T) {
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	alice, _, aliceID, _ := inst.BankWithAccounts(t, "gh.29.uk")
	inst.OpenAccount(t, "gh.29.uk", "alice-hidden", aliceID, "1.00")
	accounts := func(inst *enginetest.Engine) []string {
		r := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts")
		var ids []string
		for _, a := range r.JSON(t)["accounts"].([]any) {
			ids = append(ids, a.(map[string]any)["account_id"].(string))
		}
		return ids
	}
	if got := accounts(inst); !slices.Equal(got, []string{"alice-1", "alice-hidden"}) {
		t.Fatalf("before the script: %v", got)
	}
	inst.CreateScript(t, "getAccounts", `
const all = await connector.call("getAccounts", args);
return all.filter(a => a.account_id !== "alice-hidden");`, 0)
	if got := accounts(inst); !slices.Equal(got, []string{"alice-1"}) {
		t.Fatalf("with the wrapping script: %v", got)
	}
	inst.Close(t)
	inst = enginetest.New(t, enginetest.InDir(dir))
	alice = inst.Login(t, "alice", "Alice-passw0rd-long")
	if got := accounts(inst); !slices.Equal(got, []string{"alice-1"}) {
		t.Fatalf("after restart: %v", got)
	}
}

// TestScriptErrors checks scripts are refused when submitted and fail
// safely when run: a syntax error names line and column; a thrown error,
// require, a result not shaped as the message doc says and an endless loop
// are problems naming the method, while other requests keep being served.
func TestScriptErrors(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateBank(t, "gh.29.uk")

	t.Run("refused when submitted", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			in     map[string]any
			code   string
			detail string
		}{
			{"syntax", map[string]any{"method_name": "getBank", "method_body": "return 1;\nlet = = 2;", "programming_lang": "js"}, "invalid_script", "line 2"},
			{"unknown method", map[string]any{"method_name": "getNothing", "method_body": "return 1;", "programming_lang": "js"}, "unknown_method", "getNothing"},
			{"language", map[string]any{"method_name": "getBank", "method_body": "return 1;", "programming_lang": "Scala"}, "validation_failed", "js"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/connector-methods", Header: enginetest.JSONHeader(), Body: enginetest.MustJSON(t, c.in)})
				if r.Status != http.StatusBadRequest {
					t.Fatalf("status %d: %s", r.Status, r.Body)
				}
				if p := r.Problem(t); p.Code != c.code || !strings.Contains(string(r.Body), c.detail) {
					t.Fatalf("problem %s, want code %s mentioning %q", r.Body, c.code, c.detail)
				}
			})
		}
		if n := len(inst.Admin().Get(t, "/admin/v1/connector-methods").JSON(t)["connector_methods"].([]any)); n != 0 {
			t.Fatalf("%d connector methods stored after refusals", n)
		}
	})

	t.Run("fail safely when run", func(t *testing.T) {
		for _, c := range []struct {
			name, body string
			status     int
			code       string
			detail     string
		}{
			{"throws", "const x = 1;\nthrow new Error('core banking said no');", 500, "script_failed", "line 2"},
			{"require", "const fs = require('fs');\nreturn fs.readFileSync('/etc/passwd');", 500, "script_failed", "require"},
			{"process", "return process.env;", 500, "script_failed", "process"},
			{"client error", "throw {status: 404, code: 'no_such_bank', message: 'not at this bank'};", 404, "no_such_bank", "not at this bank"},
			{"wrong shape", "return {bank_id: 42};", 502, "invalid_connector_result", "getBank"},
		} {
			t.Run(c.name, func(t *testing.T) {
				id := inst.CreateScript(t, "getBank", c.body, 0)
				defer inst.Admin().Delete(t, "/admin/v1/connector-methods/"+id)
				r := inst.Anonymous().Get(t, "/banks/gh.29.uk")
				if r.Status != c.status {
					t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
				}
				if p := r.Problem(t); p.Code != c.code || !strings.Contains(p.Message, c.detail) {
					t.Fatalf("problem %s, want code %s mentioning %q", r.Body, c.code, c.detail)
				}
			})
		}
	})

	t.Run("endless loop stops at the deadline while others are served", func(t *testing.T) {
		id := inst.CreateScript(t, "getBank", "while (true) {}", 300)
		defer inst.Admin().Delete(t, "/admin/v1/connector-methods/"+id)
		done := make(chan enginetest.Response)
		go func() { done <- inst.Anonymous().Get(t, "/banks/gh.29.uk") }()
		served := 0
		for {
			select {
			case r := <-done:
				if r.Status != http.StatusGatewayTimeout || r.Problem(t).Code != "script_timeout" || !strings.Contains(string(r.Body), "getBank") {
					t.Fatalf("endless loop: %d %s", r.Status, r.Body)
				}
				if served == 0 {
					t.Fatal("no other request was served while the script spun")
				}
				return
			default:
				if r := inst.Anonymous().Get(t, "/banks"); r.Status != http.StatusOK {
					t.Fatalf("GET /banks while a script spins: %d", r.Status)
				}
				served++
			}
		}
	})
}

// TestScriptAnswersDynamicOperation implements a dynamic endpoint
// operation in JavaScript: the validated request is its argument, and it
// reaches dynamic entity records within the caller's rights.
func TestScriptAnswersDynamicOperation(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml")))
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"PetName": {"description": "pet names", "required": ["pet_id", "name"],
		"properties": {"pet_id": {"type": "string", "example": "7"}, "name": {"type": "string", "example": "Rex"}}}}`)
	inst.CreateScript(t, "showPetById", `
const id = args[0].path.petId;
const names = await entities.list("PetName", {pet_id: id});
if (names.length === 0) throw {status: 404, message: "no pet " + id};
return {id: Number(id), name: names[0].name, tag: ctx.user.username};`, 0)
	if r := inst.Admin().Get(t, "/v1/pets/7"); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "no pet 7") {
		t.Fatalf("before the record: %d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/entities/PetName", Header: enginetest.JSONHeader(),
		Body: []byte(`{"pet_id": "7", "name": "Rex"}`)}); r.Status != http.StatusCreated {
		t.Fatalf("create record: %d %s", r.Status, r.Body)
	}
	r := inst.Admin().Get(t, "/v1/pets/7")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/pets/7: %d %s", r.Status, r.Body)
	}
	if got := r.JSON(t); got["name"] != "Rex" || got["id"] != float64(7) || got["tag"] != enginetest.AdminUsername {
		t.Fatalf("answer %s", r.Body)
	}
	// Validation still runs first: a bad request never reaches the script.
	if r := inst.Admin().Get(t, "/v1/pets?limit=1000"); r.Status != http.StatusBadRequest {
		t.Fatalf("invalid request: %d %s", r.Status, r.Body)
	}
	// The script reads records with the caller's rights: a caller who may
	// call the operation but not read the entity gets the entity's 403.
	bobID := inst.CreateUser(t, "bob", "Bob-passw0rd-long-1").ID
	inst.Grant(t, bobID, "", "CanGetDynamicEndpoint_showPetById")
	bob := inst.Login(t, "bob", "Bob-passw0rd-long-1")
	r = inst.Token(bob).Get(t, "/v1/pets/7")
	if r.Status != http.StatusForbidden || !slices.Contains(r.Problem(t).MissingRoles, "CanGetDynamicEntity_SystemPetName") {
		t.Fatalf("bob without the entity's role: %d %s", r.Status, r.Body)
	}
}

// TestScriptFetch lets scripts reach only the hosts the server allows.
func TestScriptFetch(t *testing.T) {
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name": "Fetched Bank", "corr": "` + r.Header.Get("X-Correlation-ID") + `"}`))
	}))
	t.Cleanup(allowed.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { t.Error("a disallowed host was called") }))
	t.Cleanup(other.Close)
	cfg := enginetest.Config(t.TempDir())
	cfg.Connectors.FetchAllow = []string{strings.TrimPrefix(allowed.URL, "http://")}
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	inst.CreateBank(t, "gh.29.uk")
	script := `const r = await http.fetch(%q);
const b = r.json();
return {bank_id: args[0], short_name: b.corr, full_name: b.name};`
	id := inst.CreateScript(t, "getBank", fmt.Sprintf(script, allowed.URL+"/bank"), 0)
	r := inst.Anonymous().Get(t, "/banks/gh.29.uk")
	if got := r.JSON(t); got["full_name"] != "Fetched Bank" || got["short_name"] != r.Header.Get("X-Correlation-Id") {
		t.Fatalf("allowed fetch: %s", r.Body)
	}
	if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/connector-methods/" + id, Header: enginetest.JSONHeader(),
		Body: enginetest.MustJSON(t, map[string]any{"method_body": fmt.Sprintf(script, other.URL+"/bank"), "programming_lang": "js"})}); r.Status != http.StatusOK {
		t.Fatalf("update script: %d %s", r.Status, r.Body)
	}
	r = inst.Anonymous().Get(t, "/banks/gh.29.uk")
	if r.Status != http.StatusInternalServerError || r.Problem(t).Code != "script_failed" || !strings.Contains(r.Problem(t).Message, "not allowed") {
		t.Fatalf("disallowed fetch: %d %s", r.Status, r.Body)
	}
}

// backend is a fake core banking REST back end that records what it is
// sent and answers with answer.
type backend struct {
	*httptest.Server
	mu       sync.Mutex
	outbound []map[string]any
	headers  []http.Header
	calls    atomic.Int64
	answer   atomic.Value // func(w http.ResponseWriter, outbound map[string]any)
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		raw, _ := io.ReadAll(r.Body)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		b.mu.Lock()
		b.outbound = append(b.outbound, out)
		b.headers = append(b.headers, r.Header.Clone())
		b.mu.Unlock()
		b.answer.Load().(func(http.ResponseWriter, map[string]any))(w, out)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) last() (map[string]any, http.Header) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.outbound[len(b.outbound)-1], b.headers[len(b.headers)-1]
}

// accountsFromBackend answers getAccounts with one account held by the
// user the outbound message names.
func accountsFromBackend(w http.ResponseWriter, out map[string]any) {
	cc := out["outboundAdapterCallContext"].(map[string]any)
	user := cc["outboundAdapterAuthInfo"].(map[string]any)["userId"]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"inboundAdapterCallContext": map[string]any{"correlationId": cc["correlationId"]},
		"status":                    map[string]any{"errorCode": "", "backendMessages": []any{}},
		"data": []any{map[string]any{"account_id": "core-" + out["bankId"].(string), "bank_id": out["bankId"], "currency": "EUR",
			"balance": map[string]any{"currency": "EUR", "amount": "12.34"}, "status": "active", "created_at": "2026-01-01T00:00:00Z",
			"owners": []any{map[string]any{"user_id": user}}}},
	})
}

// TestRoutingToRESTBackend routes getAccounts for banks matching retail-.*
// to a REST back end and leaves the others on mapped; checks the outbound
// message and the signed context header; then the back end is slow (504),
// down (502) and flapping (the circuit opens, then recovers).
func TestRoutingToRESTBackend(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.Connectors.BreakerFailures = 3
	cfg.Connectors.BreakerCooldown = 300 * time.Millisecond
	cfg.Connectors.Retries = -1 // every failure counts once
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	alice, _, aliceID, _ := inst.BankWithAccounts(t, "corp-1")
	inst.CreateBank(t, "retail-1")
	core := newBackend(t)
	core.answer.Store(accountsFromBackend)
	id := inst.CreateRouting(t, map[string]any{"method_name": "getAccounts", "connector_name": "rest",
		"is_bank_id_exact_match": false, "bank_id_pattern": "retail-.*",
		"parameters": []map[string]string{{"key": "url", "value": core.URL + "/banks/{bankId}/accounts"}, {"key": "timeout", "value": "400ms"}}})

	accounts := func(bank string) enginetest.Response {
		return inst.Token(alice).Get(t, "/banks/"+bank+"/accounts")
	}
	t.Run("routed by bank id pattern", func(t *testing.T) {
		r := accounts("retail-1")
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"account_id":"core-retail-1"`) {
			t.Fatalf("retail-1: %d %s", r.Status, r.Body)
		}
		out, h := core.last()
		cc := out["outboundAdapterCallContext"].(map[string]any)
		if cc["correlationId"] != r.Header.Get("X-Correlation-Id") || out["bankId"] != "retail-1" || out["userId"] != aliceID {
			t.Fatalf("outbound message %v (correlation id %s)", out, r.Header.Get("X-Correlation-Id"))
		}
		if auth := cc["outboundAdapterAuthInfo"].(map[string]any); auth["userId"] != aliceID || auth["username"] != "alice" {
			t.Fatalf("outbound auth info %v", auth)
		}
		verifyContextHeader(t, inst, h, aliceID, r.Header.Get("X-Correlation-Id"))
		if r := accounts("corp-1"); !strings.Contains(string(r.Body), `"account_id":"alice-1"`) {
			t.Fatalf("corp-1 should stay on mapped: %s", r.Body)
		}
	})

	t.Run("slow back end", func(t *testing.T) {
		stalled := make(chan struct{}) // the back end answers once the call gave up
		defer close(stalled)
		core.answer.Store(func(w http.ResponseWriter, out map[string]any) {
			<-stalled
			accountsFromBackend(w, out)
		})
		if r := accounts("retail-1"); r.Status != http.StatusGatewayTimeout || r.Problem(t).Code != "backend_timeout" {
			t.Fatalf("slow: %d %s", r.Status, r.Body)
		}
	})

	t.Run("flapping back end opens the circuit, which recovers", func(t *testing.T) {
		core.answer.Store(func(w http.ResponseWriter, _ map[string]any) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		})
		for range 3 {
			accounts("retail-1")
		}
		before := core.calls.Load()
		r := accounts("retail-1")
		if r.Status != http.StatusServiceUnavailable || r.Problem(t).Code != "circuit_open" || core.calls.Load() != before {
			t.Fatalf("open circuit: %d %s (back end called %d more times)", r.Status, r.Body, core.calls.Load()-before)
		}
		core.answer.Store(accountsFromBackend)
		// Still open within its cooldown; closed (half-open, then closed on
		// the good answer) once the instance's clock passes it.
		if r := accounts("retail-1"); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("within the cooldown: %d %s", r.Status, r.Body)
		}
		inst.Clock.Advance(301 * time.Millisecond)
		if r := accounts("retail-1"); r.Status != http.StatusOK {
			t.Fatalf("after the cooldown: %d %s", r.Status, r.Body)
		}
	})

	t.Run("back end down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/method-routings/" + id, Header: enginetest.JSONHeader(),
			Body: enginetest.MustJSON(t, map[string]any{"method_name": "getAccounts", "connector_name": "rest", "bank_id_pattern": "retail-.*",
				"parameters": []map[string]string{{"key": "url", "value": closed}}})})
		if r.Status != http.StatusOK {
			t.Fatalf("update routing: %d %s", r.Status, r.Body)
		}
		if r := accounts("retail-1"); r.Status != http.StatusBadGateway || r.Problem(t).Code != "backend_unreachable" {
			t.Fatalf("down: %d %s", r.Status, r.Body)
		}
	})
}

// verifyContextHeader checks the signed context header a back end received
// against the server's published keys, and the correlation id beside it
// in its own header (a context token serves several calls, so it names
// none).
func verifyContextHeader(t *testing.T, inst *enginetest.Engine, h http.Header, userID, correlationID string) {
	t.Helper()
	token := h.Get("Account-Request-Information")
	jwks := inst.Anonymous().Get(t, "/.well-known/jwks.json")
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(jwks.Body))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(token, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"})); err != nil {
		t.Fatalf("context header does not verify against /.well-known/jwks.json: %v (%q)", err, token)
	}
	if claims["user_id"] != userID || claims["method"] != "getAccounts" || claims["correlation_id"] != nil {
		t.Fatalf("context claims %v", claims)
	}
	if got := h.Get("X-Correlation-Id"); got != correlationID {
		t.Fatalf("X-Correlation-Id %q at the back end, want %q", got, correlationID)
	}
}

// TestMethodRoutings checks routings are refused when they cannot work,
// listed by method, hot, OBP-compatible and persistent.
func TestMethodRoutings(t *testing.T) {
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	inst.CreateBank(t, "gh.29.uk")
	inst.CreateBank(t, "other")

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			routing map[string]any
			code    string
			pointer string
		}{
			{"unknown method", map[string]any{"method_name": "getNothing", "connector_name": "mapped"}, "unknown_method", "/method_name"},
			{"unknown connector", map[string]any{"method_name": "getBanks", "connector_name": "kafka_vSept2018"}, "unknown_connector", "/connector_name"},
			{"bad pattern", map[string]any{"method_name": "getBank", "connector_name": "mock", "bank_id_pattern": "retail-("}, "invalid_bank_id_pattern", "/bank_id_pattern"},
			{"internal without a script", map[string]any{"method_name": "getBank", "connector_name": "internal"}, "unknown_connector", "/connector_name"},
			{"rest without url", map[string]any{"method_name": "getBank", "connector_name": "rest"}, "bad_request", "/parameters"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/method-routings", Header: enginetest.JSONHeader(), Body: enginetest.MustJSON(t, c.routing)})
				if r.Status != http.StatusBadRequest {
					t.Fatalf("status %d: %s", r.Status, r.Body)
				}
				if p := r.Problem(t); p.Code != c.code || !enginetest.HasViolation(p, "body", c.pointer, "*") {
					t.Fatalf("problem %s, want %s at %s", r.Body, c.code, c.pointer)
				}
			})
		}
	})

	t.Run("exact match, then pattern, then default", func(t *testing.T) {
		inst.CreateScript(t, "getBank", `return {bank_id: args[0], short_name: "scripted", full_name: "Scripted"};`, 0)
		exact := inst.CreateRouting(t, map[string]any{"method_name": "getBank", "connector_name": "mock",
			"is_bank_id_exact_match": true, "bank_id_pattern": "gh.29.uk"})
		inst.CreateRouting(t, map[string]any{"method_name": "getBank", "connector_name": "mapped",
			"is_bank_id_exact_match": false, "bank_id_pattern": "oth.*"})
		name := func(bank string) any {
			return inst.Anonymous().Get(t, "/banks/"+bank).JSON(t)["short_name"]
		}
		if got := name("gh.29.uk"); got != "Demo Bank" {
			t.Fatalf("exact routing to mock: %v", got)
		}
		if got := name("other"); got != "other" {
			t.Fatalf("pattern routing to mapped: %v", got)
		}
		inst.CreateBank(t, "third")
		if got := name("third"); got != "scripted" {
			t.Fatalf("no routing: the script should answer, got %v", got)
		}
		list := inst.Admin().Get(t, "/admin/v1/method-routings?method_name=getBank").JSON(t)["method_routings"].([]any)
		if len(list) != 2 {
			t.Fatalf("%d routings for getBank", len(list))
		}
		if r := inst.Admin().Delete(t, "/admin/v1/method-routings/"+exact); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d", r.Status)
		}
		if got := name("gh.29.uk"); got != "scripted" {
			t.Fatalf("after deleting the exact routing: %v", got)
		}
	})

	t.Run("a script in use cannot be deleted", func(t *testing.T) {
		scripts := inst.Admin().Get(t, "/admin/v1/connector-methods").JSON(t)["connector_methods"].([]any)
		id := scripts[0].(map[string]any)["connector_method_id"].(string)
		routing := inst.CreateRouting(t, map[string]any{"method_name": "getBank", "connector_name": "internal",
			"is_bank_id_exact_match": true, "bank_id_pattern": "other"})
		if r := inst.Admin().Delete(t, "/admin/v1/connector-methods/"+id); r.Status != http.StatusConflict ||
			!strings.Contains(string(r.Body), routing) {
			t.Fatalf("deleting a script in use: %d %s", r.Status, r.Body)
		}
	})

	t.Run("persist across restart", func(t *testing.T) {
		inst.Close(t)
		inst = enginetest.New(t, enginetest.InDir(dir))
		if got := inst.Anonymous().Get(t, "/banks/other").JSON(t)["short_name"]; got != "scripted" {
			t.Fatalf("after restart, exact routing to internal: %v", got)
		}
		if n := len(inst.Admin().Get(t, "/admin/v1/method-routings").JSON(t)["method_routings"].([]any)); n != 2 {
			t.Fatalf("%d routings after restart, want 2", n)
		}
	})
}

// TestMessageDocs lists every connector method with schemas whose examples
// validate, in OBP's outbound and inbound shape, dynamic operations
// included.
func TestMessageDocs(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml")))
	r := inst.Admin().Get(t, "/admin/v1/message-docs")
	if r.Status != http.StatusOK {
		t.Fatalf("message docs: %d %s", r.Status, r.Body)
	}
	var body struct {
		Docs []struct {
			MethodName string          `json:"method_name"`
			Outbound   json.RawMessage `json:"outbound_schema"`
			Inbound    json.RawMessage `json:"inbound_schema"`
			ExampleOut json.RawMessage `json:"example_outbound_message"`
			ExampleIn  json.RawMessage `json:"example_inbound_message"`
			Dynamic    bool            `json:"dynamic"`
		} `json:"message_docs"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range body.Docs {
		names = append(names, d.MethodName)
		t.Run(d.MethodName, func(t *testing.T) {
			validates(t, d.Outbound, d.ExampleOut)
			validates(t, d.Inbound, d.ExampleIn)
			if !strings.Contains(string(d.ExampleOut), `"outboundAdapterCallContext"`) || !strings.Contains(string(d.ExampleIn), `"inboundAdapterCallContext"`) {
				t.Fatalf("examples not in OBP's shape: %s / %s", d.ExampleOut, d.ExampleIn)
			}
		})
	}
	for _, want := range []string{"getBanks", "getAccounts", "createTransactionRequest", "getShareableAccounts", "getPayableAccounts", "showPetById"} {
		if !slices.Contains(names, want) {
			t.Errorf("message docs lack %s: %v", want, names)
		}
	}
}

// validates fails the test unless instance is valid against schema.
func validates(t *testing.T, schema, instance json.RawMessage) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(schema)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("doc.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("doc.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v\n%s", err, schema)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(instance)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("example does not match its schema: %v\n%s", err, instance)
	}
}

// TestDynamicOperationToREST passes validated dynamic requests through to
// a REST back end: the operation's path with its parameters, the query and
// the body go out; the back end's status and body come back.
func TestDynamicOperationToREST(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml")))
	type seen struct{ method, uri, body, auth string }
	got := make(chan seen, 1)
	core := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.RequestURI(), string(body), r.Header.Get("Authorization")}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"from":"core"}`))
	}))
	t.Cleanup(core.Close)
	for _, op := range []string{"showPetById", "createPets"} {
		inst.CreateRouting(t, map[string]any{"method_name": op, "connector_name": "rest",
			"parameters": []map[string]string{{"key": "url", "value": core.URL + "/core"}}})
	}
	for _, c := range []struct {
		name string
		req  enginetest.Request
		want seen
	}{
		{"GET with a path parameter and query", enginetest.Request{Method: "GET", Path: "/v1/pets/7?verbose=1"}, seen{"GET", "/core/pets/7?verbose=1", "", ""}},
		{"POST with a body", enginetest.Request{Method: "POST", Path: "/v1/pets", Header: enginetest.JSONHeader(), Body: []byte(`{"id": 8, "name": "Rex"}`)},
			seen{"POST", "/core/pets", `{"id":8,"name":"Rex"}`, ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := inst.Admin().Send(t, c.req)
			if r.Status != http.StatusCreated || string(r.Body) != `{"from":"core"}` {
				t.Fatalf("answer %d %s, want the back end's", r.Status, r.Body)
			}
			if s := <-got; s != c.want {
				t.Fatalf("back end saw %+v, want %+v", s, c.want)
			}
		})
	}
	// An invalid request is refused before any back end is called.
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/v1/pets", Header: enginetest.JSONHeader(), Body: []byte(`{"name": 1}`)}); r.Status != http.StatusBadRequest {
		t.Fatalf("invalid body: %d %s", r.Status, r.Body)
	}
	select {
	case s := <-got:
		t.Fatalf("the back end was called with an invalid request: %+v", s)
	default:
	}
}
