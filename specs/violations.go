package specs

import (
	"errors"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/dynapi/dynapi/engine"
)

// printer renders validation messages; one for the process, it is
// read-only after creation.
var printer = message.NewPrinter(language.English)

// violationsOf flattens a validation error into one violation per failed
// keyword, each with the JSON pointer of the offending value under base.
func violationsOf(err error, location, base string) []engine.Violation {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []engine.Violation{{Location: location, Pointer: base, Code: "invalid", Message: err.Error()}}
	}
	var out []engine.Violation
	collectViolations(ve, location, base, &out)
	return out
}

func collectViolations(ve *jsonschema.ValidationError, location, base string, out *[]engine.Violation) {
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		at := instancePointer(base, ve.InstanceLocation)
		for _, name := range k.Missing {
			*out = append(*out, engine.Violation{Location: location, Pointer: ptr(at, name), Code: "required",
				Message: "missing required property " + quote(name)})
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		v := engine.Violation{Location: location, Pointer: instancePointer(base, ve.InstanceLocation),
			Code: keywordCode(ve.ErrorKind), Message: describe(ve.ErrorKind)}
		if len(ve.Causes) > 0 {
			var first []engine.Violation
			collectViolations(ve.Causes[0], location, base, &first)
			if len(first) > 0 {
				v.Message += "; first alternative: " + strings.TrimPrefix(first[0].Pointer+": ", ": ") + first[0].Message
			}
		}
		*out = append(*out, v)
		return
	}
	if len(ve.Causes) == 0 {
		*out = append(*out, engine.Violation{Location: location, Pointer: instancePointer(base, ve.InstanceLocation),
			Code: keywordCode(ve.ErrorKind), Message: describe(ve.ErrorKind)})
		return
	}
	for _, c := range ve.Causes {
		collectViolations(c, location, base, out)
	}
}

// keywordCode is the failed keyword: "pattern", "enum", "type", ...
func keywordCode(k jsonschema.ErrorKind) string {
	if path := k.KeywordPath(); len(path) > 0 {
		return path[len(path)-1]
	}
	return "invalid"
}

func instancePointer(base string, tokens []string) string {
	return ptr(base, tokens...)
}

func quote(s string) string { return `"` + s + `"` }
