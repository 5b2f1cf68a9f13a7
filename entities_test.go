package dynapi_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/specs"
)

const customerDef = `{"Customer": {"description": "A bank customer", "required": ["name"], "properties": {
  "name": {"type": "string", "minLength": 2, "maxLength": 40, "example": "Jane Doe"},
  "email": {"type": "string", "format": "email", "example": "jane@example.com"},
  "segment": {"type": "string", "enum": ["RETAIL", "BUSINESS"], "example": "RETAIL"}}}, "hasPersonalEntity": false}`

const loanOfferDef = `{"LoanOffer": {"description": "An offer", "required": ["amount", "customer_id"], "properties": {
  "amount": {"type": "number", "minimum": 0, "maximum": 1000000, "example": 1000.5},
  "product": {"type": "string", "minLength": 2, "maxLength": 30, "example": "PERSONAL"},
  "valid_until": {"type": "DATE_WITH_DAY", "example": "2025-12-31"},
  "customer_id": {"type": "reference:Customer", "example": "c-1"},
  "terms": {"type": "object", "required": ["months"], "properties": {"months": {"type": "integer", "minimum": 1, "example": 12}}},
  "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "example": ["a"]}}}, "hasPersonalEntity": true}`

// createEntity defines an entity and returns its id.
func createEntity(t testing.TB, inst *dynapi.Instance, path, def string) string {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: path, headers: jsonHeaders(), body: []byte(def)})
	if r.status != http.StatusCreated {
		t.Fatalf("define entity: %d %s", r.status, r.body)
	}
	return r.json(t)["dynamic_entity_id"].(string)
}

