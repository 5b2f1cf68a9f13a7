package entities

import (
	"errors"
	"fmt"
	"math/big"
	neturl "net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/dynapi/dynapi/engine"
)

// schemaBase names compiled entity schemas; .invalid never resolves, and
// nothing is ever fetched from it.
const schemaBase = "https://dynapi.invalid/entities/"

// patternTimeout bounds one match of a pattern that needs the backtracking
// engine, so a hostile pattern cannot stall a request (ReDoS).
const patternTimeout = 50 * time.Millisecond

// referenceKeyword carries the target entity of a reference field in the
// generated schema; JSON Schema ignores it.
const referenceKeyword = "x-dynapi-reference"

// printer renders the library's messages for rare keywords.
var printer = message.NewPrinter(language.English)

// compile generates the JSON Schema of d, compiles it, checks every example
// against its field's schema (reporting faults to p) and, when there are no
// faults, keeps the compiled schema in d. An error means a bug, not a fault
// of the definition.
func (p *parser) compile(d *Definition) error {
	d.tree = buildSchema(d)
	name := d.Name
	if !nameRule.MatchString(name) {
		name = "invalid"
	}
	url := schemaBase + name + ".json"
	c := newCompiler()
	if err := c.AddResource(url, d.tree); err != nil {
		return err
	}
	at := ptr("", d.Name, "properties")
	for _, f := range d.Fields {
		if err := p.checkExamples(c, url, f, ptr(at, f.Name), ptr("/properties", f.Name)); err != nil {
			return err
		}
	}
	if len(p.faults) > 0 {
		return nil
	}
	s, err := c.Compile(url)
	if err != nil {
		return err
	}
	d.schema = s
	return nil
}

// checkExamples validates the example of f, and those of its items and
// fields, each against its own schema at schemaAt.
func (p *parser) checkExamples(c *jsonschema.Compiler, url string, f *Field, docAt, schemaAt string) error {
	if f.Example != nil {
		s, err := c.Compile(url + "#" + fragment(schemaAt))
		if err != nil {
			return err
		}
		if err := s.Validate(f.Example); err != nil {
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) {
				return err
			}
			var vs []engine.Violation
			collectViolations(ve, "definition", ptr(docAt, "example"), &vs)
			for _, v := range vs {
				v.Code, v.Message = "example", "the example is not valid: "+v.Message
				p.faults = append(p.faults, v)
			}
		}
	}
	if f.Items != nil {
		if err := p.checkExamples(c, url, f.Items, ptr(docAt, "items"), ptr(schemaAt, "items")); err != nil {
			return err
		}
	}
	for _, sub := range f.Fields {
		if err := p.checkExamples(c, url, sub, ptr(docAt, "properties", sub.Name), ptr(schemaAt, "properties", sub.Name)); err != nil {
			return err
		}
	}
	return nil
}

// fragment percent-encodes a JSON pointer for a URL fragment, which the
// compiler decodes.
func fragment(pointer string) string {
	tokens := strings.Split(pointer, "/")
	for i, t := range tokens {
		tokens[i] = neturl.PathEscape(t)
	}
	return strings.Join(tokens, "/")
}

// newCompiler returns a draft 2020-12 compiler asserting formats, with the
// iban format, the two-engine regexp and no loader.
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "iban", Validate: validateIBAN})
	c.UseRegexpEngine(compilePattern)
	c.UseLoader(refuseLoader{})
	return c
}

// refuseLoader keeps the compiler from fetching anything.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not loaded: entity schemas are self-contained", url)
}

// buildSchema generates the JSON Schema of a definition from its parsed
// form, never from the submitted text.
func buildSchema(d *Definition) map[string]any {
	props := make(map[string]any, len(d.Fields)+1)
	for _, f := range d.Fields {
		props[f.Name] = fieldSchema(f, !d.AllowUndeclared)
	}
	if _, ok := props[d.PrimaryKey()]; !ok {
		props[d.PrimaryKey()] = map[string]any{"type": "string", "description": "The record's id, set by the server."}
	}
	s := map[string]any{"type": "object", "title": d.Name, "properties": props}
	if d.Description != "" {
		s["description"] = d.Description
	}
	if len(d.Required) > 0 {
		s["required"] = anyList(d.Required)
	}
	if !d.AllowUndeclared {
		s["additionalProperties"] = false
	}
	return s
}

