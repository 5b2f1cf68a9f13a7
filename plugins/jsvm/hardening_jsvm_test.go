package jsvm_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// Hardening of JavaScript connector methods (issue 9, points 6, 11 and the
// host bindings of 1): each test stores a hostile connector method through
// /admin/v1/connector-methods, as an admin of one bank could, and calls it
// through its route, as a customer or an outsider would.

// openScripting starts an instance with cfg's script settings changed by
// set, closed when the test ends.
func openScripting(t *testing.T, set func(*dynapi.Config)) *enginetest.Engine {
	t.Helper()
	cfg := enginetest.Config(t.TempDir())
	set(&cfg)
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	return inst
}

// putScript replaces the body of connector method id.
func putScript(t *testing.T, inst *enginetest.Engine, id, body string, timeoutMS int, unrestricted bool) {
	t.Helper()
	in := map[string]any{"method_body": body, "programming_lang": "js", "timeout_ms": timeoutMS, "unrestricted_connector_calls": unrestricted}
	if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/connector-methods/" + id, Header: enginetest.JSONHeader(), Body: enginetest.MustJSON(t, in)}); r.Status != http.StatusOK {
		t.Fatalf("update connector method: %d %s", r.Status, r.Body)
	}
}

// benignBanks is a getBanks body answering one bank.
const benignBanks = `return [{bank_id: "js-bank", short_name: "JS", full_name: "Bank from a script"}];`

// banksWork checks GET /banks answers the benign script's bank.
func banksWork(t *testing.T, inst *enginetest.Engine, id string) {
	t.Helper()
	putScript(t, inst, id, benignBanks, 0, false)
	r := inst.Anonymous().Get(t, "/banks")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "js-bank") {
		t.Fatalf("GET /banks afterwards: %d %s", r.Status, r.Body)
	}
}

// liveHeap is the live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestHardeningJSAllocations (point 6): builtins that allocate what they
// are asked for inside one call (today gigabytes, minutes or a Go stack
// overflow that ends the process) answer 500 script_memory_limit at once,
// to anyone calling the public route; the route works afterwards and the
// heap stays where it was.
func TestHardeningJSAllocations(t *testing.T) {
	inst := openScripting(t, func(c *dynapi.Config) { c.Connectors.ScriptMaxAllocBytes = 1 << 20 })
	id := inst.CreateScript(t, "getBanks", benignBanks, 0)
	before := liveHeap()
	for _, tc := range []struct{ name, hostile string }{
		{"new Array(1e9).fill", "new Array(1e9).fill(0);"},
		{"repeat", "'x'.repeat(2 ** 30);"},
		{"padStart", "''.padStart(2 ** 30, 'ab');"},
		{"padEnd", "''.padEnd(2 ** 30);"},
		{"join", "Array(1e9).join('x');"},
		{"join of a shared string", "Array(4000).fill('x'.repeat(4000)).join('');"},
		{"typed array", "new Float64Array(2 ** 28);"},
		{"ArrayBuffer", "new ArrayBuffer(2 ** 31);"},
		{"typed array slice", "const b = new Uint8Array(900000); b.slice(); b.slice();"},
		{"typed array of an array-like", "new Int32Array({length: 1e9});"},
		{"concat doubling", "let a = [0]; for (let i = 0; i < 40; i++) a = a.concat(a);"},
		{"String.prototype.concat", "let s = 'x'; for (let i = 0; i < 40; i++) s = s.concat(s);"},
		{"JSON.stringify of a shared subtree", "let o = {}; for (let i = 0; i < 60; i++) o = {a: o, b: o}; JSON.stringify(o);"},
		{"spread of holes", "[...Array(1e9)];"},
		{"Array.from", "Array.from({length: 1e9});"},
		{"apply", "String.fromCharCode.apply(null, {length: 1e9});"},
		{"JSON.parse nested deeper than the Go stack", "let s = '['; for (let i = 0; i < 23; i++) s += s; JSON.parse(s);"},
		{"nested arrays to a string", "let a = []; for (let i = 0; i < 100000; i++) a = [a]; String(a);"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			putScript(t, inst, id, tc.hostile+"\n"+benignBanks, 10000, false)
			start := time.Now()
			r := inst.Anonymous().Get(t, "/banks")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("answered after %v", d)
			}
			if r.Status != http.StatusInternalServerError {
				t.Fatalf("status %d %s, want 500", r.Status, r.Body)
			}
			p := r.Problem(t)
			if p.Code != engine.CodeScriptMemoryLimit || !strings.Contains(p.Message, "connector method getBanks exceeded a script limit at line 1") ||
				p.CorrelationID == "" {
				t.Errorf("problem %+v", p)
			}
			banksWork(t, inst, id)
		})
	}
	if after := liveHeap(); after > before+64<<20 {
		t.Errorf("the live heap grew from %d to %d bytes", before, after)
	}
}

