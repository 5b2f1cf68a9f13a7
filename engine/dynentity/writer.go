package dynentity

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// Writer validates and writes the records of dynamic entities for every
// caller that writes them: the record API, scripts and the dynamic_entity
// host. Each record is checked the same way whoever sends it: its values
// are ones JSON carries exactly, it matches its definition, and its
// references to banks, consumers and users resolve. The record store then
// enforces references between entities, quotas and If-Match conditions in
// the write's own transaction.
type Writer struct {
	Records *records.Store
	Access  *access.Service
}

// schema returns the schema of owner's records of e: the personal one for
// an owner, the shared one for "".
func schema(e *Entity, owner string) *records.Schema {
	if owner != "" {
		return e.PersonalSchema
	}
	return e.Schema
}

// Create validates and stores a new record of owner ("" shared), charged
// to user by.
func (w *Writer) Create(ctx context.Context, e *Entity, owner, by string, rec map[string]any) (*records.Stored, error) {
	if err := w.references(ctx, e, rec); err != nil {
		return nil, err
	}
	if err := validate(e, rec); err != nil {
		return nil, err
	}
	return w.Records.Create(ctx, schema(e, owner), owner, by, rec)
}

// Replace validates rec and stores it in place of the record with id, if
// cond holds. A record without its primary key is taken as the one it
// replaces.
func (w *Writer) Replace(ctx context.Context, e *Entity, owner, id string, rec map[string]any, cond records.IfMatch) (*records.Stored, error) {
	rec = withID(e, id, rec)
	if err := w.references(ctx, e, rec); err != nil {
		return nil, err
	}
	if err := validate(e, rec); err != nil {
		return nil, err
	}
	return w.Records.Replace(ctx, schema(e, owner), owner, id, rec, cond)
}

// Update applies changes to the record with id, if cond holds, in the
// transaction that writes it: apply returns the record to store from the
// stored one and changes, and the result is validated there, so that
// concurrent updates of different fields all survive. The references to
// banks, consumers and users that changes brings are checked before (the
// rest of the record was checked when it was written).
func (w *Writer) Update(ctx context.Context, e *Entity, owner, id string, cond records.IfMatch, changes map[string]any,
	apply func(stored, changes map[string]any) map[string]any) (*records.Stored, error) {
	if err := checkValues(changes); err != nil {
		return nil, err
	}
	if err := w.references(ctx, e, changes); err != nil {
		return nil, err
	}
	return w.Records.Update(ctx, schema(e, owner), owner, id, cond, func(stored map[string]any) (map[string]any, error) {
		next := withID(e, id, apply(stored, changes))
		return next, validate(e, next)
	})
}

// MergePatch applies an RFC 7386 JSON merge patch to a record.
func MergePatch(stored, patch map[string]any) map[string]any {
	out, _ := mergePatch(stored, patch).(map[string]any)
	return out
}

func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// withID returns rec with id as its primary key when it has none (or
// null), so that
// a replacement validates as the record it replaces. rec is not changed.
func withID(e *Entity, id string, rec map[string]any) map[string]any {
	pk := e.Def.PrimaryKey()
	if v, ok := rec[pk]; ok && v != nil {
		return rec
	}
	out := make(map[string]any, len(rec)+1)
	for k, v := range rec {
		out[k] = v
	}
	out[pk] = id
	return out
}

// validate checks a record's values and then its definition.
func validate(e *Entity, rec map[string]any) error {
	if err := checkValues(rec); err != nil {
		return err
	}
	if v := e.Def.Validate(rec); len(v) > 0 {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the record does not match the definition of "+e.Def.Name, v...)
	}
	return nil
}

// checkValues refuses values JSON cannot carry exactly, whatever decoded
// them: numbers strictjson would refuse (an exponent math/big gives up on
// takes the schema validator down), infinities and NaN, text that is not
// UTF-8, and nesting deeper than strictjson allows. A 400 names each
// value's pointer.
func checkValues(rec map[string]any) error {
	var faults []engine.Violation
	walkValues(rec, "", 0, &faults)
	if len(faults) > 0 {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the record holds values JSON cannot carry exactly", faults...)
	}
	return nil
}

// maxValueFaults bounds the violations checkValues reports.
const maxValueFaults = 20

func walkValues(v any, at string, depth int, faults *[]engine.Violation) {
	if len(*faults) >= maxValueFaults {
		return
	}
	fault := func(code, msg string) {
		*faults = append(*faults, engine.Violation{Location: "body", Pointer: at, Code: code, Message: msg})
	}
	switch v := v.(type) {
	case map[string]any:
		if depth >= strictjson.DefaultMaxDepth {
			fault(strictjson.CodeTooDeep, "objects and arrays nest deeper than "+strconv.Itoa(strictjson.DefaultMaxDepth)+" levels")
			return
		}
		for k, x := range v {
			if !utf8.ValidString(k) {
				fault(strictjson.CodeInvalidUTF8, "a key holds bytes that are not UTF-8")
				continue
			}
			walkValues(x, jsonptr.Append(at, k), depth+1, faults)
		}
	case []any:
		if depth >= strictjson.DefaultMaxDepth {
			fault(strictjson.CodeTooDeep, "objects and arrays nest deeper than "+strconv.Itoa(strictjson.DefaultMaxDepth)+" levels")
			return
		}
		for i, x := range v {
			walkValues(x, at+"/"+strconv.Itoa(i), depth+1, faults)
		}
	case string:
		if !utf8.ValidString(v) {
			fault(strictjson.CodeInvalidUTF8, "the text holds bytes that are not UTF-8")
		}
	case json.Number:
		n, err := strictjson.Decode([]byte(v))
		var se *strictjson.Error
		switch {
		case errors.As(err, &se):
			fault(se.Code, se.Message)
		case err != nil:
			fault(strictjson.CodeMalformed, err.Error())
		default:
			if _, ok := n.(json.Number); !ok {
				fault(strictjson.CodeMalformed, "must be a number")
			}
		}
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			fault(strictjson.CodeNumberRange, "must be a finite number")
		}
	case float32:
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			fault(strictjson.CodeNumberRange, "must be a finite number")
		}
	}
}

// references resolves the fields of rec that refer to the engine's own
// types (banks, consumers, users); references to other entities are
// checked by the record store in the write's transaction.
func (w *Writer) references(ctx context.Context, e *Entity, rec map[string]any) error {
	for _, ref := range e.Def.References() {
		id, _ := rec[ref.Field].(string)
		if id == "" {
			continue
		}
		var found bool
		switch ref.Entity {
		case "Bank":
			found = w.Access.Banks.Exists(id)
		case "Consumer":
			_, err := w.Access.Identity.Consumer(ctx, id)
			found = err == nil
		case "User":
			_, err := w.Access.Identity.User(ctx, id)
			found = err == nil
		default:
			continue
		}
		if !found {
			return engine.NewError(http.StatusBadRequest, records.CodeReferenceNotFound, "a reference points to nothing",
				engine.Violation{Location: "body", Pointer: "/" + ref.Field, Code: "reference",
					Message: ref.Entity + " " + id + " does not exist"})
		}
	}
	return nil
}