func TestDynamicEntities(t *testing.T) {
	inst := open(t, "")
	createEntity(t, inst, "/admin/v1/dynamic-entities", customerDef)
	loanID := createEntity(t, inst, "/admin/v1/dynamic-entities", loanOfferDef)

	post := func(path, body string) response {
		return do(t, inst, request{method: "POST", path: path, headers: jsonHeaders(), body: []byte(body)})
	}
	cust := post("/entities/Customer", `{"name":"Jane Doe","segment":"RETAIL"}`)
	if cust.status != 201 {
		t.Fatalf("create customer: %d %s", cust.status, cust.body)
	}
	custID := cust.json(t)["customer"].(map[string]any)["customer_id"].(string)

	t.Run("records", func(t *testing.T) {
		cases := []struct {
			name, body string
			status     int
			pointer    string
		}{
			{"valid", `{"amount": 5000, "product": "PERSONAL", "valid_until": "2026-01-31", "customer_id": "` + custID + `", "terms": {"months": 24}, "tags": ["x"]}`, 201, ""},
			{"integer accepted as number", `{"amount": 7, "customer_id": "` + custID + `"}`, 201, ""},
			{"missing required", `{"product": "PERSONAL", "customer_id": "` + custID + `"}`, 400, "/amount"},
			{"over maximum", `{"amount": 2000000, "customer_id": "` + custID + `"}`, 400, "/amount"},
			{"bad date", `{"amount": 1, "valid_until": "2025-02-30", "customer_id": "` + custID + `"}`, 400, "/valid_until"},
			{"nested required", `{"amount": 1, "customer_id": "` + custID + `", "terms": {}}`, 400, "/terms/months"},
			{"array item too long", `{"amount": 1, "customer_id": "` + custID + `", "tags": ["much-too-long-tag"]}`, 400, "/tags/0"},
			{"undeclared field", `{"amount": 1, "customer_id": "` + custID + `", "colour": "red"}`, 400, ""},
			{"missing reference", `{"amount": 1, "customer_id": "no-such-customer"}`, 400, "/customer_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := post("/entities/LoanOffer", tc.body)
				if r.status != tc.status {
					t.Fatalf("%d %s", r.status, r.body)
				}
				if tc.pointer != "" && !hasViolation(r.problem(t), "body", tc.pointer, "*") {
					t.Fatalf("no violation at %s: %s", tc.pointer, r.body)
				}
			})
		}
	})

	t.Run("get, replace, patch, delete", func(t *testing.T) {
		r := post("/entities/LoanOffer", `{"loan_offer_id": "offer-1", "amount": 10, "customer_id": "`+custID+`"}`)
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if got := do(t, inst, request{method: "GET", path: "/entities/LoanOffer/offer-1"}); got.status != 200 || !strings.Contains(string(got.body), `"loan_offer":{`) {
			t.Fatalf("get: %d %s", got.status, got.body)
		}
		put := do(t, inst, request{method: "PUT", path: "/entities/LoanOffer/offer-1", headers: jsonHeaders(), body: []byte(`{"amount": 11, "customer_id": "` + custID + `"}`)})
		if put.status != 200 || !strings.Contains(string(put.body), `"amount":11`) {
			t.Fatalf("put: %d %s", put.status, put.body)
		}
		patch := do(t, inst, request{method: "PATCH", path: "/entities/LoanOffer/offer-1", headers: jsonHeaders(), body: []byte(`{"product": "CAR"}`)})
		if patch.status != 200 || !strings.Contains(string(patch.body), `"product":"CAR"`) || !strings.Contains(string(patch.body), `"amount":11`) {
			t.Fatalf("patch: %d %s", patch.status, patch.body)
		}
		if d := do(t, inst, request{method: "DELETE", path: "/entities/LoanOffer/offer-1"}); d.status != 204 {
			t.Fatalf("delete: %d", d.status)
		}
		if g := do(t, inst, request{method: "GET", path: "/entities/LoanOffer/offer-1"}); g.status != 404 {
			t.Fatalf("deleted record: %d", g.status)
		}
	})

	t.Run("list, filter, page", func(t *testing.T) {
		for i := range 12 {
			post("/entities/LoanOffer", fmt.Sprintf(`{"amount": %d, "product": "P%d", "customer_id": "%s"}`, 100+i, i%3, custID))
		}
		page := do(t, inst, request{method: "GET", path: "/entities/LoanOffer?amount[gte]=105&amount[lt]=110&sort_by=amount&count=true"}).json(t)
		list := page["loan_offer_list"].([]any)
		if len(list) != 5 || page["total"] == nil {
			t.Fatalf("range filter: %v", page)
		}
		if first := list[0].(map[string]any)["amount"]; fmt.Sprint(first) != "105" {
			t.Errorf("sorted ascending from 105, got %v", first)
		}
		or := do(t, inst, request{method: "GET", path: "/entities/LoanOffer?product=P1&product=P2"}).json(t)["loan_offer_list"].([]any)
		if len(or) != 8 {
			t.Errorf("product=P1 OR P2: %d records", len(or))
		}
		seen := map[string]bool{}
		cursor := ""
		for range 20 {
			path := "/entities/LoanOffer?limit=5"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			p := do(t, inst, request{method: "GET", path: path}).json(t)
			for _, rec := range p["loan_offer_list"].([]any) {
				id := rec.(map[string]any)["loan_offer_id"].(string)
				if seen[id] {
					t.Fatalf("record %s on two pages", id)
				}
				seen[id] = true
			}
			next, _ := p["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) < 13 {
			t.Errorf("paging saw %d records", len(seen))
		}
		if r := do(t, inst, request{method: "GET", path: "/entities/LoanOffer?colour=red"}); r.status != 400 {
			t.Errorf("unknown filter field: %d", r.status)
		}
	})

	t.Run("references", func(t *testing.T) {
		c2 := post("/entities/Customer", `{"name":"Referenced"}`).json(t)["customer"].(map[string]any)["customer_id"].(string)
		post("/entities/LoanOffer", `{"amount": 1, "customer_id": "`+c2+`"}`)
		if r := do(t, inst, request{method: "DELETE", path: "/entities/Customer/" + c2}); r.status != 409 {
			t.Fatalf("delete referenced: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "DELETE", path: "/entities/Customer/" + c2 + "?cascade=true"}); r.status != 204 {
			t.Fatalf("cascade: %d %s", r.status, r.body)
		}
		if list := do(t, inst, request{method: "GET", path: "/entities/LoanOffer?customer_id=" + c2}).json(t)["loan_offer_list"].([]any); len(list) != 0 {
			t.Errorf("cascade left %d referrers", len(list))
		}
	})

	t.Run("personal records", func(t *testing.T) {
		createUser(t, inst, "kim", "Kim-passw0rd-1")
		createUser(t, inst, "lee", "Lee-passw0rd-1")
		kim, lee := login(t, inst, "kim", "Kim-passw0rd-1"), login(t, inst, "lee", "Lee-passw0rd-1")
		r := do(t, inst, request{method: "POST", path: "/my/entities/LoanOffer", headers: as(kim), body: []byte(`{"amount": 3, "customer_id": "` + custID + `"}`)})
		if r.status != 201 {
			t.Fatalf("personal create: %d %s", r.status, r.body)
		}
		id := r.json(t)["loan_offer"].(map[string]any)["loan_offer_id"].(string)
		if g := do(t, inst, request{method: "GET", path: "/my/entities/LoanOffer/" + id, headers: as(lee)}); g.status != 404 {
			t.Errorf("another user reads a personal record: %d", g.status)
		}
		if l := do(t, inst, request{method: "GET", path: "/my/entities/LoanOffer", headers: as(lee)}).json(t)["loan_offer_list"].([]any); len(l) != 0 {
			t.Errorf("another user lists %d personal records", len(l))
		}
		if l := do(t, inst, request{method: "GET", path: "/my/entities/LoanOffer", headers: as(kim)}).json(t)["loan_offer_list"].([]any); len(l) != 1 {
			t.Errorf("the owner lists %d personal records", len(l))
		}
		if g := do(t, inst, request{method: "GET", path: "/entities/LoanOffer/" + id}); g.status != 404 {
			t.Errorf("a personal record shows among shared ones: %d", g.status)
		}
		if r := do(t, inst, request{method: "GET", path: "/my/entities/Customer", headers: as(kim)}); r.status != 404 {
			t.Errorf("personal records of an entity without them: %d", r.status)
		}
	})

	t.Run("roles", func(t *testing.T) {
		mia := createUser(t, inst, "mia", "Mia-passw0rd-1")
		token := login(t, inst, "mia", "Mia-passw0rd-1")
		r := do(t, inst, request{method: "GET", path: "/entities/LoanOffer", headers: as(token)})
		if r.status != 403 || !strings.Contains(strings.Join(r.problem(t).MissingRoles, ","), "CanGetDynamicEntity_SystemLoanOffer") {
			t.Fatalf("before grant: %d %s", r.status, r.body)
		}
		grant(t, inst, mia, "", "CanGetDynamicEntity_SystemLoanOffer")
		if r := do(t, inst, request{method: "GET", path: "/entities/LoanOffer", headers: as(token)}); r.status != 200 {
			t.Fatalf("after grant: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "POST", path: "/entities/LoanOffer", headers: as(token), body: []byte(`{}`)}); r.status != 403 {
			t.Fatalf("create without its role: %d", r.status)
		}
	})

	t.Run("my definitions and undeclared fields", func(t *testing.T) {
		mine := do(t, inst, request{method: "GET", path: "/my/dynamic-entities"}).json(t)["dynamic_entities"].([]any)
		if len(mine) != 2 {
			t.Fatalf("my definitions: %d", len(mine))
		}
		open := `{"Note": {"properties": {"text": {"type": "string", "example": "hi"}}}, "hasPersonalEntity": false}`
		r := do(t, inst, request{method: "POST", path: "/admin/v1/dynamic-entities?allow_undeclared=true", headers: jsonHeaders(), body: []byte(open)})
		if r.status != 201 {
			t.Fatalf("define: %d %s", r.status, r.body)
		}
		if r := post("/entities/Note", `{"text": "a", "extra": 1}`); r.status != 201 {
			t.Fatalf("undeclared field allowed by the definition: %d %s", r.status, r.body)
		}
	})

	t.Run("evolution", func(t *testing.T) {
		compatible := strings.Replace(loanOfferDef, `"maxLength": 30`, `"maxLength": 60`, 1)
		if r := do(t, inst, request{method: "PUT", path: "/admin/v1/dynamic-entities/" + loanID, headers: jsonHeaders(), body: []byte(compatible)}); r.status != 200 {
			t.Fatalf("compatible change: %d %s", r.status, r.body)
		}
		required := strings.Replace(compatible, `"required": ["amount", "customer_id"]`, `"required": ["amount", "customer_id", "product"]`, 1)
		r := do(t, inst, request{method: "PUT", path: "/admin/v1/dynamic-entities/" + loanID, headers: jsonHeaders(), body: []byte(required)})
		if r.status != 409 || !strings.Contains(r.problem(t).Message, "records do not satisfy") {
			t.Fatalf("incompatible change: %d %s", r.status, r.body)
		}
		migrate := `{"definition": ` + required + `, "defaults": {"product": "LEGACY"}}`
		if r := do(t, inst, request{method: "PUT", path: "/admin/v1/dynamic-entities/" + loanID + "?migrate=true", headers: jsonHeaders(), body: []byte(migrate)}); r.status != 200 {
			t.Fatalf("migration: %d %s", r.status, r.body)
		}
		list := do(t, inst, request{method: "GET", path: "/entities/LoanOffer?product=LEGACY"}).json(t)["loan_offer_list"].([]any)
		if len(list) == 0 {
			t.Errorf("no record got the default")
		}
	})

	t.Run("delete definition", func(t *testing.T) {
		if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/dynamic-entities/" + loanID}); r.status != 409 {
			t.Fatalf("delete with records: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/dynamic-entities/" + loanID + "?cascade=true"}); r.status != 204 {
			t.Fatalf("cascade: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/entities/LoanOffer"}); r.status != 404 {
			t.Errorf("records of a deleted entity: %d", r.status)
		}
		if roles := do(t, inst, request{method: "GET", path: "/admin/v1/roles"}); strings.Contains(string(roles.body), "SystemLoanOffer") {
			t.Errorf("the entity's roles outlived it")
		}
	})
}

func TestEntityDefinitionsRefused(t *testing.T) {
	inst := open(t, "")
	cases := []struct{ name, def, pointer string }{
		{"bad name", `{"Loan Offer": {"properties": {"a": {"type": "string"}}}}`, "/Loan Offer"},
		{"unknown type", `{"X": {"properties": {"a": {"type": "money"}}}}`, "/X/properties/a/type"},
		{"required not declared", `{"X": {"required": ["b"], "properties": {"a": {"type": "string"}}}}`, "/X/required/0"},
		{"bad example", `{"X": {"properties": {"a": {"type": "integer", "example": "one"}}}}`, "/X/properties/a/example"},
		{"unknown reference", `{"X": {"properties": {"a": {"type": "reference:Nowhere"}}}}`, "/X/properties/a/type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, inst, request{method: "POST", path: "/admin/v1/dynamic-entities", headers: jsonHeaders(), body: []byte(tc.def)})
			if r.status != 400 || !hasViolation(r.problem(t), "definition", "*", "*") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	if list := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-entities"}).json(t)["dynamic_entities"].([]any); len(list) != 0 {
		t.Fatalf("refused definitions were stored: %d", len(list))
	}
}

func TestBankEntitiesIsolatedAndPersisted(t *testing.T) {
	dir := t.TempDir()
	inst := openWith(t, testConfig(dir))
	adminID := do(t, inst, request{method: "GET", path: "/my/user"}).json(t)["user_id"].(string)
	for _, bank := range []string{"bank.a", "bank.b"} {
		createBank(t, inst, bank)
		grant(t, inst, adminID, bank, "CanCreateBankLevelDynamicEntity")
		createEntity(t, inst, "/admin/v1/banks/"+bank+"/dynamic-entities", customerDef)
		if r := do(t, inst, request{method: "POST", path: "/banks/" + bank + "/entities/Customer", headers: jsonHeaders(), body: []byte(`{"name":"At ` + bank + `"}`)}); r.status != 201 {
			t.Fatalf("create at %s: %d %s", bank, r.status, r.body)
		}
	}
	closeInstance(t, inst)

	inst = open(t, dir)
	for _, bank := range []string{"bank.a", "bank.b"} {
		list := do(t, inst, request{method: "GET", path: "/banks/" + bank + "/entities/Customer"}).json(t)["customer_list"].([]any)
		if len(list) != 1 || !strings.Contains(fmt.Sprint(list[0]), bank) {
			t.Errorf("%s after restart: %v", bank, list)
		}
	}
	if r := do(t, inst, request{method: "GET", path: "/entities/Customer"}); r.status != 404 {
		t.Errorf("a bank-level entity answers at system level: %d", r.status)
	}
	if r := do(t, inst, request{method: "GET", path: "/banks/no.bank/entities/Customer"}); r.status != 404 {
		t.Errorf("unknown bank: %d", r.status)
	}
}

// TestOpenAPIDocument checks that /openapi.json describes every entity's
// record API and every live dynamic endpoint, and is itself a document the
// engine accepts.
func TestOpenAPIDocument(t *testing.T) {
	inst := open(t, "")
	createEntity(t, inst, "/admin/v1/dynamic-entities", customerDef)
	createEntity(t, inst, "/admin/v1/dynamic-entities", loanOfferDef)
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore.yaml")))
	if r := do(t, inst, request{method: "GET", path: "/openapi.json", anonymous: true}); r.status != 401 {
		t.Fatalf("anonymous: %d", r.status)
	}
	r := do(t, inst, request{method: "GET", path: "/openapi.json"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	doc, err := specs.Load(r.body, "application/json", specs.Options{})
	if err != nil {
		t.Fatalf("the engine refuses its own description: %v", err)
	}
	ops := map[string]*specs.Operation{}
	for _, op := range doc.Operations {
		ops[op.Method+" "+op.Path] = op
	}
	for _, want := range []string{"GET /entities/LoanOffer", "POST /entities/LoanOffer", "PATCH /entities/LoanOffer/{id}", "GET /v1/pets/{petId}"} {
		if ops[want] == nil {
			t.Errorf("%s is not described", want)
		}
	}
	if op := ops["POST /entities/LoanOffer"]; op != nil && (len(op.Access.Roles) != 1 || op.Access.Roles[0] != "CanCreateDynamicEntity_SystemLoanOffer") {
		t.Errorf("roles of the create operation: %+v", op.Access)
	}
}