// TestHardeningJSDeadline (point 6): a call whose deadline passes inside a
// builtin stops within a second of it. Today one builtin call over a
// sparse array runs seconds past any deadline; now a builtin refuses to
// work through more elements than its cap (500 script_memory_limit), and
// the slowest builtins over arrays at the cap still stop within the bound
// (504 script_timeout). The route works afterwards.
func TestHardeningJSDeadline(t *testing.T) {
	// 4 MiB: builtins work through at most 16,384 elements.
	inst := openScripting(t, func(c *dynapi.Config) { c.Connectors.ScriptMaxAllocBytes = 4 << 20 })
	id := inst.CreateScript(t, "getBanks", benignBanks, 0)
	const deadline = 300 * time.Millisecond
	for _, loop := range []string{
		"Array(5e7).includes(1)",
		"Array.prototype.lastIndexOf.call({length: 5e7}, 1)",
		"new Map(a.entries())",
		"new Set(a)",
		"a.reverse().sort()",
	} {
		t.Run(loop, func(t *testing.T) {
			putScript(t, inst, id, "const a = Array.from({length: 16000}, (x, i) => String(i));\nfor (;;) { "+loop+"; }",
				int(deadline/time.Millisecond), false)
			start := time.Now()
			r := inst.Anonymous().Get(t, "/banks")
			if d := time.Since(start); d > deadline+time.Second {
				t.Errorf("stopped %v after its deadline", d-deadline)
			}
			if code := r.Problem(t).Code; code != engine.CodeScriptTimeout && code != engine.CodeScriptMemoryLimit {
				t.Errorf("status %d %s, want 504 script_timeout or 500 script_memory_limit", r.Status, r.Body)
			}
			banksWork(t, inst, id)
		})
	}
}

// TestHardeningJSMemoryWatchdog (point 6): what no builtin guard sees
// (objects pushed in a loop, a string doubled with +) is stopped once the
// running scripts hold more than --script-memory-limit, long before the
// deadline: 503 script_memory_exhausted, the memory comes back and the
// route works afterwards.
func TestHardeningJSMemoryWatchdog(t *testing.T) {
	inst := openScripting(t, func(c *dynapi.Config) { c.Connectors.ScriptMemoryLimit = 64 << 20 })
	id := inst.CreateScript(t, "getBanks", benignBanks, 0)
	before := liveHeap()
	for _, hostile := range []string{
		"const keep = []; for (;;) keep.push({n: keep.length, s: 'item ' + keep.length});",
		"let s = 'x'.repeat(65536); const keep = []; for (;;) { keep.push(s); s += s; }",
	} {
		t.Run(hostile, func(t *testing.T) {
			putScript(t, inst, id, hostile, 60000, false)
			start := time.Now()
			r := inst.Anonymous().Loopback().Get(t, "/banks")
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("stopped after %v", d)
			}
			if r.Status != http.StatusServiceUnavailable || r.Problem(t).Code != engine.CodeScriptMemoryExhausted {
				t.Fatalf("status %d %s, want 503 script_memory_exhausted", r.Status, r.Body)
			}
			banksWork(t, inst, id)
		})
	}
	if after := liveHeap(); after > before+64<<20 {
		t.Errorf("the live heap grew from %d to %d bytes", before, after)
	}
}

// panicsOnBoom is a plugin connector with a bug: it panics on bank id
// "boom", as Go code can on arguments it does not expect.
type panicsOnBoom struct{}

func (panicsOnBoom) Prepare(*connector.Method, connector.Params) (connector.Invoker, error) {
	return connector.InvokerFunc(func(_ context.Context, req *connector.Request) (*connector.Result, error) {
		if req.Args[0] == "boom" {
			panic("plugin bug: no bank boom")
		}
		return &connector.Result{Data: map[string]any{"bank_id": "plugin", "short_name": "plugin", "full_name": "plugin"}}, nil
	}), nil
}

