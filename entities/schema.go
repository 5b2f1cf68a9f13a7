package entities

import (
	"errors"
	neturl "net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// schemaBase names compiled entity schemas; .invalid never resolves, and
// nothing is ever fetched from it.
const schemaBase = "https://dynapi.invalid/entities/"

// referenceKeyword carries the target entity of a reference field in the
// generated schema; JSON Schema ignores it.
const referenceKeyword = "x-dynapi-reference"

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
	d.schema = jsonschemas.NewSchema(s)
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
		if err := jsonschemas.NewSchema(s).Validate(f.Example); err != nil {
			var pe *jsonschemas.PanicError
			if errors.As(err, &pe) {
				return err
			}
			for _, v := range jsonschemas.Violations(err, "definition", ptr(docAt, "example"), words) {
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
	c := jsonschemas.NewCompiler("entity schemas are self-contained",
		&jsonschema.Format{Name: "iban", Validate: validateIBAN})
	c.DefaultDraft(jsonschema.Draft2020)
	return c
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

// words names things in validation messages the entities way.
var words = jsonschemas.Words{Property: "field"}
