package admin_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
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

func TestDynamicEntities(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", customerDef)
	loanID := inst.CreateEntity(t, "/admin/v1/dynamic-entities", loanOfferDef)

	post := func(path, body string) enginetest.Response {
		return inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: path, Header: enginetest.JSONHeader(), Body: []byte(body)})
	}
	cust := post("/entities/Customer", `{"name":"Jane Doe","segment":"RETAIL"}`)
	if cust.Status != 201 {
		t.Fatalf("create customer: %d %s", cust.Status, cust.Body)
	}
	custID := cust.JSON(t)["customer"].(map[string]any)["customer_id"].(string)

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
				if r.Status != tc.status {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if tc.pointer != "" && !enginetest.HasViolation(r.Problem(t), "body", tc.pointer, "*") {
					t.Fatalf("no violation at %s: %s", tc.pointer, r.Body)
				}
			})
		}
	})

	t.Run("get, replace, patch, delete", func(t *testing.T) {
		r := post("/entities/LoanOffer", `{"loan_offer_id": "offer-1", "amount": 10, "customer_id": "`+custID+`"}`)
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if got := inst.Admin().Get(t, "/entities/LoanOffer/offer-1"); got.Status != 200 || !strings.Contains(string(got.Body), `"loan_offer":{`) {
			t.Fatalf("get: %d %s", got.Status, got.Body)
		}
		put := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/entities/LoanOffer/offer-1", Header: enginetest.JSONHeader(), Body: []byte(`{"amount": 11, "customer_id": "` + custID + `"}`)})
		if put.Status != 200 || !strings.Contains(string(put.Body), `"amount":11`) {
			t.Fatalf("put: %d %s", put.Status, put.Body)
		}
		patch := inst.Admin().Send(t, enginetest.Request{Method: "PATCH", Path: "/entities/LoanOffer/offer-1", Header: enginetest.JSONHeader(), Body: []byte(`{"product": "CAR"}`)})
		if patch.Status != 200 || !strings.Contains(string(patch.Body), `"product":"CAR"`) || !strings.Contains(string(patch.Body), `"amount":11`) {
			t.Fatalf("patch: %d %s", patch.Status, patch.Body)
		}
		if d := inst.Admin().Delete(t, "/entities/LoanOffer/offer-1"); d.Status != 204 {
			t.Fatalf("delete: %d", d.Status)
		}
		if g := inst.Admin().Get(t, "/entities/LoanOffer/offer-1"); g.Status != 404 {
			t.Fatalf("deleted record: %d", g.Status)
		}
	})

	t.Run("list, filter, page", func(t *testing.T) {
		for i := range 12 {
			post("/entities/LoanOffer", fmt.Sprintf(`{"amount": %d, "product": "P%d", "customer_id": "%s"}`, 100+i, i%3, custID))
		}
		page := inst.Admin().Get(t, "/entities/LoanOffer?amount[gte]=105&amount[lt]=110&sort_by=amount&count=true").JSON(t)
		list := page["loan_offer_list"].([]any)
		if len(list) != 5 || page["total"] == nil {
			t.Fatalf("range filter: %v", page)
		}
		if first := list[0].(map[string]any)["amount"]; fmt.Sprint(first) != "105" {
			t.Errorf("sorted ascending from 105, got %v", first)
		}
		or := inst.Admin().Get(t, "/entities/LoanOffer?product=P1&product=P2").JSON(t)["loan_offer_list"].([]any)
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
			p := inst.Admin().Get(t, path).JSON(t)
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
		if r := inst.Admin().Get(t, "/entities/LoanOffer?colour=red"); r.Status != 400 {
			t.Errorf("unknown filter field: %d", r.Status)
		}
	})

	t.Run("references", func(t *testing.T) {
		c2 := post("/entities/Customer", `{"name":"Referenced"}`).JSON(t)["customer"].(map[string]any)["customer_id"].(string)
		post("/entities/LoanOffer", `{"amount": 1, "customer_id": "`+c2+`"}`)
		if r := inst.Admin().Delete(t, "/entities/Customer/"+c2); r.Status != 409 {
			t.Fatalf("delete referenced: %d %s", r.Status, r.Body)
		}
		if r := inst.Admin().Delete(t, "/entities/Customer/"+c2+"?cascade=true"); r.Status != 204 {
			t.Fatalf("cascade: %d %s", r.Status, r.Body)
		}
		if list := inst.Admin().Get(t, "/entities/LoanOffer?customer_id="+c2).JSON(t)["loan_offer_list"].([]any); len(list) != 0 {
			t.Errorf("cascade left %d referrers", len(list))
		}
	})

	t.Run("personal records", func(t *testing.T) {
		inst.CreateUser(t, "kim", "Kim-passw0rd-1")
		inst.CreateUser(t, "lee", "Lee-passw0rd-1")
		kim, lee := inst.Login(t, "kim", "Kim-passw0rd-1"), inst.Login(t, "lee", "Lee-passw0rd-1")
		r := inst.Token(kim).Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/LoanOffer", Header: enginetest.JSONHeader(), Body: []byte(`{"amount": 3, "customer_id": "` + custID + `"}`)})
		if r.Status != 201 {
			t.Fatalf("personal create: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["loan_offer"].(map[string]any)["loan_offer_id"].(string)
		if g := inst.Token(lee).Get(t, "/my/entities/LoanOffer/"+id); g.Status != 404 {
			t.Errorf("another user reads a personal record: %d", g.Status)
		}
		if l := inst.Token(lee).Get(t, "/my/entities/LoanOffer").JSON(t)["loan_offer_list"].([]any); len(l) != 0 {
			t.Errorf("another user lists %d personal records", len(l))
		}
		if l := inst.Token(kim).Get(t, "/my/entities/LoanOffer").JSON(t)["loan_offer_list"].([]any); len(l) != 1 {
			t.Errorf("the owner lists %d personal records", len(l))
		}
		if g := inst.Admin().Get(t, "/entities/LoanOffer/"+id); g.Status != 404 {
			t.Errorf("a personal record shows among shared ones: %d", g.Status)
		}
		if r := inst.Token(kim).Get(t, "/my/entities/Customer"); r.Status != 404 {
			t.Errorf("personal records of an entity without them: %d", r.Status)
		}
	})

	t.Run("roles", func(t *testing.T) {
		mia := inst.CreateUser(t, "mia", "Mia-passw0rd-1").ID
		token := inst.Login(t, "mia", "Mia-passw0rd-1")
		r := inst.Token(token).Get(t, "/entities/LoanOffer")
		if r.Status != 403 || !strings.Contains(strings.Join(r.Problem(t).MissingRoles, ","), "CanGetDynamicEntity_SystemLoanOffer") {
			t.Fatalf("before grant: %d %s", r.Status, r.Body)
		}
		inst.Grant(t, mia, "", "CanGetDynamicEntity_SystemLoanOffer")
		if r := inst.Token(token).Get(t, "/entities/LoanOffer"); r.Status != 200 {
			t.Fatalf("after grant: %d %s", r.Status, r.Body)
		}
		if r := inst.Token(token).Send(t, enginetest.Request{Method: "POST", Path: "/entities/LoanOffer", Header: enginetest.JSONHeader(), Body: []byte(`{}`)}); r.Status != 403 {
			t.Fatalf("create without its role: %d", r.Status)
		}
	})

	t.Run("my definitions and undeclared fields", func(t *testing.T) {
		mine := inst.Admin().Get(t, "/my/dynamic-entities").JSON(t)["dynamic_entities"].([]any)
		if len(mine) != 2 {
			t.Fatalf("my definitions: %d", len(mine))
		}
		open := `{"Note": {"properties": {"text": {"type": "string", "example": "hi"}}}, "hasPersonalEntity": false}`
		r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-entities?allow_undeclared=true", Header: enginetest.JSONHeader(), Body: []byte(open)})
		if r.Status != 201 {
			t.Fatalf("define: %d %s", r.Status, r.Body)
		}
		if r := post("/entities/Note", `{"text": "a", "extra": 1}`); r.Status != 201 {
			t.Fatalf("undeclared field allowed by the definition: %d %s", r.Status, r.Body)
		}
	})

	t.Run("evolution", func(t *testing.T) {
		compatible := strings.Replace(loanOfferDef, `"maxLength": 30`, `"maxLength": 60`, 1)
		if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-entities/" + loanID, Header: enginetest.JSONHeader(), Body: []byte(compatible)}); r.Status != 200 {
			t.Fatalf("compatible change: %d %s", r.Status, r.Body)
		}
		required := strings.Replace(compatible, `"required": ["amount", "customer_id"]`, `"required": ["amount", "customer_id", "product"]`, 1)
		r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-entities/" + loanID, Header: enginetest.JSONHeader(), Body: []byte(required)})
		if r.Status != 409 || !strings.Contains(r.Problem(t).Message, "records do not satisfy") {
			t.Fatalf("incompatible change: %d %s", r.Status, r.Body)
		}
		migrate := `{"definition": ` + required + `, "defaults": {"product": "LEGACY"}}`
		if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-entities/" + loanID + "?migrate=true", Header: enginetest.JSONHeader(), Body: []byte(migrate)}); r.Status != 200 {
			t.Fatalf("migration: %d %s", r.Status, r.Body)
		}
		list := inst.Admin().Get(t, "/entities/LoanOffer?product=LEGACY").JSON(t)["loan_offer_list"].([]any)
		if len(list) == 0 {
			t.Errorf("no record got the default")
		}
	})

	t.Run("delete definition", func(t *testing.T) {
		if r := inst.Admin().Delete(t, "/admin/v1/dynamic-entities/"+loanID); r.Status != 409 {
			t.Fatalf("delete with records: %d %s", r.Status, r.Body)
		}
		if r := inst.Admin().Delete(t, "/admin/v1/dynamic-entities/"+loanID+"?cascade=true"); r.Status != 204 {
			t.Fatalf("cascade: %d %s", r.Status, r.Body)
		}
		if r := inst.Admin().Get(t, "/entities/LoanOffer"); r.Status != 404 {
			t.Errorf("records of a deleted entity: %d", r.Status)
		}
		if roles := inst.Admin().Get(t, "/admin/v1/roles"); strings.Contains(string(roles.Body), "SystemLoanOffer") {
			t.Errorf("the entity's roles outlived it")
		}
	})
}