// TestHardeningJSHostPanic (point 1, host bindings): a panic inside what a
// script calls (here a plugin connector reached through connector.call
// with a hostile argument) is an error the script can catch, naming the
// correlation id; uncaught, a 500 with the correlation id. The process and
// the route go on.
func TestHardeningJSHostPanic(t *testing.T) {
	var logs enginetest.LogBuffer
	inst := openScripting(t, func(c *dynapi.Config) {
		c.Connectors.Plugins = map[string]connector.Connector{"buggy": panicsOnBoom{}}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	inst.CreateRouting(t, map[string]any{"method_name": "getBank", "connector_name": "buggy"})
	id := inst.CreateScript(t, "getBanks", `try { await connector.call("getBank", ["boom"]); }
catch (e) { return [{bank_id: "caught", short_name: "caught", full_name: e.message}]; }
return [];`, 0)
	r := inst.Anonymous().Send(t, enginetest.Request{Method: "GET", Path: "/banks", Header: map[string]string{"X-Correlation-Id": "corr-boom-1"}})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "connector.call failed: internal error (correlation id corr-boom-1)") {
		t.Fatalf("caught: %d %s", r.Status, r.Body)
	}
	putScript(t, inst, id, `return await connector.call("getBank", ["boom"]);`, 0, false)
	r = inst.Anonymous().Send(t, enginetest.Request{Method: "GET", Path: "/banks", Header: map[string]string{"X-Correlation-Id": "corr-boom-2"}})
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("uncaught: %d %s", r.Status, r.Body)
	}
	if p := r.Problem(t); p.Code != engine.CodeScriptFailed || p.CorrelationID != "corr-boom-2" || !strings.Contains(p.Message, "corr-boom-2") {
		t.Errorf("problem %+v", p)
	}
	if !strings.Contains(logs.String(), "panic in a host binding") || !strings.Contains(logs.String(), "corr-boom-2") {
		t.Errorf("the panic is not logged with its correlation id:\n%s", logs.String())
	}
	banksWork(t, inst, id)
}

