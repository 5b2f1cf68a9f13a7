package jsonschemas

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer renders the library's messages for rare keywords; one for the
// process, it is read-only after creation.
var printer = message.NewPrinter(language.English)

// formatNames say what each well-known format wants.
var formatNames = map[string]string{
	"date":      "a calendar date as yyyy-MM-dd",
	"date-time": "an RFC 3339 date-time such as 2025-12-31T23:59:59Z",
	"email":     "an email address",
	"uuid":      "a UUID",
	"iban":      "a valid IBAN",
}

// Describe says in plain English what a failed keyword wants, formats by
// friendly name. The common kinds are written here directly: it reads
// better than the library's generic text and costs a fraction of its
// formatting, which matters on the invalid-request path. Rarer kinds fall
// back to the library.
func Describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return "must be " + orList(k.Want) + ", not " + withArticle(k.Got)
	case *kind.Enum:
		return "must be one of " + JSONList(k.Want, 10)
	case *kind.Const:
		return "must be " + JSONText(k.Want)
	case *kind.Format:
		if name, ok := formatNames[k.Want]; ok {
			return "must be " + name
		}
		return "must be a valid " + k.Want
	case *kind.Pattern:
		return "must match the pattern " + k.Want
	case *kind.MinLength:
		return "must be at least " + strconv.Itoa(k.Want) + " characters long, not " + strconv.Itoa(k.Got)
	case *kind.MaxLength:
		return "must be at most " + strconv.Itoa(k.Want) + " characters long, not " + strconv.Itoa(k.Got)
	case *kind.Minimum:
		return "must be at least " + ratText(k.Want)
	case *kind.Maximum:
		return "must be at most " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be greater than " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be less than " + ratText(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratText(k.Want)
	case *kind.MinItems:
		return "must have at least " + strconv.Itoa(k.Want) + " items, not " + strconv.Itoa(k.Got)
	case *kind.MaxItems:
		return "must have at most " + strconv.Itoa(k.Want) + " items, not " + strconv.Itoa(k.Got)
	case *kind.AdditionalProperties:
		return "has properties the schema does not allow: " + strings.Join(k.Properties, ", ")
	case *kind.InvalidJsonValue:
		return fmt.Sprintf("holds a %T, which is not a JSON value", k.Value)
	}
	return k.LocalizedString(printer)
}

// orList joins JSON types, each with its article: "a string or null".
func orList(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = withArticle(w)
	}
	switch len(out) {
	case 0:
		return "nothing"
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

func withArticle(t string) string {
	switch t {
	case "integer", "array", "object":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

// JSONList writes at most max values as JSON, separated by commas, with
// ", ..." when some are left out.
func JSONList(values []any, max int) string {
	var b strings.Builder
	for i, v := range values {
		if i == max {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(JSONText(v))
	}
	return b.String()
}

// JSONText is v as compact JSON, or "?" when it cannot be marshalled.
func JSONText(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(out)
}

func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}
