package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// hugeNumber is a number whose exponent makes math/big give up: before
// strict decoding, the JSON Schema validator dereferenced nil on it and
// the process died.
const hugeNumber = "1e10000000"

// openHardening opens an instance serving testdata/hardening-validation.yaml
// and returns it with the 201's warnings.
func openHardening(t *testing.T, cfg dynapi.Config) (*enginetest.Engine, []any) {
	t.Helper()
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/hardening-validation.yaml"))
	warnings, _ := created["warnings"].([]any)
	return inst, warnings
}

// refused checks r is a 400 problem naming a violation at location and
// pointer with code.
func refused(t *testing.T, r enginetest.Response, location, pointer, code string) {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400; body %s", r.Status, r.Body)
	}
	if p := r.Problem(t); !enginetest.HasViolation(p, location, pointer, code) {
		t.Fatalf("want a violation %s %q %s; got %s", location, pointer, code, r.Body)
	}
}

// TestHardeningValidationHugeNumbers sends, as an anonymous caller on a
// real connection to public operations, a number math/big cannot hold in
// every place a request carries one, against schemas with minimum,
// maximum and multipleOf: each is a 400 naming where, and the process
// keeps serving.
func TestHardeningValidationHugeNumbers(t *testing.T) {
	inst, _ := openHardening(t, enginetest.Config(t.TempDir()))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	cases := []struct {
		name              string
		req               enginetest.Request
		location, pointer string
	}{
		{"path", enginetest.Request{Method: "GET", Path: "/hardening/amounts/" + hugeNumber}, "path", "/amount"},
		{"query", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1?min=" + hugeNumber}, "query", "/min"},
		{"negative exponent", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1?min=1e-10000000"}, "query", "/min"},
		{"header", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1", Header: map[string]string{"X-Amount": hugeNumber}}, "header", "/x-amount"},
		{"cookie", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1", Header: map[string]string{"Cookie": "ratio=" + hugeNumber}}, "cookie", "/ratio"},
		{"JSON-content parameter", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1?filter=%7B%22min%22%3A" + hugeNumber + "%7D"}, "query", "/filter/min"},
		{"JSON body", enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: enginetest.JSONHeader(), Body: []byte(`{"amount":` + hugeNumber + `}`)}, "body", "/amount"},
		{"JSON body array item", enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: enginetest.JSONHeader(), Body: []byte(`{"amount":1,"tags":[1,` + hugeNumber + `]}`)}, "body", "/tags/1"},
		{"form body", enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: form, Body: []byte("amount=" + hugeNumber)}, "body", "/amount"},
		{"form body array item", enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: form, Body: []byte("amount=1&tags=1&tags=" + hugeNumber)}, "body", "/tags/1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, inst.Anonymous().Loopback().Send(t, tc.req), tc.location, tc.pointer, "number_range")
		})
	}
	t.Run("still serving", func(t *testing.T) {
		r := inst.Anonymous().Loopback().Send(t, enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: enginetest.JSONHeader(), Body: []byte(`{"amount":12.5,"tags":[1e3]}`)})
		if r.Status != http.StatusCreated {
			t.Fatalf("a good payment after the attacks: %d %s", r.Status, r.Body)
		}
	})
}

// TestHardeningValidationAmbiguousInput sends what two readers could read
// two ways: repeated keys and parameters, text that is not UTF-8, lone
// surrogates. Each is a 400 naming where; nothing is passed on.
func TestHardeningValidationAmbiguousInput(t *testing.T) {
	inst, _ := openHardening(t, enginetest.Config(t.TempDir()))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	payment := func(body string) enginetest.Request {
		return enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: enginetest.JSONHeader(), Body: []byte(body)}
	}
	cases := []struct {
		name                    string
		req                     enginetest.Request
		location, pointer, code string
	}{
		{"duplicate key", payment(`{"amount":1,"amount":1000000}`), "body", "/amount", "duplicate_key"},
		{"duplicate key by escape", payment(`{"amount":1,"reference":"a","referenc\u0065":"b"}`), "body", "/reference", "duplicate_key"},
		{"invalid UTF-8 in a string", payment("{\"amount\":1,\"reference\":\"a\xffb\"}"), "body", "/reference", "invalid_utf8"},
		{"lone surrogate", payment(`{"amount":1,"reference":"\ud800"}`), "body", "/reference", "lone_surrogate"},
		{"too deep", payment(`{"amount":1,"reference":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`), "body", "*", "too_deep"},
		{"form field twice", enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: form, Body: []byte("amount=1&amount=1000000")}, "body", "/amount", "duplicate_key"},
		{"form value not UTF-8", enginetest.Request{Method: "POST", Path: "/hardening/payments", Header: form, Body: []byte("amount=1&reference=%FF")}, "body", "/reference", "invalid_utf8"},
		{"path parameter not UTF-8", enginetest.Request{Method: "GET", Path: "/hardening/notes/a%FFb"}, "path", "/note", "invalid_utf8"},
		{"query parameter not UTF-8", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1?note=%C3"}, "query", "/note", "invalid_utf8"},
		{"header not UTF-8", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1", Header: map[string]string{"X-Note": "a\xffb"}}, "header", "/x-note", "invalid_utf8"},
		{"query parameter twice", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1?note=a&note=b"}, "query", "/note", "duplicate_key"},
		{"JSON-content parameter with a duplicate key", enginetest.Request{Method: "GET", Path: "/hardening/amounts/1?filter=%7B%22min%22%3A1%2C%22min%22%3A2%7D"}, "query", "/filter/min", "duplicate_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, inst.Anonymous().Send(t, tc.req), tc.location, tc.pointer, tc.code)
		})
	}
}