// TestHardeningJSCredentialHeaders (point 11): a script that looks for the
// caller's credentials in ctx.request.headers, and logs them, finds none,
// in any spelling; it gets the principal instead.
func TestHardeningJSCredentialHeaders(t *testing.T) {
	var logs enginetest.LogBuffer
	inst := openScripting(t, func(c *dynapi.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	alice, _, aliceID, _ := inst.BankWithAccounts(t, "gh.29.uk")
	inst.CreateScript(t, "getAccounts", `const h = ctx.request.headers, found = [];
for (const name of ["Authorization", "authorization", "AUTHORIZATION", "DirectLogin", "directlogin", "Cookie", "cookie",
    "Proxy-Authorization", "Account-Request-Information", "account-request-information"]) {
  if (h[name] !== undefined || name in h) { found.push(name + ": " + h[name]); }
}
log.info("headers", {found: found.join("; "), authorization: String(h.authorization), cookie: String(h.cookie), other: h["x-trace"]});
const p = ctx.principal, mine = await connector.call("getAccounts", args);
return mine.map(a => ({...a, label: (found.join("; ") || "none") + " | " + [p.userId, p.username, p.authMethod].join(" ")}));`, 0)
	r := inst.Token(alice).Send(t, enginetest.Request{Method: "GET", Path: "/banks/gh.29.uk/accounts", Header: map[string]string{
		"Cookie": "session=" + alice, "Proxy-Authorization": "Basic " + alice,
		"Account-Request-Information": "jwt-" + alice, "X-Trace": "visible"}})
	if r.Status != http.StatusOK {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), alice) {
		t.Errorf("the script saw credentials: %s", r.Body)
	}
	accounts, _ := r.JSON(t)["accounts"].([]any)
	if len(accounts) != 1 || accounts[0].(map[string]any)["label"] != "none | "+aliceID+" alice direct_login" {
		t.Errorf("accounts %v, want alice's labelled with no credential and her principal", accounts)
	}
	if l := logs.String(); strings.Contains(l, alice) || !strings.Contains(l, "other=visible") {
		t.Errorf("the log shows a credential or misses the visible header:\n%s", l)
	}
}

// TestHardeningJSConnectorCallRules (point 11): connector.call from a
// script applies the called route's holder and role rules to the calling
// customer. Bob calls alice's account, her shareable accounts and a
// payment from her account through scripts: each is refused as the direct
// route refuses it, and nothing moves. A caller with the role, and a
// method an admin marked unrestricted_connector_calls, reach them.
func TestHardeningJSConnectorCallRules(t *testing.T) {
	inst := enginetest.New(t)
	alice, bob, aliceID, bobID := inst.BankWithAccounts(t, "gh.29.uk")
	// The direct route refuses bob alice's account.
	if r := inst.Token(bob).Get(t, "/banks/gh.29.uk/accounts/alice-1"); r.Status != http.StatusForbidden {
		t.Fatalf("direct route: %d %s", r.Status, r.Body)
	}
	// Bob's own accounts, with what a script found about alice.
	id := inst.CreateScript(t, "getAccounts", `const [bankId] = args;
const peek = await connector.call(ctx.request.query.method, JSON.parse(ctx.request.query.args));
const mine = await connector.call("getAccounts", args);
return mine.map(a => ({...a, label: JSON.stringify(peek).slice(0, 200)}));`, 0)
	payment := map[string]any{"to": map[string]string{"bank_id": "gh.29.uk", "account_id": "bob-1"},
		"value": map[string]string{"currency": "EUR", "amount": "60.00"}, "description": "taken"}
	for _, tc := range []struct {
		name, method string
		args         []any
		status       int
	}{
		{"another's account and balance", "getAccount", []any{"gh.29.uk", "alice-1"}, http.StatusForbidden},
		{"another's transactions", "getTransactions", []any{"gh.29.uk", "alice-1", map[string]any{}}, http.StatusForbidden},
		{"every account at the bank", "getAccounts", []any{"gh.29.uk", ""}, http.StatusForbidden},
		{"another's accounts by user", "getAccounts", []any{"gh.29.uk", aliceID}, http.StatusForbidden},
		{"another's shareable accounts", "getShareableAccounts", []any{aliceID}, http.StatusForbidden},
		{"a payment from another's account", "createTransactionRequest", []any{"gh.29.uk", "alice-1", "", payment}, http.StatusForbidden},
		{"an account at a bank that does not exist", "getAccount", []any{"no.such.bank", "alice-1"}, http.StatusNotFound},
		{"opening an account without the role", "createBankAccount", []any{"gh.29.uk", map[string]any{"account_id": "bob-2", "currency": "EUR"}}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Token(bob).Send(t, enginetest.Request{Method: "GET", Path: "/banks/gh.29.uk/accounts?method=" + tc.method + "&args=" +
				url.QueryEscape(string(enginetest.MustJSON(t, tc.args))), Header: enginetest.JSONHeader()})
			if r.Status != tc.status {
				t.Fatalf("status %d %s, want %d", r.Status, r.Body, tc.status)
			}
			if strings.Contains(string(r.Body), "100.00") {
				t.Errorf("alice's balance leaked: %s", r.Body)
			}
		})
	}
	if got := inst.BalanceOf(t, alice, "gh.29.uk", "alice-1"); got != "100.00" {
		t.Errorf("alice's balance %s after bob's scripts, want 100.00", got)
	}
	// What bob may do through the routes, he may do through a script.
	r := inst.Token(bob).Send(t, enginetest.Request{Method: "GET", Path: "/banks/gh.29.uk/accounts?method=getAccount&args=" +
		url.QueryEscape(`["gh.29.uk","bob-1"]`), Header: enginetest.JSONHeader()})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `bob-1`) {
		t.Errorf("bob's own account: %d %s", r.Status, r.Body)
	}
	// A role that reaches every account at the bank reaches it through a
	// script too.
	inst.Grant(t, bobID, "gh.29.uk", "CanGetAccountsHeldAtOneBank")
	r = inst.Token(bob).Send(t, enginetest.Request{Method: "GET", Path: "/banks/gh.29.uk/accounts?method=getAccount&args=" +
		url.QueryEscape(`["gh.29.uk","alice-1"]`), Header: enginetest.JSONHeader()})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "100.00") {
		t.Errorf("with CanGetAccountsHeldAtOneBank: %d %s", r.Status, r.Body)
	}
	// An admin may mark a method unrestricted: its calls reach what its
	// caller could not.
	inst.CreateUser(t, "dave", "Dave-passw0rd-long-1")
	dave := inst.Login(t, "dave", "Dave-passw0rd-long-1")
	stored := inst.Admin().Get(t, "/admin/v1/connector-methods/"+id).JSON(t)
	putScript(t, inst, id, stored["method_body"].(string), 0, true)
	r = inst.Token(dave).Send(t, enginetest.Request{Method: "GET", Path: "/banks/gh.29.uk/accounts?method=getAccount&args=" +
		url.QueryEscape(`["gh.29.uk","alice-1"]`), Header: enginetest.JSONHeader()})
	if r.Status != http.StatusOK {
		t.Errorf("unrestricted: %d %s", r.Status, r.Body)
	}
	if got := inst.Admin().Get(t, "/admin/v1/connector-methods/"+id).JSON(t); got["unrestricted_connector_calls"] != true {
		t.Errorf("stored method %v, want unrestricted_connector_calls", got)
	}
}
