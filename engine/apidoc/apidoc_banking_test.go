package apidoc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/specs"
)

// wantBankingRoutes is the banking core as its document serves it, written
// out here rather than read from banking.Document, so the test does not check
// the table against itself.
var wantBankingRoutes = []bankingRoute{
	{"GET", "/banks", banking.GetBanks, 200, true},
	{"GET", "/banks/{bank_id}", banking.GetBank, 200, true},
	{"GET", "/banks/{bank_id}/accounts", banking.GetAccounts, 200, false},
	{"POST", "/banks/{bank_id}/accounts", banking.CreateBankAccount, 201, false},
	{"GET", "/banks/{bank_id}/accounts/{account_id}", banking.GetAccount, 200, false},
	{"GET", "/banks/{bank_id}/accounts/{account_id}/transactions", banking.GetTransactions, 200, false},
	{"GET", "/banks/{bank_id}/accounts/{account_id}/counterparties", banking.GetCounterparties, 200, false},
	{"POST", "/banks/{bank_id}/accounts/{account_id}/counterparties", banking.CreateCounterparty, 201, false},
	{"GET", "/banks/{bank_id}/accounts/{account_id}/counterparties/{counterparty_id}", banking.GetCounterparty, 200, false},
	{"POST", "/banks/{bank_id}/accounts/{account_id}/transaction-requests", banking.CreateTransactionRequest, 201, false},
	{"GET", "/my/accounts", banking.GetShareableAccounts, 200, false},
	{"GET", "/my/payable-accounts", banking.GetPayableAccounts, 200, false},
}

// bankingRoute is one route of the banking core.
type bankingRoute struct {
	method, path, operationID string
	status                    int
	public                    bool
}

// accountEntityDef is a system-level entity named like a banking schema,
// whose getAccount operation would clash with the banking core's.
const accountEntityDef = `{"Account": {"description": "An entity named like a banking type", "required": ["name"], "properties": {
  "name": {"type": "string", "minLength": 2, "maxLength": 40, "example": "Jane Doe"}}}, "hasPersonalEntity": false}`