func TestEntityDefinitionsRefused(t *testing.T) {
	inst := enginetest.New(t)
	cases := []struct{ name, def, pointer string }{
		{"bad name", `{"Loan Offer": {"properties": {"a": {"type": "string"}}}}`, "/Loan Offer"},
		{"unknown type", `{"X": {"properties": {"a": {"type": "money"}}}}`, "/X/properties/a/type"},
		{"required not declared", `{"X": {"required": ["b"], "properties": {"a": {"type": "string"}}}}`, "/X/required/0"},
		{"bad example", `{"X": {"properties": {"a": {"type": "integer", "example": "one"}}}}`, "/X/properties/a/example"},
		{"unknown reference", `{"X": {"properties": {"a": {"type": "reference:Nowhere"}}}}`, "/X/properties/a/type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-entities", Header: enginetest.JSONHeader(), Body: []byte(tc.def)})
			if r.Status != 400 || !enginetest.HasViolation(r.Problem(t), "definition", "*", "*") {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	if list := inst.Admin().Get(t, "/admin/v1/dynamic-entities").JSON(t)["dynamic_entities"].([]any); len(list) != 0 {
		t.Fatalf("refused definitions were stored: %d", len(list))
	}
}

func TestBankEntitiesIsolatedAndPersisted(t *testing.T) {
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	adminID := inst.Admin().Get(t, "/my/user").JSON(t)["user_id"].(string)
	for _, bank := range []string{"bank.a", "bank.b"} {
		inst.CreateBank(t, bank)
		inst.Grant(t, adminID, bank, "CanCreateBankLevelDynamicEntity")
		inst.CreateEntity(t, "/admin/v1/banks/"+bank+"/dynamic-entities", customerDef)
		if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/banks/" + bank + "/entities/Customer", Header: enginetest.JSONHeader(), Body: []byte(`{"name":"At ` + bank + `"}`)}); r.Status != 201 {
			t.Fatalf("create at %s: %d %s", bank, r.Status, r.Body)
		}
	}
	inst.Close(t)

	inst = enginetest.New(t, enginetest.InDir(dir))
	for _, bank := range []string{"bank.a", "bank.b"} {
		list := inst.Admin().Get(t, "/banks/"+bank+"/entities/Customer").JSON(t)["customer_list"].([]any)
		if len(list) != 1 || !strings.Contains(fmt.Sprint(list[0]), bank) {
			t.Errorf("%s after restart: %v", bank, list)
		}
	}
	if r := inst.Admin().Get(t, "/entities/Customer"); r.Status != 404 {
		t.Errorf("a bank-level entity answers at system level: %d", r.Status)
	}
	if r := inst.Admin().Get(t, "/banks/no.bank/entities/Customer"); r.Status != 404 {
		t.Errorf("unknown bank: %d", r.Status)
	}
}

// TestOpenAPIDocument checks that /openapi.json describes every entity's
// record API and every live dynamic endpoint, and is itself a document the
// engine accepts.
func TestOpenAPIDocument(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", customerDef)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", loanOfferDef)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml")))
	if r := inst.Anonymous().Get(t, "/openapi.json"); r.Status != 401 {
		t.Fatalf("anonymous: %d", r.Status)
	}
	r := inst.Admin().Get(t, "/openapi.json")
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	doc, err := specs.Load(r.Body, "application/json", specs.Options{})
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
