package jsonschemas

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// Words lets a caller name its things in messages: Property is what an
// object's members are called, "property" (OpenAPI, the default when
// empty) or "field" (entities).
type Words struct{ Property string }

func (w Words) property() string {
	if w.Property == "" {
		return "property"
	}
	return w.Property
}

// Violations flattens a validation error into one engine.Violation per
// failed keyword, at location, each with the JSON pointer of the offending
// value under base, sorted (stably) by pointer. Required and
// additionalProperties give one violation per named property; oneOf and
// anyOf give one violation carrying the first alternative's first reason.
// A *PatternError gives one violation at the value that could not be
// checked (code CodePatternBudget), and a *strictjson.Error (JSON text refused before
// validation) one at the value it names (at base for a syntax error). A *PanicError (which callers
// should answer as an internal error instead) and any other error give one
// violation with code "invalid" at base, saying nothing of the cause.
func Violations(err error, location, base string, w Words) []engine.Violation {
	var ve *jsonschema.ValidationError
	var pe *PatternError
	var se *strictjson.Error
	switch {
	case errors.As(err, &pe):
		return []engine.Violation{{Location: location, Pointer: base + pe.Pointer, Code: CodePatternBudget, Message: pe.message()}}
	case errors.As(err, &se):
		at := base + se.Pointer
		if se.Code == strictjson.CodeMalformed {
			at = base // a syntax error is the text's, not one value's
		}
		return []engine.Violation{{Location: location, Pointer: at, Code: se.Code,
			Message: se.Message + " (byte " + strconv.Itoa(se.Offset) + ")"}}
	case !errors.As(err, &ve):
		return []engine.Violation{{Location: location, Pointer: base, Code: "invalid", Message: "the value could not be checked"}}
	}
	var out []engine.Violation
	collect(ve, location, base, w, &out)
	slices.SortStableFunc(out, func(a, b engine.Violation) int { return cmp.Compare(a.Pointer, b.Pointer) })
	return out
}

func collect(ve *jsonschema.ValidationError, location, base string, w Words, out *[]engine.Violation) {
	at := jsonptr.Append(base, ve.InstanceLocation...)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, engine.Violation{Location: location, Pointer: jsonptr.Append(at, name), Code: "required",
				Message: fmt.Sprintf("missing required %s %q", w.property(), name)})
		}
		return
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			*out = append(*out, engine.Violation{Location: location, Pointer: jsonptr.Append(at, name), Code: "additionalProperties",
				Message: fmt.Sprintf("%q is not a declared %s", name, w.property())})
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		v := engine.Violation{Location: location, Pointer: at, Code: keywordCode(k), Message: Describe(k)}
		if len(ve.Causes) > 0 {
			var first []engine.Violation
			collect(ve.Causes[0], location, base, w, &first)
			if len(first) > 0 {
				v.Message += "; first alternative: " + strings.TrimPrefix(first[0].Pointer+": ", ": ") + first[0].Message
			}
		}
		*out = append(*out, v)
		return
	}
	if len(ve.Causes) == 0 {
		*out = append(*out, engine.Violation{Location: location, Pointer: at, Code: keywordCode(ve.ErrorKind),
			Message: Describe(ve.ErrorKind)})
		return
	}
	for _, c := range ve.Causes {
		collect(c, location, base, w, out)
	}
}

// keywordCode is the failed keyword: "pattern", "enum", "type", ...
func keywordCode(k jsonschema.ErrorKind) string {
	if path := k.KeywordPath(); len(path) > 0 {
		return path[len(path)-1]
	}
	return "invalid"
}