// TestHardeningValidationPatternBudget posts an array of values that make
// a backtracking pattern run to its timeout: the document is accepted
// with a warning naming the unbounded array, and the attack is refused at
// its first value within about one match timeout, not one per value.
func TestHardeningValidationPatternBudget(t *testing.T) {
	inst, warnings := openHardening(t, enginetest.Config(t.TempDir()))
	t.Run("warned at submission", func(t *testing.T) {
		want := map[string]string{
			"/paths/~1references/post/requestBody/content/application~1json/schema/properties/references": "pattern_unbounded_array",
			"/paths/~1references/post/parameters/0/schema":                                                "pattern_unbounded_string",
		}
		for _, w := range warnings {
			w := w.(map[string]any)
			pointer := w["pointer"].(string)
			if code, ok := want[pointer]; ok && code == w["code"] {
				delete(want, pointer)
			}
			if strings.Contains(pointer, "/responses/") {
				t.Errorf("a response schema is warned about: %v", w)
			}
		}
		if len(want) > 0 {
			t.Errorf("missing warnings %v; got %v", want, warnings)
		}
	})

	const n = 40
	refs := make([]string, n)
	for i := range refs {
		refs[i] = strings.Repeat("a", 60) + "!"
	}
	body := enginetest.MustJSON(t, map[string]any{"references": refs})
	t.Run("attack refused within the budget", func(t *testing.T) {
		start := time.Now()
		r := inst.Anonymous().Loopback().Send(t, enginetest.Request{Method: "POST", Path: "/hardening/references", Header: enginetest.JSONHeader(), Body: body})
		elapsed := time.Since(start)
		refused(t, r, "body", "/references/0", "pattern_budget")
		// One match per value to its 50 ms timeout would take n × 50 ms.
		if limit := n * 50 * time.Millisecond / 4; elapsed > limit {
			t.Errorf("refused after %v, want well under %v", elapsed, n*50*time.Millisecond)
		}
	})
	t.Run("good values still match", func(t *testing.T) {
		r := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/hardening/references", Header: enginetest.JSONHeader(),
			Body: enginetest.MustJSON(t, map[string]any{"references": []string{"a", "aaaa", strings.Repeat("a", 64)}})})
		if r.Status != http.StatusOK {
			t.Fatalf("good references: %d %s", r.Status, r.Body)
		}
	})

	t.Run("configured budget", func(t *testing.T) {
		cfg := enginetest.Config(t.TempDir())
		cfg.PatternBudget = 10 * time.Millisecond
		small, _ := openHardening(t, cfg)
		r := small.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/hardening/references", Header: enginetest.JSONHeader(), Body: body})
		refused(t, r, "body", "/references/0", "pattern_budget")
		if p := r.Problem(t); !strings.Contains(p.Violations[0].Message, "used up its 10ms") {
			t.Errorf("the message should name the budget: %s", r.Body)
		}
	})
}

// TestHardeningValidationBankingCore pays through the banking core with
// bodies a lenient decoder reads one way and a signer or log another:
// each is a 400 naming where, and no money moves.
func TestHardeningValidationBankingCore(t *testing.T) {
	inst := enginetest.New(t)
	alice, _, _, _ := inst.BankWithAccounts(t, "gh.29.uk")
	to := `"to":{"bank_id":"gh.29.uk","account_id":"bob-1"}`
	cases := []struct {
		name, body, pointer, code string
	}{
		{"duplicate amount", `{` + to + `,"value":{"currency":"EUR","amount":"1.00","amount":"90.00"}}`, "/value/amount", "duplicate_key"},
		{"member named in another case", `{` + to + `,"Value":{"currency":"EUR","amount":"90.00"}}`, "/Value", "additionalProperties"},
		{"huge number", `{` + to + `,"value":{"currency":"EUR","amount":` + hugeNumber + `}}`, "/value/amount", "number_range"},
		{"description not UTF-8", "{" + to + ",\"value\":{\"currency\":\"EUR\",\"amount\":\"1.00\"},\"description\":\"rent \xff\"}", "/description", "invalid_utf8"},
		{"lone surrogate", `{` + to + `,"value":{"currency":"EUR","amount":"1.00"},"description":"rent \udc00"}`, "/description", "lone_surrogate"},
		{"unknown member", `{` + to + `,"value":{"currency":"EUR","amount":"1.00"},"fee":"0"}`, "/fee", "additionalProperties"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Token(alice).Send(t, enginetest.Request{Method: "POST", Path: "/banks/gh.29.uk/accounts/alice-1/transaction-requests",
				Header: enginetest.JSONHeader(), Body: []byte(tc.body)})
			refused(t, r, "body", tc.pointer, tc.code)
		})
	}
	if got := inst.BalanceOf(t, alice, "gh.29.uk", "alice-1"); got != "100.00" {
		t.Errorf("alice's balance is %s after refused payments, want 100.00", got)
	}
	if r := inst.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "1.00", ""); r.Status != http.StatusCreated {
		t.Fatalf("a good payment: %d %s", r.Status, r.Body)
	}
}

