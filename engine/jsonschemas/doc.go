// Package jsonschemas holds what the packages that compile JSON Schemas
// with github.com/santhosh-tekuri/jsonschema/v6 share: a compiler that
// fetches nothing and asserts formats, a regexp engine safe from ReDoS, and
// the translation of validation errors into engine.Violations with plain
// English messages.
//
// Format registration stays with the callers: specs adds OpenAPI's int32,
// int64 and byte, entities adds iban.
package jsonschemas
