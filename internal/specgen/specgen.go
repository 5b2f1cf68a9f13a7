// Package specgen builds synthetic OpenAPI documents shaped like the bank
// documents dynapi serves (UK Open Banking, Berlin Group): resources with
// shared components, request bodies wrapped in a Data object, parameters
// and error responses by reference, long descriptions and examples. It
// exists for load benchmarks: no public document is as large as the ones
// operators submit.
package specgen

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Large returns a JSON OpenAPI 3.0.3 document of resources*3 operations
// (list, create, get by id for each resource). 100 resources make 300
// operations in about 2.5 MB.
func Large(resources int) []byte {
	paths := map[string]any{}
	schemas := map[string]any{
		"Amount": map[string]any{
			"type": "object", "required": []any{"Amount", "Currency"},
			"description": text("An amount of money in a currency", 3),
			"properties": map[string]any{
				"Amount":   map[string]any{"type": "string", "pattern": `^\d{1,13}$|^\d{1,13}\.\d{1,5}$`, "description": text("A number of monetary units", 2)},
				"Currency": map[string]any{"type": "string", "pattern": `^[A-Z]{3,3}$`, "description": text("ISO 4217 currency code", 2)},
			},
		},
		"Links": map[string]any{
			"type": "object", "required": []any{"Self"}, "additionalProperties": false,
			"properties": map[string]any{
				"Self":  map[string]any{"type": "string", "format": "uri"},
				"First": map[string]any{"type": "string", "format": "uri"},
				"Next":  map[string]any{"type": "string", "format": "uri"},
				"Last":  map[string]any{"type": "string", "format": "uri"},
			},
		},
		"Error": map[string]any{
			"type": "object", "required": []any{"ErrorCode", "Message"},
			"properties": map[string]any{
				"ErrorCode": map[string]any{"type": "string", "enum": []any{"Field.Expected", "Field.Invalid", "Field.Missing", "Resource.NotFound", "Header.Invalid"}},
				"Message":   map[string]any{"type": "string", "minLength": 1, "maxLength": 500},
				"Path":      map[string]any{"type": "string", "minLength": 1, "maxLength": 500},
			},
		},
		"ErrorResponse": map[string]any{
			"type": "object", "required": []any{"Code", "Message", "Errors"},
			"properties": map[string]any{
				"Code":    map[string]any{"type": "string", "minLength": 1, "maxLength": 40},
				"Id":      map[string]any{"type": "string", "minLength": 1, "maxLength": 40},
				"Message": map[string]any{"type": "string", "minLength": 1, "maxLength": 500},
				"Errors":  map[string]any{"type": "array", "minItems": 1, "items": ref("schemas", "Error")},
			},
		},
	}
	errorResponses := map[string]any{}
	for _, e := range []struct{ code, name string }{{"400", "BadRequest"}, {"401", "Unauthorized"}, {"403", "Forbidden"}, {"404", "NotFound"}, {"500", "InternalError"}} {
		errorResponses[e.name] = map[string]any{
			"description": text(e.name, 2),
			"headers":     map[string]any{"x-fapi-interaction-id": map[string]any{"description": "An RFC4122 UID used as a correlation id.", "schema": map[string]any{"type": "string"}}},
			"content": map[string]any{"application/json": map[string]any{
				"schema":  ref("schemas", "ErrorResponse"),
				"example": map[string]any{"Code": e.code, "Message": e.name, "Errors": []any{map[string]any{"ErrorCode": "Field.Invalid", "Message": "The field is invalid"}}},
			}},
		}
	}
	parameters := map[string]any{
		"Authorization":         map[string]any{"name": "Authorization", "in": "header", "required": true, "description": text("An authorisation token", 2), "schema": map[string]any{"type": "string"}},
		"x-fapi-interaction-id": map[string]any{"name": "x-fapi-interaction-id", "in": "header", "description": text("An RFC4122 UID used as a correlation id", 2), "schema": map[string]any{"type": "string"}},
		"Limit":                 map[string]any{"name": "limit", "in": "query", "description": "Page size.", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 100}},
		"FromDate":              map[string]any{"name": "fromBookingDateTime", "in": "query", "description": text("Earliest booking date and time", 2), "schema": map[string]any{"type": "string", "format": "date-time"}},
	}
	for r := range resources {
		name := fmt.Sprintf("Resource%03d", r)
		item := fmt.Sprintf("/resources%03d", r)
		schemas[name] = resourceSchema(name)
		schemas[name+"Request"] = wrap(map[string]any{"type": "object", "required": []any{"Initiation"},
			"properties": map[string]any{"Initiation": ref("schemas", name), "Reference": map[string]any{"type": "string", "maxLength": 35}}}, false)
		schemas[name+"Response"] = wrap(map[string]any{"type": "object",
			"properties": map[string]any{name: map[string]any{"type": "array", "items": ref("schemas", name)}}}, true)
		errors := map[string]any{}
		for code, n := range map[string]string{"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound", "500": "InternalError"} {
			errors[code] = ref("responses", n)
		}
		ok := func(status string) map[string]any {
			out := map[string]any{status: map[string]any{
				"description": text(name+" answer", 2),
				"content": map[string]any{"application/json": map[string]any{
					"schema": ref("schemas", name+"Response"), "example": responseExample(name),
				}},
			}}
			for k, v := range errors {
				out[k] = v
			}
			return out
		}
		common := []any{ref("parameters", "Authorization"), ref("parameters", "x-fapi-interaction-id")}
		paths[item] = map[string]any{
			"get": map[string]any{
				"tags": []any{name}, "operationId": "List" + name, "summary": "List " + name,
				"description": text("Lists every "+name+" the consent covers", 6),
				"parameters":  append(append([]any{}, common...), ref("parameters", "Limit"), ref("parameters", "FromDate")),
				"responses":   ok("200"),
			},
			"post": map[string]any{
				"tags": []any{name}, "operationId": "Create" + name, "summary": "Create " + name,
				"description": text("Creates a "+name+" and answers it with its identifier", 6),
				"parameters":  common,
				"requestBody": map[string]any{"required": true, "description": text("The new "+name, 2), "content": map[string]any{
					"application/json": map[string]any{"schema": ref("schemas", name+"Request"),
						"example": map[string]any{"Data": map[string]any{"Initiation": resourceExample(name)}, "Risk": map[string]any{}}},
				}},
				"responses": ok("201"),
			},
		}
		paths[item+"/{Id}"] = map[string]any{
			"parameters": []any{map[string]any{"name": "Id", "in": "path", "required": true, "description": text("The identifier of the "+name, 2),
				"schema": map[string]any{"type": "string", "minLength": 1, "maxLength": 40}}},
			"get": map[string]any{
				"tags": []any{name}, "operationId": "Get" + name, "summary": "Get " + name,
				"description": text("Answers one "+name+" by its identifier", 6),
				"parameters":  common,
				"responses":   ok("200"),
			},
		}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Synthetic bank API", "version": "1.0.0", "description": text("A synthetic document for load benchmarks", 10)},
		"servers": []any{map[string]any{"url": "/open-banking/v4.0/aisp"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas, "responses": errorResponses, "parameters": parameters,
		},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // only maps, slices and strings: cannot fail
	}
	return out
}

