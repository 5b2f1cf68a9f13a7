package entities_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/entities"
)

const obpExample = `{"LoanOffer": {"description": "an offer of a loan", "required": ["amount"], "properties": {
	"amount": {"type": "number", "example": 1000.0, "description": "EUR"},
	"product": {"type": "string", "minLength": 2, "maxLength": 30, "example": "PERSONAL"},
	"valid_until": {"type": "DATE_WITH_DAY", "example": "2025-12-31"},
	"customer_id": {"type": "reference:Customer", "example": "7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh"}}},
 "hasPersonalEntity": true}`

func mustParse(t testing.TB, doc string, opts entities.ParseOptions) *entities.Definition {
	t.Helper()
	d, err := entities.Parse([]byte(doc), opts)
	if err != nil {
		t.Fatalf("Parse: %v; violations %v", err, violationsOf(err))
	}
	return d
}

func violationsOf(err error) []engine.Violation {
	var e *engine.Error
	if errors.As(err, &e) {
		return e.Violations
	}
	return nil
}

func TestParseOBPExample(t *testing.T) {
	d := mustParse(t, obpExample, entities.ParseOptions{KnownEntity: func(n string) bool { return n == "Customer" }})
	if d.Name != "LoanOffer" || d.Description != "an offer of a loan" || !d.HasPersonalEntity || d.AllowUndeclared {
		t.Errorf("definition = %+v", d)
	}
	if !slices.Equal(d.Required, []string{"amount"}) {
		t.Errorf("Required = %v", d.Required)
	}
	var names, types []string
	for _, f := range d.Fields {
		names, types = append(names, f.Name), append(types, f.Type)
	}
	if want := []string{"amount", "customer_id", "product", "valid_until"}; !slices.Equal(names, want) {
		t.Errorf("field names = %v, want %v", names, want)
	}
	if want := []string{"number", "reference", "string", "DATE_WITH_DAY"}; !slices.Equal(types, want) {
		t.Errorf("field types = %v, want %v", types, want)
	}
	product, ok := d.Field("product")
	if !ok || *product.MinLength != 2 || *product.MaxLength != 30 || product.Example != "PERSONAL" {
		t.Errorf("product = %+v", product)
	}
	if amount, _ := d.Field("amount"); amount.Description != "EUR" || amount.Example != json.Number("1000.0") {
		t.Errorf("amount = %+v", amount)
	}
	if _, ok := d.Field("nope"); ok {
		t.Error("Field(nope) found")
	}
	if got, want := d.References(), []entities.Reference{{Field: "customer_id", Entity: "Customer"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("References = %v, want %v", got, want)
	}
	if got := len(d.ScalarFields()); got != 4 {
		t.Errorf("ScalarFields has %d fields, want 4", got)
	}
	if d.PrimaryKey() != "loan_offer_id" || d.SingleKey() != "loan_offer" || d.ListKey() != "loan_offer_list" {
		t.Errorf("keys = %s %s %s", d.PrimaryKey(), d.SingleKey(), d.ListKey())
	}

	s := d.JSONSchema()
	props := s["properties"].(map[string]any)
	if _, ok := props["loan_offer_id"]; !ok || s["additionalProperties"] != false || s["title"] != "LoanOffer" {
		t.Errorf("schema = %v", s)
	}
	props["amount"] = "changed"
	if d.JSONSchema()["properties"].(map[string]any)["amount"] == "changed" {
		t.Error("JSONSchema returns the definition's own map")
	}
	if strings.Contains(fmt.Sprint(s), "/work") || strings.Contains(fmt.Sprint(s), "file:") {
		t.Errorf("schema names a file: %v", s)
	}

	off := mustParse(t, strings.Replace(obpExample, `"hasPersonalEntity": true`, `"hasPersonalEntity": false`, 1), entities.ParseOptions{})
	if off.HasPersonalEntity {
		t.Error("hasPersonalEntity false was ignored")
	}
	def := mustParse(t, `{"A": {"properties": {}}}`, entities.ParseOptions{})
	if !def.HasPersonalEntity {
		t.Error("hasPersonalEntity does not default to true")
	}
}

type fault struct{ pointer, code string }

func TestParseFaults(t *testing.T) {
	entity := func(props string) string { return `{"A": {"properties": {` + props + `}}}` }
	deep := `{"type": "string"}`
	for range entities.MaxDepth + 2 {
		deep = `{"type": "object", "properties": {"x": ` + deep + `}}`
	}
	known := func(n string) bool { return n == "Customer" }
	cases := []struct {
		name string
		doc  string
		opts entities.ParseOptions
		want []fault
	}{
		{"not JSON", `{"A":`, entities.ParseOptions{}, []fault{{"", "json"}}},
		{"empty", ``, entities.ParseOptions{}, []fault{{"", "json"}}},
		{"trailing data", `{"A": {"properties": {}}} {}`, entities.ParseOptions{}, []fault{{"", "json"}}},
		{"example past big.Rat", entity(`"x": {"type": "number", "minimum": 0, "example": 1e10000000}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "number_range"}}},
		{"duplicate key", entity(`"x": {"type": "string", "type": "number"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/type", "duplicate_key"}}},
		{"lone surrogate", entity(`"x": {"type": "string", "example": "\ud800"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "lone_surrogate"}}},
		{"not an object", `["A"]`, entities.ParseOptions{}, []fault{{"", "type"}}},
		{"no entity", `{"hasPersonalEntity": true}`, entities.ParseOptions{}, []fault{{"", "entity"}}},
		{"several entities", `{"A": {"properties": {}}, "B": {"properties": {}}}`, entities.ParseOptions{}, []fault{{"", "entity"}}},
		{"hasPersonalEntity not boolean", `{"A": {"properties": {}}, "hasPersonalEntity": "yes"}`, entities.ParseOptions{}, []fault{{"/hasPersonalEntity", "type"}}},
		{"entity name", `{"Loan Offer": {"properties": {}}}`, entities.ParseOptions{}, []fault{{"/Loan Offer", "name"}}},
		{"entity name with slash", `{"a/b": {"properties": {}}}`, entities.ParseOptions{}, []fault{{"/a~1b", "name"}}},
		{"entity not an object", `{"A": []}`, entities.ParseOptions{}, []fault{{"/A", "type"}}},
		{"missing properties", `{"A": {"description": "x"}}`, entities.ParseOptions{}, []fault{{"/A", "properties"}}},
		{"properties not an object", `{"A": {"properties": []}}`, entities.ParseOptions{}, []fault{{"/A/properties", "type"}}},
		{"unknown entity keyword", `{"A": {"properties": {}, "requried": []}}`, entities.ParseOptions{}, []fault{{"/A/requried", "keyword"}}},
		{"description not a string", `{"A": {"properties": {"x": {"type": "string", "description": 1}}}}`, entities.ParseOptions{}, []fault{{"/A/properties/x/description", "type"}}},
		{"field name", entity(`"a b": {"type": "string"}`), entities.ParseOptions{}, []fault{{"/A/properties/a b", "name"}}},
		{"field not an object", entity(`"x": "string"`), entities.ParseOptions{}, []fault{{"/A/properties/x", "type"}}},
		{"missing type", entity(`"x": {"example": 1}`), entities.ParseOptions{}, []fault{{"/A/properties/x", "type"}}},
		{"unknown type", entity(`"x": {"type": "text"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/type", "type"}}},
		{"type not a string", entity(`"x": {"type": 1}`), entities.ParseOptions{}, []fault{{"/A/properties/x/type", "type"}}},
		{"reference without target", entity(`"x": {"type": "reference:"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/type", "reference"}}},
		{"bare reference", entity(`"x": {"type": "reference"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/type", "reference"}}},
		{"malformed reference", entity(`"x": {"type": "reference:Bad Name"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/type", "reference"}}},
		{"unknown reference", entity(`"x": {"type": "reference:Nobody"}`), entities.ParseOptions{KnownEntity: known}, []fault{{"/A/properties/x/type", "reference"}}},
		{"required not declared", `{"A": {"required": ["x", "y"], "properties": {"x": {"type": "string"}}}}`, entities.ParseOptions{}, []fault{{"/A/required/1", "required"}}},
		{"required not an array", `{"A": {"required": "x", "properties": {"x": {"type": "string"}}}}`, entities.ParseOptions{}, []fault{{"/A/required", "type"}}},
		{"required not names", `{"A": {"required": [1], "properties": {}}}`, entities.ParseOptions{}, []fault{{"/A/required/0", "type"}}},
		{"pattern does not compile", entity(`"x": {"type": "string", "pattern": "(a"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/pattern", "pattern"}}},
		{"pattern not a string", entity(`"x": {"type": "string", "pattern": 1}`), entities.ParseOptions{}, []fault{{"/A/properties/x/pattern", "type"}}},
		{"minimum above maximum", entity(`"x": {"type": "number", "minimum": 5, "maximum": 1}`), entities.ParseOptions{}, []fault{{"/A/properties/x/minimum", "limits"}}},
		{"minLength above maxLength", entity(`"x": {"type": "string", "minLength": 5, "maxLength": 1}`), entities.ParseOptions{}, []fault{{"/A/properties/x/minLength", "limits"}}},
		{"minItems above maxItems", entity(`"x": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 2}`), entities.ParseOptions{}, []fault{{"/A/properties/x/minItems", "limits"}}},
		{"negative minLength", entity(`"x": {"type": "string", "minLength": -1}`), entities.ParseOptions{}, []fault{{"/A/properties/x/minLength", "limits"}}},
		{"fractional maxLength", entity(`"x": {"type": "string", "maxLength": 1.5}`), entities.ParseOptions{}, []fault{{"/A/properties/x/maxLength", "limits"}}},
		{"minimum not a number", entity(`"x": {"type": "number", "minimum": "1"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/minimum", "limits"}}},
		{"infinite maximum", entity(`"x": {"type": "number", "maximum": 1e400}`), entities.ParseOptions{}, []fault{{"/A/properties/x/maximum", "limits"}}},
		{"enum value of another type", entity(`"x": {"type": "string", "enum": ["a", 1]}`), entities.ParseOptions{}, []fault{{"/A/properties/x/enum/1", "enum"}}},
		{"integer enum value 1.5", entity(`"x": {"type": "integer", "enum": [1, 1.5]}`), entities.ParseOptions{}, []fault{{"/A/properties/x/enum/1", "enum"}}},
		{"date enum value", entity(`"x": {"type": "DATE_WITH_DAY", "enum": ["2025-02-30"]}`), entities.ParseOptions{}, []fault{{"/A/properties/x/enum/0", "enum"}}},
		{"empty enum", entity(`"x": {"type": "string", "enum": []}`), entities.ParseOptions{}, []fault{{"/A/properties/x/enum", "enum"}}},
		{"unknown format", entity(`"x": {"type": "string", "format": "phone"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/format", "format"}}},
		{"keyword for another type", entity(`"x": {"type": "number", "minLength": 1}`), entities.ParseOptions{}, []fault{{"/A/properties/x/minLength", "keyword"}}},
		{"unknown keyword", entity(`"x": {"type": "string", "default": "a"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/default", "keyword"}}},
		{"array without items", entity(`"x": {"type": "array"}`), entities.ParseOptions{}, []fault{{"/A/properties/x", "items"}}},
		{"object without properties", entity(`"x": {"type": "object"}`), entities.ParseOptions{}, []fault{{"/A/properties/x", "properties"}}},
		{"nested required not declared", entity(`"o": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}`), entities.ParseOptions{}, []fault{{"/A/properties/o/required/0", "required"}}},
		{"nested unknown type", entity(`"o": {"type": "object", "properties": {"a": {"type": "str"}}}`), entities.ParseOptions{}, []fault{{"/A/properties/o/properties/a/type", "type"}}},
		{"items unknown type", entity(`"x": {"type": "array", "items": {"type": "str"}}`), entities.ParseOptions{}, []fault{{"/A/properties/x/items/type", "type"}}},
		{"too deep", entity(`"x": ` + deep), entities.ParseOptions{}, []fault{{"/A/properties/x" + strings.Repeat("/properties/x", entities.MaxDepth), "depth"}}},
		{"primary key not a string", entity(`"a_id": {"type": "integer"}`), entities.ParseOptions{}, []fault{{"/A/properties/a_id", "primary_key"}}},
		{"example of wrong type", entity(`"x": {"type": "number", "example": "1000"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"integer example 1.5", entity(`"x": {"type": "integer", "example": 1.5}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example too long", entity(`"x": {"type": "string", "maxLength": 3, "example": "PERSONAL"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example below minimum", entity(`"x": {"type": "number", "minimum": 10, "example": 5}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example not in enum", entity(`"x": {"type": "string", "enum": ["A"], "example": "B"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example not matching pattern", entity(`"x": {"type": "string", "pattern": "^[A-Z]+$", "example": "abc"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example not an email", entity(`"x": {"type": "string", "format": "email", "example": "nobody"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example not an iban", entity(`"x": {"type": "string", "format": "iban", "example": "GB00WEST12345698765432"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example not a calendar date", entity(`"x": {"type": "DATE_WITH_DAY", "example": "2025-02-30"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"example date in another layout", entity(`"x": {"type": "DATE_WITH_DAY", "example": "31/12/2025"}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"reference example not a string", entity(`"x": {"type": "reference:A", "example": 5}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example", "example"}}},
		{"array example item", entity(`"x": {"type": "array", "items": {"type": "string"}, "example": ["a", 1]}`), entities.ParseOptions{}, []fault{{"/A/properties/x/example/1", "example"}}},
		{"items example", entity(`"x": {"type": "array", "items": {"type": "string", "example": 1}}`), entities.ParseOptions{}, []fault{{"/A/properties/x/items/example", "example"}}},
		{"object example missing required", entity(`"o": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "example": {}}`), entities.ParseOptions{}, []fault{{"/A/properties/o/example/a", "example"}}},
		{"object example undeclared", entity(`"o": {"type": "object", "properties": {"a": {"type": "string"}}, "example": {"b": 1}}`), entities.ParseOptions{}, []fault{{"/A/properties/o/example/b", "example"}}},
		{"several faults", `{"A": {"required": ["z"], "properties": {"a b": {"type": "string"}, "n": {"type": "nope"}, "s": {"type": "string", "pattern": "(", "example": 1}}}, "hasPersonalEntity": 1}`,
			entities.ParseOptions{}, []fault{
				{"/A/properties/a b", "name"}, {"/A/properties/n/type", "type"}, {"/A/properties/s/example", "example"},
				{"/A/properties/s/pattern", "pattern"}, {"/A/required/0", "required"}, {"/hasPersonalEntity", "type"},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := entities.Parse([]byte(tc.doc), tc.opts)
			if err == nil {
				t.Fatalf("Parse accepted the definition: %+v", d)
			}
			var e *engine.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != entities.CodeInvalidDefinition {
				t.Fatalf("error = %#v, want a 400 invalid_definition *engine.Error", err)
			}
			var got []fault
			for _, v := range e.Violations {
				if v.Location != "definition" || v.Message == "" {
					t.Errorf("violation %+v: want location definition and a message", v)
				}
				got = append(got, fault{v.Pointer, v.Code})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("faults = %v, want %v\nviolations: %v", got, tc.want, e.Violations)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	known := func(n string) bool { return n == "Customer" }
	entity := func(props string) string { return `{"A": {"properties": {` + props + `}}}` }
	cases := []struct{ name, doc string }{
		{"self reference", entity(`"parent": {"type": "reference:A"}`)},
		{"known reference", entity(`"c": {"type": "reference:Customer", "example": "c-1"}`)},
		{"number example integer", entity(`"x": {"type": "number", "example": 1000}`)},
		{"integer example 2.0", entity(`"x": {"type": "integer", "example": 2.0}`)},
		{"json example anything", entity(`"x": {"type": "json", "example": {"a": [1, null, "b"]}}`)},
		{"empty format", entity(`"x": {"type": "string", "format": ""}`)},
		{"iban example", entity(`"x": {"type": "string", "format": "iban", "example": "GB82WEST12345698765432"}`)},
		{"lookahead pattern", entity(`"x": {"type": "string", "pattern": "^(?=.*\\d)[a-z\\d]{6,}$", "example": "abc123"}`)},
		{"primary key declared as string", entity(`"a_id": {"type": "string"}`)},
		{"max depth", entity(`"x": ` + strings.Repeat(`{"type": "array", "items": `, entities.MaxDepth-1) + `{"type": "string"}` + strings.Repeat(`}`, entities.MaxDepth-1))},
		{"hyphenated names", `{"loan-offer": {"properties": {"the-amount": {"type": "number"}}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustParse(t, tc.doc, entities.ParseOptions{KnownEntity: known})
		})
	}
}

const recordDef = `{"LoanOffer": {"required": ["amount"], "properties": {
	"amount": {"type": "number", "minimum": 0},
	"count": {"type": "integer", "maximum": 10},
	"flag": {"type": "boolean"},
	"day": {"type": "DATE_WITH_DAY"},
	"email": {"type": "string", "format": "email"},
	"uid": {"type": "string", "format": "uuid"},
	"iban": {"type": "string", "format": "iban"},
	"at": {"type": "string", "format": "date-time"},
	"kind": {"type": "string", "enum": ["PERSONAL", "MORTGAGE"]},
	"code": {"type": "string", "pattern": "^[A-Z]{3}$", "minLength": 3},
	"secret": {"type": "string", "pattern": "^(?=.*\\d)[a-z\\d]{6,}$"},
	"customer_id": {"type": "reference:Customer"},
	"blob": {"type": "json"},
	"address": {"type": "object", "required": ["street"], "properties": {
		"street": {"type": "string"}, "zip": {"type": "string", "maxLength": 5}}},
	"tags": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string", "minLength": 1}}}}}`

func TestValidate(t *testing.T) {
	d := mustParse(t, recordDef, entities.ParseOptions{})
	loose := mustParse(t, recordDef, entities.ParseOptions{AllowUndeclared: true})
	full := func() map[string]any {
		return map[string]any{
			"loan_offer_id": "lo-1", "amount": 1000.5, "count": 3.0, "flag": true, "day": "2024-02-29",
			"email": "ann@example.com", "uid": "0f8fad5b-d9cb-469f-a165-70867728950e", "iban": "GB82WEST12345698765432",
			"at": "2025-12-31T23:59:59Z", "kind": "PERSONAL", "code": "ABC", "secret": "abc123", "customer_id": "c-1",
			"blob": map[string]any{"any": []any{1.0, "x", nil}}, "address": map[string]any{"street": "Main St", "zip": "12345"},
			"tags": []any{"a", "b"},
		}
	}
	with := func(k string, v any) map[string]any { r := full(); r[k] = v; return r }
	without := func(k string) map[string]any { r := full(); delete(r, k); return r }
	cases := []struct {
		name   string
		def    *entities.Definition
		record map[string]any
		want   []fault
	}{
		{"full record", d, full(), nil},
		{"minimal record", d, map[string]any{"amount": 1.0}, nil},
		{"number accepts integer json.Number", d, map[string]any{"amount": json.Number("1000")}, nil},
		{"number accepts Go int", d, map[string]any{"amount": 1000}, nil},
		{"number accepts decimal json.Number", d, map[string]any{"amount": json.Number("0.1")}, nil},
		{"missing required", d, without("amount"), []fault{{"/amount", "required"}}},
		{"nil record", d, nil, []fault{{"/amount", "required"}}},
		{"number refuses string", d, with("amount", "1000"), []fault{{"/amount", "type"}}},
		{"minimum", d, with("amount", -1.0), []fault{{"/amount", "minimum"}}},
		{"integer refuses 1.5", d, with("count", 1.5), []fault{{"/count", "type"}}},
		{"integer refuses json.Number 1.5", d, with("count", json.Number("1.5")), []fault{{"/count", "type"}}},
		{"integer maximum", d, with("count", json.Number("11")), []fault{{"/count", "maximum"}}},
		{"boolean refuses string", d, with("flag", "true"), []fault{{"/flag", "type"}}},
		{"date refuses 2025-02-30", d, with("day", "2025-02-30"), []fault{{"/day", "format"}}},
		{"date refuses date-time", d, with("day", "2025-02-03T00:00:00Z"), []fault{{"/day", "format"}}},
		{"date refuses number", d, with("day", 20250203.0), []fault{{"/day", "type"}}},
		{"email", d, with("email", "not-an-email"), []fault{{"/email", "format"}}},
		{"uuid", d, with("uid", "0f8fad5b"), []fault{{"/uid", "format"}}},
		{"iban check digits", d, with("iban", "GB83WEST12345698765432"), []fault{{"/iban", "format"}}},
		{"iban with spaces", d, with("iban", "GB82 WEST 1234 5698 7654 32"), []fault{{"/iban", "format"}}},
		{"date-time", d, with("at", "2025-12-31"), []fault{{"/at", "format"}}},
		{"enum", d, with("kind", "CAR"), []fault{{"/kind", "enum"}}},
		{"pattern", d, with("code", "ABCD"), []fault{{"/code", "pattern"}}},
		{"pattern and minLength", d, with("code", "ab"), []fault{{"/code", "minLength"}, {"/code", "pattern"}}},
		{"lookahead pattern refuses", d, with("secret", "abcdef"), []fault{{"/secret", "pattern"}}},
		{"reference refuses number", d, with("customer_id", 7.0), []fault{{"/customer_id", "type"}}},
		{"primary key must be a string", d, with("loan_offer_id", 7.0), []fault{{"/loan_offer_id", "type"}}},
		{"json accepts a string", d, with("blob", "x"), nil},
		{"json accepts null", d, with("blob", nil), nil},
		{"json accepts an array", d, with("blob", []any{1.0, map[string]any{}}), nil},
		{"nested required", d, with("address", map[string]any{"zip": "1"}), []fault{{"/address/street", "required"}}},
		{"nested limit", d, with("address", map[string]any{"street": "x", "zip": "123456"}), []fault{{"/address/zip", "maxLength"}}},
		{"nested undeclared", d, with("address", map[string]any{"street": "x", "floor": 2.0}), []fault{{"/address/floor", "additionalProperties"}}},
		{"object refuses array", d, with("address", []any{}), []fault{{"/address", "type"}}},
		{"array minItems", d, with("tags", []any{}), []fault{{"/tags", "minItems"}}},
		{"array maxItems", d, with("tags", []any{"a", "b", "c", "d"}), []fault{{"/tags", "maxItems"}}},
		{"array items", d, with("tags", []any{"", 1.0}), []fault{{"/tags/0", "minLength"}, {"/tags/1", "type"}}},
		{"undeclared refused", d, with("color", "red"), []fault{{"/color", "additionalProperties"}}},
		{"undeclared allowed", loose, with("color", "red"), nil},
		{"nested undeclared allowed", loose, with("address", map[string]any{"street": "x", "floor": 2.0}), nil},
		{"several faults sorted", d, map[string]any{"count": 1.5, "zzz": 1.0, "code": "abc", "amount": "x"},
			[]fault{{"/amount", "type"}, {"/code", "pattern"}, {"/count", "type"}, {"/zzz", "additionalProperties"}}},
		{"not JSON data", d, with("amount", struct{}{}), []fault{{"/amount", "invalid"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vs := tc.def.Validate(tc.record)
			if testing.Verbose() {
				t.Log(vs)
			}
			var got []fault
			for _, v := range vs {
				if v.Location != "body" || v.Message == "" {
					t.Errorf("violation %+v: want location body and a message", v)
				}
				got = append(got, fault{v.Pointer, v.Code})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("violations = %v, want %v\n%v", got, tc.want, vs)
			}
		})
	}
}

func TestValidateConcurrently(t *testing.T) {
	d := mustParse(t, recordDef, entities.ParseOptions{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				vs := d.Validate(map[string]any{"amount": float64(i*j) - 10, "secret": "abcdef"})
				if len(vs) == 0 {
					t.Error("no violations")
				}
			}
		}()
	}
	wg.Wait()
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"LoanOffer": "loan_offer", "FooBAR": "foo_bar", "loan-offer": "loan_offer", "HTTPServer": "http_server",
		"loan_offer": "loan_offer", "Account2Go": "account2_go", "A": "a", "ATM": "atm", "myATMCard": "my_atm_card",
	} {
		t.Run(in, func(t *testing.T) {
			if got := entities.SnakeCase(in); got != want {
				t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
			}
		})
	}
	d := mustParse(t, `{"FooBAR": {"properties": {}}}`, entities.ParseOptions{})
	if d.PrimaryKey() != "foo_bar_id" || d.SingleKey() != "foo_bar" || d.ListKey() != "foo_bar_list" {
		t.Errorf("keys = %s %s %s", d.PrimaryKey(), d.SingleKey(), d.ListKey())
	}
}

func TestCompare(t *testing.T) {
	const base = `{"A": {"required": ["amount"], "properties": {
		"amount": {"type": "number", "minimum": 0, "maximum": 100, "description": "EUR", "example": 5},
		"name": {"type": "string", "minLength": 2, "maxLength": 10, "pattern": "^[a-z]+$"},
		"kind": {"type": "string", "enum": ["X", "Y"]},
		"flag": {"type": "boolean"},
		"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
		"addr": {"type": "object", "properties": {"street": {"type": "string"}}}}}}`
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			panic("no " + old)
		}
		return strings.Replace(base, old, new, 1)
	}
	cases := []struct {
		name       string
		new        string
		newOpts    entities.ParseOptions
		compatible bool
		change     string // a substring of one of the changes
	}{
		{"unchanged", base, entities.ParseOptions{}, true, ""},
		{"new optional field", edit(`"kind":`, `"note": {"type": "string"}, "kind":`), entities.ParseOptions{}, true, `new optional field "note"`},
		{"lower minimum", edit(`"minimum": 0`, `"minimum": -5`), entities.ParseOptions{}, true, "minimum falls"},
		{"higher maximum", edit(`"maximum": 100`, `"maximum": 200`), entities.ParseOptions{}, true, "maximum rises"},
		{"lower minLength", edit(`"minLength": 2`, `"minLength": 1`), entities.ParseOptions{}, true, "minLength falls"},
		{"higher maxLength", edit(`"maxLength": 10`, `"maxLength": 20`), entities.ParseOptions{}, true, "maxLength rises"},
		{"removed limit", edit(`"minLength": 2, `, ``), entities.ParseOptions{}, true, "drops minLength"},
		{"removed pattern", edit(`, "pattern": "^[a-z]+$"`, ``), entities.ParseOptions{}, true, "drops pattern"},
		{"new enum value", edit(`["X", "Y"]`, `["X", "Y", "Z"]`), entities.ParseOptions{}, true, `also allows "Z"`},
		{"description change", edit(`"EUR"`, `"euros"`), entities.ParseOptions{}, true, "description changes"},
		{"example change", edit(`"example": 5`, `"example": 6`), entities.ParseOptions{}, true, "example changes"},
		{"required becomes optional", edit(`"required": ["amount"]`, `"required": []`), entities.ParseOptions{}, true, `"amount" becomes optional`},
		{"undeclared allowed", base, entities.ParseOptions{AllowUndeclared: true}, true, "undeclared fields become allowed"},
		{"removed field", edit(`"kind": {"type": "string", "enum": ["X", "Y"]},`, ``), entities.ParseOptions{}, false, `field "kind" is removed`},
		{"type change", edit(`"flag": {"type": "boolean"}`, `"flag": {"type": "string"}`), entities.ParseOptions{}, false, `"flag" changes type from boolean to string`},
		{"items type change", edit(`"items": {"type": "string"}`, `"items": {"type": "integer"}`), entities.ParseOptions{}, false, `"tags[]" changes type`},
		{"new required field", edit(`"required": ["amount"], "properties": {`, `"required": ["amount", "note"], "properties": {"note": {"type": "string"}, `), entities.ParseOptions{}, false, `new field "note" is required`},
		{"optional becomes required", edit(`"required": ["amount"]`, `"required": ["amount", "name"]`), entities.ParseOptions{}, false, `"name" becomes required`},
		{"higher minimum", edit(`"minimum": 0`, `"minimum": 1`), entities.ParseOptions{}, false, "minimum rises"},
		{"lower maxLength", edit(`"maxLength": 10`, `"maxLength": 5`), entities.ParseOptions{}, false, "maxLength falls"},
		{"new limit", edit(`"type": "array",`, `"type": "array", "minItems": 1,`), entities.ParseOptions{}, false, "gains minItems 1"},
		{"removed enum value", edit(`["X", "Y"]`, `["X"]`), entities.ParseOptions{}, false, `no longer allows "Y"`},
		{"new pattern", edit(`"addr": {"type": "object", "properties": {"street": {"type": "string"}}}`, `"addr": {"type": "object", "properties": {"street": {"type": "string", "pattern": "^x"}}}`), entities.ParseOptions{}, false, `"addr.street" gains pattern`},
		{"changed pattern", edit(`"^[a-z]+$"`, `"^[a-y]+$"`), entities.ParseOptions{}, false, "pattern changes"},
		{"new nested required", edit(`{"street": {"type": "string"}}}`, `{"street": {"type": "string"}}, "required": ["street"]}`), entities.ParseOptions{}, false, `"addr.street" becomes required`},
	}
	old := mustParse(t, base, entities.ParseOptions{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			new := mustParse(t, tc.new, tc.newOpts)
			diff := entities.Compare(old, new)
			if diff.Compatible != tc.compatible {
				t.Errorf("Compatible = %t, want %t; changes %q", diff.Compatible, tc.compatible, diff.Changes)
			}
			if tc.change == "" && len(diff.Changes) > 0 {
				t.Errorf("changes = %q, want none", diff.Changes)
			}
			if tc.change != "" && !slices.ContainsFunc(diff.Changes, func(c string) bool { return strings.Contains(c, tc.change) }) {
				t.Errorf("changes = %q, want one containing %q", diff.Changes, tc.change)
			}
			if diff.Compatible != (len(diff.Breaking) == 0) {
				t.Errorf("Compatible %t with breaking changes %q", diff.Compatible, diff.Breaking)
			}
		})
	}
	t.Run("reference target change", func(t *testing.T) {
		a := mustParse(t, `{"A": {"properties": {"r": {"type": "reference:A"}}}}`, entities.ParseOptions{})
		b := mustParse(t, `{"A": {"properties": {"r": {"type": "reference:B"}}}}`, entities.ParseOptions{})
		if diff := entities.Compare(a, b); diff.Compatible || !slices.Equal(diff.Changes, []string{`field "r" changes type from reference:A to reference:B`}) {
			t.Errorf("diff = %+v", diff)
		}
	})
	t.Run("renamed entity", func(t *testing.T) {
		b := mustParse(t, strings.Replace(base, `{"A":`, `{"B":`, 1), entities.ParseOptions{})
		if diff := entities.Compare(old, b); diff.Compatible {
			t.Errorf("diff = %+v", diff)
		}
	})
	t.Run("undeclared refused", func(t *testing.T) {
		loose := mustParse(t, base, entities.ParseOptions{AllowUndeclared: true})
		if diff := entities.Compare(loose, old); diff.Compatible || len(diff.Breaking) != 1 {
			t.Errorf("diff = %+v", diff)
		}
	})
	t.Run("NewRequired", func(t *testing.T) {
		new := mustParse(t, edit(`"required": ["amount"], "properties": {`, `"required": ["note", "amount", "name"], "properties": {"note": {"type": "string"}, `), entities.ParseOptions{})
		if got := entities.NewRequired(old, new); !slices.Equal(got, []string{"note", "name"}) {
			t.Errorf("NewRequired = %v", got)
		}
		if got := entities.NewRequired(new, old); got != nil {
			t.Errorf("NewRequired backwards = %v", got)
		}
	})
}

func TestMarshalJSONRoundTrip(t *testing.T) {
	docs := map[string]string{
		"OBP example": obpExample,
		"records":     recordDef,
		"everything": `{"Z": {"description": "all <keywords> & more", "required": ["b", "a"], "properties": {
			"a": {"type": "integer", "minimum": -1.5, "maximum": 1e21, "enum": [1, 2.0], "example": 1},
			"b": {"type": "string", "format": "iban", "pattern": "^GB", "minLength": 0, "maxLength": 34, "example": "GB82WEST12345698765432"},
			"c": {"type": "array", "minItems": 0, "maxItems": 2, "items": {"type": "object", "required": ["x"], "properties": {"x": {"type": "reference:Z"}}}, "example": [{"x": "z-1"}]},
			"d": {"type": "DATE_WITH_DAY", "enum": ["2024-02-29"], "description": "leap"},
			"e": {"type": "json", "example": {"k": [true, 1.25]}}}}, "hasPersonalEntity": false}`,
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, doc, entities.ParseOptions{})
			out, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			again := mustParse(t, string(out), entities.ParseOptions{})
			if d.Name != again.Name || d.Description != again.Description || d.HasPersonalEntity != again.HasPersonalEntity ||
				!slices.Equal(d.Required, again.Required) || !reflect.DeepEqual(d.Fields, again.Fields) {
				t.Errorf("round trip differs:\n%s", out)
			}
			if !reflect.DeepEqual(d.JSONSchema(), again.JSONSchema()) {
				t.Errorf("schemas differ after the round trip")
			}
			out2, _ := json.Marshal(again)
			if string(out) != string(out2) {
				t.Errorf("second marshal differs:\n%s\n%s", out, out2)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{obpExample, recordDef, `{}`, `[]`, `{"A": {"properties": {"x": {"type": "array"}}}}`,
		`{"A": {"properties": {"x": {"type": "string", "pattern": "(?=a)", "example": "a"}}}}`, `{"A": 1, "hasPersonalEntity": null}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := entities.Parse(data, entities.ParseOptions{})
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != entities.CodeInvalidDefinition || len(e.Violations) == 0 {
				t.Fatalf("error %#v is not an invalid_definition *engine.Error with violations", err)
			}
			return
		}
		_ = d.Validate(map[string]any{"x": 1.0})
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := entities.Parse(out, entities.ParseOptions{}); err != nil {
			t.Fatalf("marshalled definition does not parse: %v %v\n%s", err, violationsOf(err), out)
		}
	})
}