// TestHardeningValidationBackendAnswers routes getBanks (a public route)
// to a REST back end on loopback, and then to a script, answering what the
// engine must not pass on: a number math/big cannot hold, a duplicate key,
// text that is not UTF-8, a lone surrogate. Each is a 502
// invalid_connector_result naming where in the answer.
func TestHardeningValidationBackendAnswers(t *testing.T) {
	inst := enginetest.New(t)
	var answer atomic.Value // the data the back end answers, as JSON text
	core := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"inboundAdapterCallContext":{"correlationId":"c"},"status":{"errorCode":"","backendMessages":[]},"data":` +
			answer.Load().(string) + `}`))
	}))
	t.Cleanup(core.Close)
	routing := inst.CreateRouting(t, map[string]any{"method_name": "getBanks", "connector_name": "rest", "is_bank_id_exact_match": false,
		"bank_id_pattern": ".*", "parameters": []map[string]string{{"key": "url", "value": core.URL + "/banks"}}})
	bank := `{"bank_id":"b-1","short_name":"B","full_name":"Bank B"`
	cases := []struct {
		name, data, pointer, code string
	}{
		{"huge number", `[` + bank + `,"rating":` + hugeNumber + `}]`, "/data/0/rating", "number_range"},
		{"duplicate key", `[` + bank + `,"bank_id":"b-2"}]`, "/data/0/bank_id", "duplicate_key"},
		{"not UTF-8", `[{"bank_id":"b-1","short_name":"B` + "\xff" + `","full_name":"Bank B"}]`, "/data/0/short_name", "invalid_utf8"},
		{"lone surrogate", `[{"bank_id":"b-1","short_name":"B\ud800","full_name":"Bank B"}]`, "/data/0/short_name", "lone_surrogate"},
	}
	for _, tc := range cases {
		t.Run("REST "+tc.name, func(t *testing.T) {
			answer.Store(tc.data)
			r := inst.Anonymous().Get(t, "/banks")
			if r.Status != http.StatusBadGateway || r.Problem(t).Code != "invalid_connector_result" || !enginetest.HasViolation(r.Problem(t), "inbound", tc.pointer, tc.code) {
				t.Fatalf("status %d, want 502 invalid_connector_result naming %s %s; body %s", r.Status, tc.pointer, tc.code, r.Body)
			}
		})
	}
	t.Run("REST good answer", func(t *testing.T) {
		answer.Store(`[` + bank + `}]`)
		if r := inst.Anonymous().Get(t, "/banks"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"b-1"`) {
			t.Fatalf("good answer: %d %s", r.Status, r.Body)
		}
	})
	if r := inst.Admin().Delete(t, "/admin/v1/method-routings/"+routing); r.Status != http.StatusNoContent {
		t.Fatalf("delete routing: %d %s", r.Status, r.Body)
	}

	t.Run("script answering a lone surrogate", func(t *testing.T) {
		inst.CreateScript(t, "getBanks", `return [{bank_id: "b-1", short_name: "B\ud800", full_name: "Bank B"}];`, 0)
		r := inst.Anonymous().Get(t, "/banks")
		if r.Status != http.StatusBadGateway || !enginetest.HasViolation(r.Problem(t), "data", "/0/short_name", "lone_surrogate") {
			t.Fatalf("status %d, want 502 naming /0/short_name; body %s", r.Status, r.Body)
		}
	})
}

// TestHardeningValidationRecordPanicContained: a record value that makes
// the schema library panic (a number big.Rat cannot hold, checked against
// a minimum) costs its request a 400, never the process.
func TestHardeningValidationRecordPanicContained(t *testing.T) {
	inst := enginetest.New(t)
	def := `{"Offer": {"description": "An offer", "required": ["amount"], "properties": {
		"amount": {"type": "number", "minimum": 0, "example": 10}}}, "hasPersonalEntity": true}`
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-entities", Header: enginetest.JSONHeader(), Body: []byte(def)}); r.Status != http.StatusCreated {
		t.Fatalf("create entity: %d %s", r.Status, r.Body)
	}
	r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(`{"amount":` + hugeNumber + `}`)})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400; body %s", r.Status, r.Body)
	}
	var ok map[string]any
	r = inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(`{"amount":5}`)})
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &ok) != nil {
		t.Fatalf("a good record after: %d %s", r.Status, r.Body)
	}
}
