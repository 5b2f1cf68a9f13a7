// Package entities holds dynamic entities: data types an administrator
// defines at run time in the Open Bank Project's JSON format, such as
//
//	{"LoanOffer": {
//	   "description": "an offer of a loan",
//	   "required": ["amount"],
//	   "properties": {
//	     "amount":      {"type": "number", "example": 1000.0},
//	     "product":     {"type": "string", "minLength": 2, "maxLength": 30},
//	     "valid_until": {"type": "DATE_WITH_DAY", "example": "2025-12-31"},
//	     "customer_id": {"type": "reference:Customer"}}},
//	 "hasPersonalEntity": true}
//
// Parse checks such a definition, collecting every fault into one 400
// *engine.Error with code "invalid_definition", and compiles it into a JSON
// Schema (draft 2020-12) against which Definition.Validate checks records.
// The record store and the CRUD endpoints are built on top of this package;
// it does no storage and serves no requests itself.
//
// Beyond OBP, fields may carry enum, pattern, format, minimum, maximum,
// minItems and maxItems, and may be nested objects ("type": "object" with
// "properties" and "required") or arrays ("type": "array" with "items").
// A "number" field accepts integers too, unlike OBP.
//
// Naming follows OBP: the entity LoanOffer is stored under the single key
// "loan_offer", listed under "loan_offer_list" and identified by the
// primary key "loan_offer_id".
//
// Compare and NewRequired support schema evolution: they say whether a new
// version of a definition accepts every record the old one did.
package entities
