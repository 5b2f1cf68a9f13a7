// Package jsonschemas holds what the packages that compile JSON Schemas
// with github.com/santhosh-tekuri/jsonschema/v6 share: a compiler that
// fetches nothing and asserts formats; Schema, the one way to validate a
// value, which turns a panic of the library into an error and bounds the
// backtracking pattern matches of a request by a Budget; PatternRisks,
// which finds where a backtracking pattern meets input of unbounded size;
// and the translation of validation errors into engine.Violations with
// plain English messages.
//
// Format registration stays with the callers: specs adds OpenAPI's int32,
// int64 and byte, entities adds iban.
package jsonschemas