// resourceSchema is the object schema of one resource: identifiers with
// patterns, enums, amounts, dates, a nested address and a list of entries.
func resourceSchema(name string) map[string]any {
	props := map[string]any{
		"Id":              map[string]any{"type": "string", "minLength": 1, "maxLength": 40, "description": text(name+" identifier", 3)},
		"Status":          map[string]any{"type": "string", "enum": []any{"Pending", "Booked", "Rejected", "Cancelled"}, "description": text("Status of the "+name, 3)},
		"Amount":          ref("schemas", "Amount"),
		"ChargeAmount":    ref("schemas", "Amount"),
		"CreationDate":    map[string]any{"type": "string", "format": "date-time", "description": text("When the "+name+" was created", 3)},
		"StatusUpdate":    map[string]any{"type": "string", "format": "date-time", "description": text("When the status last changed", 3)},
		"Reference":       map[string]any{"type": "string", "maxLength": 35, "description": text("A reference the debtor gives", 3)},
		"Scheme":          map[string]any{"type": "string", "pattern": `^[A-Z]{2}\.[A-Za-z]{1,30}$`, "description": text("Identification scheme", 3)},
		"Identification":  map[string]any{"type": "string", "minLength": 1, "maxLength": 256, "description": text("Account identification", 3)},
		"SecondaryId":     map[string]any{"type": "string", "minLength": 1, "maxLength": 34, "nullable": true},
		"Nickname":        map[string]any{"type": "string", "minLength": 1, "maxLength": 70},
		"Rate":            map[string]any{"type": "number", "minimum": 0, "maximum": 100},
		"Count":           map[string]any{"type": "integer", "format": "int32", "minimum": 0},
		"Frequency":       map[string]any{"type": "string", "pattern": `^(NILL:00:00|EVDY:00:00|EVWD:00:00|WEEK:0[1-5]:0[1-7]|MNTH:(0[1-9]|1[0-2]):([0-2][1-9]|3[01]))$`},
		"Country":         map[string]any{"type": "string", "pattern": `^[A-Z]{2,2}$`},
		"Category":        map[string]any{"type": "string", "enum": []any{"Personal", "Business", "Corporate", "Retail", "Wholesale", "Other"}},
		"Active":          map[string]any{"type": "boolean"},
		"RemittanceLines": map[string]any{"type": "array", "maxItems": 10, "items": map[string]any{"type": "string", "minLength": 1, "maxLength": 140}},
		"PostalAddress": map[string]any{"type": "object", "description": text("Where the party can be found", 3), "properties": map[string]any{
			"AddressType":    map[string]any{"type": "string", "enum": []any{"Business", "Correspondence", "DeliveryTo", "MailTo", "POBox", "Postal", "Residential", "Statement"}},
			"StreetName":     map[string]any{"type": "string", "minLength": 1, "maxLength": 70},
			"BuildingNumber": map[string]any{"type": "string", "minLength": 1, "maxLength": 16},
			"PostCode":       map[string]any{"type": "string", "minLength": 1, "maxLength": 16},
			"TownName":       map[string]any{"type": "string", "minLength": 1, "maxLength": 35},
			"Country":        map[string]any{"type": "string", "pattern": `^[A-Z]{2,2}$`},
			"AddressLine":    map[string]any{"type": "array", "minItems": 0, "maxItems": 7, "items": map[string]any{"type": "string", "minLength": 1, "maxLength": 70}},
		}},
		"Entries": map[string]any{"type": "array", "items": map[string]any{"type": "object", "required": []any{"Amount", "CreditDebitIndicator"}, "properties": map[string]any{
			"Amount":               ref("schemas", "Amount"),
			"CreditDebitIndicator": map[string]any{"type": "string", "enum": []any{"Credit", "Debit"}},
			"BookingDateTime":      map[string]any{"type": "string", "format": "date-time"},
			"Information":          map[string]any{"type": "string", "minLength": 1, "maxLength": 500},
		}}},
	}
	return map[string]any{"type": "object", "required": []any{"Id", "Status", "Amount"}, "additionalProperties": false,
		"description": text("A "+name+" as the bank keeps it", 8), "properties": props}
}

