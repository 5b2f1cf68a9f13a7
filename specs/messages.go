package specs

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// describe says what a failed keyword wants, in plain words. The common
// kinds are written here directly: it reads better than the library's
// generic text and costs a fraction of its formatting, which matters on the
// invalid-request path. Rarer kinds fall back to the library.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return "must be " + orList(k.Want) + ", not " + k.Got
	case *kind.Enum:
		return "must be one of " + jsonList(k.Want, 10)
	case *kind.Const:
		return "must be " + jsonText(k.Want)
	case *kind.Format:
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
	}
	return k.LocalizedString(printer)
}

func orList(words []string) string {
	switch len(words) {
	case 0:
		return "nothing"
	case 1:
		return withArticle(words[0])
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
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

// jsonList writes at most max values as JSON.
func jsonList(values []any, max int) string {
	var b strings.Builder
	for i, v := range values {
		if i == max {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(jsonText(v))
	}
	return b.String()
}

func jsonText(v any) string {
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
