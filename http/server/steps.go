package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// The pipeline's steps, shared by dynamic operations and fixed Routes, so
// every route authenticates, guards and reads its body the same way.

// Guard is the pipeline's guard step: p must hold one of rule's roles at
// bankID ("" system wide; system roles count anywhere). A bank that does
// not exist is a 404 before any role is looked at; a rule without roles
// checks only that. A nil p (a public route) passes.
func Guard(ctx context.Context, gate *guard.Gate, p *identity.Principal, rule *guard.Rule, bankID string) error {
	if p == nil {
		return nil
	}
	return gate.Authorize(ctx, p, rule, bankID)
}

// DecodeJSON is the body-decoding step of routes whose body has a fixed
// shape: raw is read strictly into v (see strictjson.Into). Text that is
// not acceptable JSON (malformed, a duplicate key, invalid UTF-8, a number
// out of range) and every member v's type has no field for are a 400
// validation_failed, one violation per fault, at location body with the
// member's JSON pointer.
func DecodeJSON(raw []byte, v any) error {
	return bodyError(strictjson.Into(raw, v))
}

// JSONBody is the Decode stage of a route whose body is a JSON object of
// type T: the body read into a new T by DecodeJSON.
func JSONBody[T any]() func(raw []byte) (any, error) {
	return func(raw []byte) (any, error) {
		v := new(T)
		if err := DecodeJSON(raw, v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// DecodeObject is the body-decoding step of routes whose body is any JSON
// object (entity records, checked against their entity's schema later): at
// most max bytes (a 413 beyond), decoded strictly with numbers kept exact.
func DecodeObject(raw []byte, max int) (map[string]any, error) {
	if len(raw) > max {
		return nil, engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodePayloadTooLarge,
			"the request body is larger than %d bytes", max)
	}
	v, err := strictjson.Decode(raw)
	if err != nil {
		return nil, bodyError(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the body must be a JSON object",
			engine.Violation{Location: "body", Pointer: "", Code: strictjson.CodeType, Message: "must be a JSON object"})
	}
	return obj, nil
}

// bodyError renders a strictjson refusal as the 400 the pipeline answers
// for an invalid body.
func bodyError(err error) error {
	var faults []*strictjson.Error
	var se *strictjson.Error
	var me *strictjson.MismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		faults = []*strictjson.Error{se}
	case errors.As(err, &me):
		faults = me.Faults
	default:
		return engine.Internal(err)
	}
	vs := make([]engine.Violation, len(faults))
	for i, f := range faults {
		vs[i] = engine.Violation{Location: "body", Pointer: f.Pointer, Code: f.Code, Message: f.Message}
	}
	msg := "the body is not acceptable for this route: " + faults[0].Message
	if len(faults) > 1 {
		msg += " (and more; see violations)"
	}
	return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, msg, vs...)
}