func fieldSchema(f *Field, strict bool) map[string]any {
	s := map[string]any{}
	if f.Description != "" {
		s["description"] = f.Description
	}
	if f.Example != nil {
		s["examples"] = []any{f.Example}
	}
	if f.Enum != nil {
		s["enum"] = append([]any(nil), f.Enum...)
	}
	switch f.Type {
	case TypeString, TypeNumber, TypeInteger, TypeBoolean:
		s["type"] = f.Type
	case TypeDate:
		s["type"], s["format"] = "string", "date"
	case TypeReference:
		s["type"], s[referenceKeyword] = "string", f.Ref
	case TypeObject:
		props := make(map[string]any, len(f.Fields))
		for _, sub := range f.Fields {
			props[sub.Name] = fieldSchema(sub, strict)
		}
		s["type"], s["properties"] = "object", props
		if len(f.Required) > 0 {
			s["required"] = anyList(f.Required)
		}
		if strict {
			s["additionalProperties"] = false
		}
	case TypeArray:
		s["type"] = "array"
		if f.Items != nil {
			s["items"] = fieldSchema(f.Items, strict)
		}
	}
	if f.Pattern != "" {
		s["pattern"] = f.Pattern
	}
	if f.Format != "" {
		s["format"] = f.Format
	}
	setFloat(s, "minimum", f.Minimum)
	setFloat(s, "maximum", f.Maximum)
	setInt(s, "minLength", f.MinLength)
	setInt(s, "maxLength", f.MaxLength)
	setInt(s, "minItems", f.MinItems)
	setInt(s, "maxItems", f.MaxItems)
	return s
}

func setFloat(s map[string]any, k string, v *float64) {
	if v != nil {
		s[k] = *v
	}
}

func setInt(s map[string]any, k string, v *int) {
	if v != nil {
		s[k] = *v
	}
}

func anyList(names []string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out
}

// compilePattern uses Go's linear-time regexp when it can; patterns it
// refuses (lookarounds, backreferences) go to regexp2 with a match timeout.
func compilePattern(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		if re, err = regexp2.Compile(pattern, regexp2.None); err != nil {
			return nil, err
		}
	}
	re.MatchTimeout = patternTimeout
	return backtrackingPattern{re}, nil
}

// backtrackingPattern adapts regexp2 to jsonschema.Regexp. A match that
// times out counts as no match.
type backtrackingPattern struct{ re *regexp2.Regexp }

func (p backtrackingPattern) MatchString(s string) bool {
	ok, err := p.re.MatchString(s)
	return err == nil && ok
}

func (p backtrackingPattern) String() string { return p.re.String() }

// validateIBAN checks an IBAN in electronic form (no spaces): country code,
// two check digits, up to 30 letters or digits, and the ISO 7064 mod-97
// rule.
func validateIBAN(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if len(s) < 15 || len(s) > 34 {
		return errors.New("an IBAN has 15 to 34 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i < 2 && (c < 'A' || c > 'Z'),
			i >= 2 && i < 4 && (c < '0' || c > '9'),
			i >= 4 && !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'):
			return errors.New("an IBAN is a country code, two check digits and upper-case letters or digits")
		}
	}
	rem := 0
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	if rem != 1 {
		return errors.New("the IBAN check digits are wrong")
	}
	return nil
}

// collectViolations flattens a validation error into one violation per
// failed keyword, each at the JSON pointer of the offending value under
// base.
func collectViolations(ve *jsonschema.ValidationError, location, base string, out *[]engine.Violation) {
	at := ptr(base, ve.InstanceLocation...)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, engine.Violation{Location: location, Pointer: ptr(at, name), Code: "required",
				Message: fmt.Sprintf("missing required field %q", name)})
		}
		return
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			*out = append(*out, engine.Violation{Location: location, Pointer: ptr(at, name), Code: "additionalProperties",
				Message: fmt.Sprintf("%q is not a declared field", name)})
		}
		return
	}
	if len(ve.Causes) == 0 {
		*out = append(*out, engine.Violation{Location: location, Pointer: at, Code: keywordCode(ve.ErrorKind),
			Message: describe(ve.ErrorKind)})
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

// formatNames say what each format wants.
var formatNames = map[string]string{
	"date":      "a calendar date as yyyy-MM-dd",
	"date-time": "an RFC 3339 date-time such as 2025-12-31T23:59:59Z",
	"email":     "an email address",
	"uuid":      "a UUID",
	"iban":      "a valid IBAN",
}

// describe says what a failed keyword wants, in plain words.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return "must be " + orList(k.Want) + ", not " + withArticle(k.Got)
	case *kind.Enum:
		return "must be one of " + jsonList(k.Want, 10)
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
	case *kind.MinItems:
		return "must have at least " + strconv.Itoa(k.Want) + " items, not " + strconv.Itoa(k.Got)
	case *kind.MaxItems:
		return "must have at most " + strconv.Itoa(k.Want) + " items, not " + strconv.Itoa(k.Got)
	case *kind.InvalidJsonValue:
		return fmt.Sprintf("holds a %T, which is not a JSON value", k.Value)
	}
	return k.LocalizedString(printer)
}

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

func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}