// loadOpenAPI compiles /openapi.json as OpenAPI 3.1 with kin-openapi.
func loadOpenAPI(t *testing.T, inst *enginetest.Engine) (*openapi3.T, []byte) {
	t.Helper()
	r := inst.Admin().Get(t, "/openapi.json")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, r.Body)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("kin-openapi cannot load /openapi.json: %v", err)
	}
	// Documents may carry ECMA-262 patterns Go's regexp cannot read (a
	// lookahead), which the engine accepts.
	if err := doc.Validate(context.Background(), openapi3.DisableSchemaPatternValidation()); err != nil {
		t.Fatalf("/openapi.json is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("/openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	return doc, r.Body
}

func operation(t *testing.T, doc *openapi3.T, method, path string) *openapi3.Operation {
	t.Helper()
	item := doc.Paths.Value(path)
	if item == nil {
		t.Fatalf("%s is not described", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		t.Fatalf("%s %s is not described", method, path)
	}
	return op
}

// holderRoles reads the orRoles of an operation's x-dynapi-holder, and
// whether it has one.
func holderRoles(op *openapi3.Operation) ([]string, bool) {
	h, ok := op.Extensions["x-dynapi-holder"].(map[string]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	roles, _ := h["orRoles"].([]any)
	for _, r := range roles {
		s, _ := r.(string)
		out = append(out, s)
	}
	return out, true
}

func extensionStrings(op *openapi3.Operation, name string) ([]string, bool) {
	v, ok := op.Extensions[name].([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, s := range v {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out, true
}

// TestOpenAPIBankingCore checks that /openapi.json describes every route of
// the built-in banking core (operation ids, statuses, parameters, bodies,
// envelopes, access), that the document is valid OpenAPI 3.1 for
// kin-openapi and for the engine's own loader, and that real requests to
// every banking route and their answers validate against it.
func TestOpenAPIBankingCore(t *testing.T) {
	inst := enginetest.New(t)
	const bank = "gh.29.uk"
	inst.CreateBank(t, bank)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", accountEntityDef)
	doc, raw := loadOpenAPI(t, inst)

	t.Run("every route", func(t *testing.T) {
		for _, w := range wantBankingRoutes {
			op := operation(t, doc, w.method, w.path)
			if op.OperationID != w.operationID {
				t.Errorf("%s %s: operationId %q, want %q", w.method, w.path, op.OperationID, w.operationID)
			}
			if op.Summary == "" || !slices.Equal(op.Tags, []string{"Banking core"}) {
				t.Errorf("%s %s: summary %q, tags %v", w.method, w.path, op.Summary, op.Tags)
			}
			ok := op.Responses.Status(w.status)
			if ok == nil || ok.Value.Content.Get("application/json") == nil || ok.Value.Content.Get("application/json").Schema == nil {
				t.Errorf("%s %s: no JSON schema for status %d", w.method, w.path, w.status)
			}
			for _, other := range []int{200, 201} {
				if other != w.status && op.Responses.Status(other) != nil {
					t.Errorf("%s %s: describes %d besides %d", w.method, w.path, other, w.status)
				}
			}
			if (w.method == "POST") != (op.RequestBody != nil) {
				t.Errorf("%s %s: request body %v", w.method, w.path, op.RequestBody)
			}
			roles, hasRoles := extensionStrings(op, "x-dynapi-roles")
			switch {
			case w.public && (op.Security == nil || len(*op.Security) != 0 || op.Extensions["x-dynapi-public"] != true):
				t.Errorf("%s %s is public: security %v, extensions %v", w.method, w.path, op.Security, op.Extensions)
			case !w.public && (op.Security != nil || !hasRoles):
				t.Errorf("%s %s needs login: security %v, x-dynapi-roles %v", w.method, w.path, op.Security, roles)
			}
			if op.Description == "" {
				t.Errorf("%s %s does not say who may call it", w.method, w.path)
			}
			for _, name := range regexpParams(w.path) {
				if p := op.Parameters.GetByInAndName("path", name); p == nil || !p.Required {
					t.Errorf("%s %s: path parameter %s: %+v", w.method, w.path, name, p)
				}
			}
		}
		if len(doc.Security) != 2 {
			t.Errorf("default security: %v", doc.Security)
		}
	})

	t.Run("the document served is the one described", func(t *testing.T) {
		ops := banking.Document().Operations
		if len(ops) != len(wantBankingRoutes) {
			t.Fatalf("%d operations, want %d", len(ops), len(wantBankingRoutes))
		}
		methods := map[string][]string{}
		for _, m := range banking.Methods() {
			for _, e := range m.Endpoints {
				methods[m.Name] = append(methods[m.Name], e.Method+" "+e.Path)
			}
		}
		for _, op := range ops {
			i := slices.IndexFunc(wantBankingRoutes, func(w bankingRoute) bool { return w.method == op.Method && w.path == op.Path })
			if i < 0 {
				t.Errorf("%s %s is served but not wanted", op.Method, op.Path)
				continue
			}
			if w := wantBankingRoutes[i]; op.ID != w.operationID || op.Access.Public != w.public {
				t.Errorf("%s %s: %s public=%v, want %+v", op.Method, op.Path, op.ID, op.Access.Public, w)
			}
			if !slices.Contains(methods[op.ID], op.Method+" "+op.Path) {
				t.Errorf("the message doc of %s does not name %s %s: %v", op.ID, op.Method, op.Path, methods[op.ID])
			}
		}
	})

	t.Run("parameters", func(t *testing.T) {
		op := operation(t, doc, "GET", "/banks/{bank_id}/accounts/{account_id}/transactions")
		for _, name := range []string{"from_date", "to_date"} {
			p := op.Parameters.GetByInAndName("query", name)
			if p == nil || !p.Schema.Value.Type.Is("string") || len(p.Schema.Value.AnyOf) != 2 ||
				p.Schema.Value.AnyOf[0].Value.Format != "date-time" || p.Schema.Value.AnyOf[1].Value.Format != "date" {
				t.Errorf("query %s: %+v", name, p)
			}
		}
		for _, name := range []string{"limit", "offset"} {
			p := op.Parameters.GetByInAndName("query", name)
			if p == nil || !p.Schema.Value.Type.Is("integer") || p.Schema.Value.Min == nil || *p.Schema.Value.Min != 0 {
				t.Errorf("query %s: %+v", name, p)
			}
		}
		pay := operation(t, doc, "POST", "/banks/{bank_id}/accounts/{account_id}/transaction-requests")
		if p := pay.Parameters.GetByInAndName("header", "Idempotency-Key"); p == nil || p.Required || !p.Schema.Value.Type.Is("string") {
			t.Errorf("Idempotency-Key: %+v", p)
		}
	})

	t.Run("bodies, envelopes and schemas", func(t *testing.T) {
		for _, name := range []string{"Bank", "Account", "Amount", "Owner", "Routing", "Transaction", "Party", "Counterparty",
			"TransactionRequest", "AccountRef", "TransactionRequestBody", "NewAccount", "NewCounterparty"} {
			if doc.Components.Schemas[name] == nil {
				t.Errorf("components/schemas/%s is missing", name)
			}
		}
		if ref := doc.Components.Schemas["Account"].Value.Properties["balance"].Ref; ref != "#/components/schemas/Amount" {
			t.Errorf("Account.balance is %q, want a reference to Amount", ref)
		}
		for path, want := range map[string]string{
			"/banks/{bank_id}/accounts":                                               "NewAccount",
			"/banks/{bank_id}/accounts/{account_id}/counterparties":                   "NewCounterparty",
			"/banks/{bank_id}/accounts/{account_id}/transaction-requests":             "TransactionRequestBody",
			"/banks/{bank_id}/accounts/{account_id}/counterparties/{counterparty_id}": "",
		} {
			method := "POST"
			if want == "" {
				method = "GET"
			}
			op := operation(t, doc, method, path)
			if want == "" {
				continue
			}
			if got := op.RequestBody.Value.Content.Get("application/json").Schema.Ref; got != "#/components/schemas/"+want || !op.RequestBody.Value.Required {
				t.Errorf("POST %s body: %q, want %s", path, got, want)
			}
		}
		for path, key := range map[string]string{"/banks": "banks", "/banks/{bank_id}/accounts": "accounts",
			"/banks/{bank_id}/accounts/{account_id}/transactions":   "transactions",
			"/banks/{bank_id}/accounts/{account_id}/counterparties": "counterparties", "/my/accounts": "accounts"} {
			s := operation(t, doc, "GET", path).Responses.Status(200).Value.Content.Get("application/json").Schema.Value
			if list := s.Properties[key]; list == nil || !list.Value.Type.Is("array") || !slices.Contains(s.Required, key) {
				t.Errorf("GET %s answers %v, want {%q: [...]}", path, s, key)
			}
		}
		if ref := operation(t, doc, "GET", "/banks/{bank_id}/accounts/{account_id}").Responses.Status(200).Value.
			Content.Get("application/json").Schema.Ref; ref != "#/components/schemas/Account" {
			t.Errorf("GET one account answers %q, want an unwrapped Account", ref)
		}
	})

	t.Run("access", func(t *testing.T) {
		readAny := []string{banking.RoleCanGetAccountsHeldAtOneBank, banking.RoleCanGetAccountsHeldAtAnyBank}
		payAny := []string{banking.RoleCanCreateAnyTransactionRequest}
		for _, c := range []struct {
			method, path  string
			roles, holder []string // holder nil: not a holder route
		}{
			{"GET", "/banks/{bank_id}/accounts", []string{}, readAny},
			{"POST", "/banks/{bank_id}/accounts", []string{banking.RoleCanCreateAccount}, nil},
			{"GET", "/banks/{bank_id}/accounts/{account_id}/transactions", []string{}, readAny},
			{"POST", "/banks/{bank_id}/accounts/{account_id}/counterparties", []string{}, payAny},
			{"POST", "/banks/{bank_id}/accounts/{account_id}/transaction-requests", []string{}, payAny},
			{"GET", "/my/payable-accounts", []string{}, []string{}},
		} {
			op := operation(t, doc, c.method, c.path)
			roles, _ := extensionStrings(op, "x-dynapi-roles")
			holder, isHolder := holderRoles(op)
			if !slices.Equal(roles, c.roles) || isHolder != (c.holder != nil) || !slices.Equal(holder, c.holder) {
				t.Errorf("%s %s: x-dynapi-roles %v, x-dynapi-holder orRoles %v (%v)", c.method, c.path, roles, holder, isHolder)
			}
			for _, role := range append(slices.Clone(c.roles), c.holder...) {
				if !strings.Contains(op.Description, role) {
					t.Errorf("%s %s: the description %q does not name %s", c.method, c.path, op.Description, role)
				}
			}
		}
	})

	t.Run("an entity named like a banking type does not clash", func(t *testing.T) {
		if op := operation(t, doc, "GET", "/banks/{bank_id}/accounts/{account_id}"); op.OperationID != banking.GetAccount {
			t.Errorf("banking getAccount became %q", op.OperationID)
		}
		op := operation(t, doc, "GET", "/entities/Account/{id}")
		if op.OperationID == banking.GetAccount || !strings.HasPrefix(op.OperationID, banking.GetAccount) {
			t.Errorf("the entity's get operation is %q", op.OperationID)
		}
		if ref := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value.Properties["account"].Ref; ref != "#/components/schemas/DynamicEntity_Account" {
			t.Errorf("the entity's schema is %q", ref)
		}
		if _, ok := doc.Components.Schemas["Account"].Value.Properties["balance"]; !ok {
			t.Error("the entity replaced the banking Account schema")
		}
	})

	t.Run("the engine reads its own description", func(t *testing.T) {
		sd, err := specs.Load(raw, "application/json", specs.Options{})
		if err != nil {
			t.Fatalf("the engine refuses its own description: %v", err)
		}
		ops := map[string]*specs.Operation{}
		for _, op := range sd.Operations {
			ops[op.Method+" "+op.Path] = op
		}
		if op := ops["GET /banks"]; op == nil || !op.Access.Public {
			t.Errorf("GET /banks: %+v", op)
		}
		if op := ops["POST /banks/{bank_id}/accounts"]; op == nil || !slices.Equal(op.Access.Roles, []string{banking.RoleCanCreateAccount}) {
			t.Errorf("POST accounts: %+v", op)
		}
		if op := ops["GET /my/accounts"]; op == nil || !op.Access.RolesDeclared || len(op.Access.Roles) != 0 || op.Access.Public {
			t.Errorf("GET /my/accounts: %+v", op)
		}
	})

	t.Run("real answers validate", func(t *testing.T) {
		me := inst.Admin().Get(t, "/my/user").JSON(t)["user_id"].(string)
		inst.Grant(t, me, bank, banking.RoleCanCreateAccount)
		validated := map[string]bool{}
		call := func(t *testing.T, method, tmpl, path string, body any, headers map[string]string, anonymous bool) enginetest.Response {
			t.Helper()
			op := operation(t, doc, method, tmpl)
			var raw []byte
			if body != nil {
				raw = enginetest.MustJSON(t, body)
			}
			h := enginetest.JSONHeader()
			for k, v := range headers {
				h[k] = v
			}
			caller := inst.Admin()
			if anonymous {
				caller = inst.Anonymous()
			}
			r := caller.Send(t, enginetest.Request{Method: method, Path: path, Body: raw, Header: h})
			want := map[string]int{"GET": 200, "POST": 201}[method]
			if r.Status != want {
				t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
			validateExchange(t, doc, op, method, tmpl, path, raw, h, r)
			validated[op.OperationID] = true
			return r
		}
		accounts := "/banks/" + bank + "/accounts"
		call(t, "GET", "/banks", "/banks", nil, nil, true)
		call(t, "GET", "/banks/{bank_id}", "/banks/"+bank, nil, nil, true)
		for _, acc := range []struct{ id, amount string }{{"acc-1", "1.00"}, {"acc-2", "0"}} {
			call(t, "POST", "/banks/{bank_id}/accounts", accounts, map[string]any{"account_id": acc.id, "currency": "EUR",
				"balance": map[string]string{"currency": "EUR", "amount": acc.amount}, "owners": []map[string]string{{"user_id": me}}}, nil, false)
		}
		list := call(t, "GET", "/banks/{bank_id}/accounts", accounts, nil, nil, false)
		if got := list.JSON(t)["accounts"].([]any); len(got) != 2 {
			t.Fatalf("accounts: %s", list.Body)
		}
		one := "/banks/{bank_id}/accounts/{account_id}"
		call(t, "GET", one, accounts+"/acc-1", nil, nil, false)
		txs := call(t, "GET", one+"/transactions", accounts+"/acc-1/transactions?from_date=2020-01-01&to_date=2100-01-01T00:00:00Z&limit=10&offset=0",
			nil, nil, false)
		if got := txs.JSON(t)["transactions"].([]any); len(got) != 1 {
			t.Fatalf("transactions: %s", txs.Body)
		}
		cp := call(t, "POST", one+"/counterparties", accounts+"/acc-1/counterparties",
			map[string]any{"name": "Landlord", "other_bank_id": bank, "other_account_id": "acc-2"}, nil, false).JSON(t)["counterparty_id"].(string)
		call(t, "GET", one+"/counterparties", accounts+"/acc-1/counterparties", nil, nil, false)
		call(t, "GET", one+"/counterparties/{counterparty_id}", accounts+"/acc-1/counterparties/"+cp, nil, nil, false)
		call(t, "POST", one+"/transaction-requests", accounts+"/acc-1/transaction-requests",
			map[string]any{"to": map[string]string{"bank_id": bank, "account_id": "acc-2"},
				"value": map[string]string{"currency": "EUR", "amount": "0.50"}, "description": "test"},
			map[string]string{"Idempotency-Key": "pay-1"}, false)
		call(t, "GET", "/my/accounts", "/my/accounts", nil, nil, false)
		call(t, "GET", "/my/payable-accounts", "/my/payable-accounts", nil, nil, false)
		for _, w := range wantBankingRoutes {
			if !validated[w.operationID] {
				t.Errorf("%s was not exercised", w.operationID)
			}
		}

		// The validation has teeth: answers not as described are refused.
		op := operation(t, doc, "GET", "/banks/{bank_id}/accounts")
		for _, body := range []string{`{"accounts": [{"account_id": 1}]}`, `[]`, `{"accounts": [], "next": 1}`} {
			bad := enginetest.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
			var refused *openapi3filter.ResponseError
			if err := exchangeError(doc, op, "GET", "/banks/{bank_id}/accounts", accounts, nil, nil, bad); !errors.As(err, &refused) {
				t.Errorf("%s as an accounts answer: %v, want a response error", body, err)
			}
		}
	})
}

// regexpParams names the path parameters of a template.
func regexpParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

// validateExchange checks a request and its answer against the operation
// the document declares for them.
func validateExchange(t *testing.T, doc *openapi3.T, op *openapi3.Operation, method, tmpl, path string, body []byte,
	headers map[string]string, r enginetest.Response) {
	t.Helper()
	if err := exchangeError(doc, op, method, tmpl, path, body, headers, r); err != nil {
		t.Fatalf("%s %s does not match /openapi.json: %v\n%s", method, path, err, r.Body)
	}
}

func exchangeError(doc *openapi3.T, op *openapi3.Operation, method, tmpl, path string, body []byte,
	headers map[string]string, r enginetest.Response) error {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	params := map[string]string{}
	tmplSegs, pathSegs := strings.Split(tmpl, "/"), strings.Split(strings.SplitN(path, "?", 2)[0], "/")
	for i, seg := range tmplSegs {
		if strings.HasPrefix(seg, "{") {
			params[seg[1:len(seg)-1]] = pathSegs[i]
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params,
		Route:   &routers.Route{Spec: doc, Path: tmpl, PathItem: doc.Paths.Value(tmpl), Method: method, Operation: op},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	ctx := context.Background()
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return err
	}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
		Status: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}})
}