// wrap puts a schema under Data, OB style, with Links and Meta on answers.
func wrap(data map[string]any, answer bool) map[string]any {
	props := map[string]any{"Data": data}
	required := []any{"Data"}
	if answer {
		props["Links"] = ref("schemas", "Links")
		props["Meta"] = map[string]any{"type": "object", "properties": map[string]any{"TotalPages": map[string]any{"type": "integer", "format": "int32"}}}
	} else {
		props["Risk"] = map[string]any{"type": "object", "description": text("Risk indicators", 3)}
		required = append(required, "Risk")
	}
	return map[string]any{"type": "object", "required": required, "properties": props}
}

func resourceExample(name string) map[string]any {
	return map[string]any{
		"Id": name + "-1", "Status": "Booked",
		"Amount":         map[string]any{"Amount": "10.50", "Currency": "GBP"},
		"CreationDate":   "2026-01-02T03:04:05Z",
		"Reference":      "Invoice 42",
		"Scheme":         "UK.SortCodeAccountNumber",
		"Identification": "11280001234567",
		"Country":        "GB",
		"Category":       "Personal",
		"PostalAddress":  map[string]any{"AddressType": "Business", "TownName": "London", "Country": "GB"},
		"Entries":        []any{map[string]any{"Amount": map[string]any{"Amount": "1.00", "Currency": "GBP"}, "CreditDebitIndicator": "Debit"}},
	}
}

func responseExample(name string) map[string]any {
	return map[string]any{
		"Data":  map[string]any{name: []any{resourceExample(name)}},
		"Links": map[string]any{"Self": "https://bank.example/" + strings.ToLower(name)},
		"Meta":  map[string]any{"TotalPages": 1},
	}
}

// text is a description of n sentences, as long as real documents'.
func text(subject string, n int) string {
	var b strings.Builder
	b.WriteString(subject + ".")
	for i := range n {
		fmt.Fprintf(&b, " Sentence %d explains, as bank documents do at length, what the field holds, who sets it and under which rules it may change.", i+1)
	}
	return b.String()
}

// ref is a local reference to a component.
func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}
