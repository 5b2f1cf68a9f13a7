package entities

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// keyPersonal is OBP's top-level flag next to the entity.
const keyPersonal = "hasPersonalEntity"

// referencePrefix starts a reference type: "reference:Customer".
const referencePrefix = "reference:"

// nameRule is OBP's rule for entity and field names.
var nameRule = regexp.MustCompile(`^[-_A-Za-z0-9]+$`)

// typeList names the allowed types in messages.
const typeList = `string, number, integer, boolean, DATE_WITH_DAY, json, reference:<Entity>, object, array`

// formats are the allowed values of "format".
var formats = []string{"date-time", "date", "email", "uuid", "iban"}

// entityKeys and fieldKeys are the keywords allowed on an entity and on a
// field.
var (
	entityKeys = []string{"description", "required", "properties"}
	fieldKeys  = []string{"type", "description", "example", "enum", "pattern", "format",
		"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "items", "properties", "required"}
)

// applies says which type-specific keywords each type takes.
var applies = map[string][]string{
	TypeString:    {"enum", "pattern", "format", "minLength", "maxLength"},
	TypeNumber:    {"enum", "minimum", "maximum"},
	TypeInteger:   {"enum", "minimum", "maximum"},
	TypeBoolean:   {"enum"},
	TypeDate:      {"enum"},
	TypeJSON:      {},
	TypeReference: {},
	TypeObject:    {"properties", "required"},
	TypeArray:     {"items", "minItems", "maxItems"},
}

// parser checks one definition, collecting faults.
type parser struct {
	opts   ParseOptions
	name   string // the entity's name, for self references
	faults []engine.Violation
}

func (p *parser) fault(pointer, code, format string, args ...any) {
	p.faults = append(p.faults, engine.Violation{Location: "definition", Pointer: pointer, Code: code,
		Message: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	sortViolations(p.faults)
	msg := "the entity definition is invalid"
	if len(p.faults) == 1 {
		msg += ": " + p.faults[0].Message
	}
	return engine.NewError(http.StatusBadRequest, CodeInvalidDefinition, msg, p.faults...)
}

// parse decodes and checks the document. It returns nil when there is no
// entity to speak of; otherwise a definition whose faulty parts are left
// out, with the faults in p.faults.
func (p *parser) parse(data []byte) *Definition {
	doc, err := strictjson.Decode(data)
	var e *strictjson.Error
	if errors.As(err, &e) {
		// A syntax error is the document's; the other refusals name the
		// value at fault.
		pointer, code := e.Pointer, e.Code
		if code == strictjson.CodeMalformed {
			pointer, code = "", "json"
		}
		p.fault(pointer, code, "the definition is not valid JSON: %s (at byte %d)", e.Message, e.Offset)
		return nil
	}
	top, ok := doc.(map[string]any)
	if !ok {
		p.fault("", "type", `the definition must be a JSON object such as {"LoanOffer": {"properties": {...}}}, not %s`, jsonType(doc))
		return nil
	}
	d := &Definition{HasPersonalEntity: true, AllowUndeclared: p.opts.AllowUndeclared}
	var names []string
	for _, k := range sortedKeys(top) {
		if k == keyPersonal {
			if b, ok := top[k].(bool); ok {
				d.HasPersonalEntity = b
			} else {
				p.fault("/"+keyPersonal, "type", "%s must be true or false, not %s", keyPersonal, jsonType(top[k]))
			}
			continue
		}
		names = append(names, k)
	}
	switch len(names) {
	case 0:
		p.fault("", "entity", `the definition names no entity; it must look like {"LoanOffer": {"properties": {...}}}`)
		return nil
	case 1:
	default:
		p.fault("", "entity", "the definition names %d entities (%s); define exactly one, optionally with %s",
			len(names), strings.Join(quoteAll(names), ", "), keyPersonal)
	}
	d.Name = names[0]
	p.name = d.Name
	at := ptr("", d.Name)
	if !nameRule.MatchString(d.Name) {
		p.fault(at, "name", "the entity name %q may only contain letters, digits, '-' and '_'", d.Name)
	}
	body, ok := top[d.Name].(map[string]any)
	if !ok {
		p.fault(at, "type", "the entity %q must be a JSON object with properties, not %s", d.Name, jsonType(top[d.Name]))
		return nil
	}
	for _, k := range sortedKeys(body) {
		if !slices.Contains(entityKeys, k) {
			p.fault(ptr(at, k), "keyword", "unknown keyword %q; an entity has description, required and properties", k)
		}
	}
	d.Description = p.description(body, at)
	props, ok := body["properties"]
	switch {
	case !ok:
		p.fault(at, "properties", "the entity has no properties; declare its fields under \"properties\"")
	default:
		d.Fields = p.fields(props, ptr(at, "properties"), 1)
	}
	d.Required = p.required(body, at, d.Fields)
	d.singleKey = SnakeCase(d.Name)
	d.index = make(map[string]*Field, len(d.Fields))
	for _, f := range d.Fields {
		d.index[f.Name] = f
	}
	if f, ok := d.index[d.PrimaryKey()]; ok && f.Type != TypeString && f.Type != "" {
		p.fault(ptr(at, "properties", f.Name), "primary_key",
			"%q is the record id and, if declared, must be of type string, not %s", f.Name, f.Type)
	}
	return d
}

// description reads an optional description.
func (p *parser) description(m map[string]any, at string) string {
	v, ok := m["description"]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.fault(ptr(at, "description"), "type", "description must be a string, not %s", jsonType(v))
	}
	return s
}

// fields parses a properties object.
func (p *parser) fields(v any, at string, depth int) []*Field {
	props, ok := v.(map[string]any)
	if !ok {
		p.fault(at, "type", "properties must be an object mapping field names to fields, not %s", jsonType(v))
		return nil
	}
	out := make([]*Field, 0, len(props))
	for _, name := range sortedKeys(props) {
		fat := ptr(at, name)
		if !nameRule.MatchString(name) {
			p.fault(fat, "name", "the field name %q may only contain letters, digits, '-' and '_'", name)
		}
		out = append(out, p.field(name, props[name], fat, depth))
	}
	return out
}

// required reads and checks the required list of an entity or object.
func (p *parser) required(m map[string]any, at string, fields []*Field) []string {
	v, ok := m["required"]
	if !ok {
		return nil
	}
	at = ptr(at, "required")
	list, ok := v.([]any)
	if !ok {
		p.fault(at, "type", "required must be an array of field names, not %s", jsonType(v))
		return nil
	}
	var out []string
	for i, x := range list {
		iat := ptr(at, fmt.Sprint(i))
		name, ok := x.(string)
		if !ok {
			p.fault(iat, "type", "required must list field names, not %s", jsonType(x))
			continue
		}
		if !slices.ContainsFunc(fields, func(f *Field) bool { return f.Name == name }) {
			p.fault(iat, "required", "%q is required but not declared under properties", name)
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// field parses one field. Faulty attributes are reported and left out of
// the result.
func (p *parser) field(name string, v any, at string, depth int) *Field {
	f := &Field{Name: name}
	m, ok := v.(map[string]any)
	if !ok {
		p.fault(at, "type", "a field must be an object such as {\"type\": \"string\"}, not %s", jsonType(v))
		return f
	}
	p.fieldType(f, m, at)
	f.Description = p.description(m, at)
	if depth > MaxDepth {
		p.fault(at, "depth", "fields nest deeper than %d levels", MaxDepth)
		f.Type = ""
		return f
	}
	allowed := applies[f.Type]
	for _, k := range sortedKeys(m) {
		kat := ptr(at, k)
		switch {
		case !slices.Contains(fieldKeys, k):
			p.fault(kat, "keyword", "unknown keyword %q; a field may have %s", k, strings.Join(fieldKeys, ", "))
			continue
		case k == "type" || k == "description" || k == "example":
			continue
		case f.Type != "" && !slices.Contains(allowed, k):
			p.fault(kat, "keyword", "%s does not apply to a %s field", k, f.Type)
			continue
		}
		p.keyword(f, k, m[k], kat, depth)
	}
	if _, ok := m["items"]; !ok && f.Type == TypeArray {
		p.fault(at, "items", "an array field needs items describing its elements")
	}
	if f.Type == TypeObject {
		if _, ok := m["properties"]; !ok {
			p.fault(at, "properties", "an object field needs properties declaring its fields")
		}
		f.Required = p.required(m, at, f.Fields)
	}
	p.limits(f, at)
	if ex, ok := m["example"]; ok {
		f.Example = ex
	}
	return f
}

// fieldType reads the type of a field.
func (p *parser) fieldType(f *Field, m map[string]any, at string) {
	v, ok := m["type"]
	if !ok {
		p.fault(at, "type", "the field has no type; use one of %s", typeList)
		return
	}
	at = ptr(at, "type")
	t, ok := v.(string)
	if !ok {
		p.fault(at, "type", "type must be a string, one of %s; not %s", typeList, jsonType(v))
		return
	}
	if _, ok := applies[t]; ok && t != TypeReference {
		f.Type = t
		return
	}
	target, isRef := strings.CutPrefix(t, referencePrefix)
	if !isRef && t != TypeReference {
		p.fault(at, "type", "unknown type %q; use one of %s", t, typeList)
		return
	}
	f.Type, f.Ref = TypeReference, target
	switch {
	case !isRef || target == "":
		p.fault(at, "reference", "a reference names its target entity, as \"reference:Customer\"")
	case !nameRule.MatchString(target):
		p.fault(at, "reference", "the reference target %q is not a valid entity name", target)
	case target != p.name && p.opts.KnownEntity != nil && !p.opts.KnownEntity(target):
		p.fault(at, "reference", "the reference target %q is not a known entity", target)
	}
}

// keyword reads one type-specific keyword of a field.
func (p *parser) keyword(f *Field, k string, v any, at string, depth int) {
	switch k {
	case "enum":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			p.fault(at, "enum", "enum must be a non-empty array of allowed values")
			return
		}
		good := true
		for i, x := range list {
			if f.Type != "" && !valueHasType(f.Type, x) {
				p.fault(ptr(at, fmt.Sprint(i)), "enum", "the enum value %s is not a valid %s", jsonschemas.JSONText(x), f.Type)
				good = false
			}
		}
		if good {
			f.Enum = list
		}
	case "pattern":
		s, ok := v.(string)
		if !ok {
			p.fault(at, "type", "pattern must be a string, not %s", jsonType(v))
			return
		}
		if _, err := jsonschemas.CompilePattern(s); err != nil {
			p.fault(at, "pattern", "the pattern does not compile: %v", err)
			return
		}
		f.Pattern = s
	case "format":
		s, ok := v.(string)
		if !ok {
			p.fault(at, "type", "format must be a string, not %s", jsonType(v))
			return
		}
		if s != "" && !slices.Contains(formats, s) {
			p.fault(at, "format", "unknown format %q; use one of %s", s, strings.Join(formats, ", "))
			return
		}
		f.Format = s
	case "minimum", "maximum":
		n, ok := v.(json.Number)
		var x float64
		var err error
		if ok {
			x, err = n.Float64()
		}
		if !ok || err != nil || math.IsInf(x, 0) {
			p.fault(at, "limits", "%s must be a finite number", k)
			return
		}
		if k == "minimum" {
			f.Minimum = &x
		} else {
			f.Maximum = &x
		}
	case "minLength", "maxLength", "minItems", "maxItems":
		n, ok := count(v)
		if !ok {
			p.fault(at, "limits", "%s must be a whole number from 0 to %d", k, math.MaxInt32)
			return
		}
		switch k {
		case "minLength":
			f.MinLength = &n
		case "maxLength":
			f.MaxLength = &n
		case "minItems":
			f.MinItems = &n
		case "maxItems":
			f.MaxItems = &n
		}
	case "items":
		f.Items = p.field("", v, at, depth+1)
	case "properties":
		f.Fields = p.fields(v, at, depth+1)
	case "required":
		// read by field, once the properties are known
	}
}

// limits checks that lower limits do not exceed upper ones, dropping both
// when they do.
func (p *parser) limits(f *Field, at string) {
	if f.Minimum != nil && f.Maximum != nil && *f.Minimum > *f.Maximum {
		p.fault(ptr(at, "minimum"), "limits", "minimum %v is greater than maximum %v", *f.Minimum, *f.Maximum)
		f.Minimum, f.Maximum = nil, nil
	}
	for _, l := range []struct {
		lo, hi   **int
		min, max string
	}{{&f.MinLength, &f.MaxLength, "minLength", "maxLength"}, {&f.MinItems, &f.MaxItems, "minItems", "maxItems"}} {
		if *l.lo != nil && *l.hi != nil && **l.lo > **l.hi {
			p.fault(ptr(at, l.min), "limits", "%s %d is greater than %s %d", l.min, **l.lo, l.max, **l.hi)
			*l.lo, *l.hi = nil, nil
		}
	}
}

// count reads a non-negative whole number such as a minLength.
func count(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() || r.Sign() < 0 || r.Num().Cmp(big.NewInt(math.MaxInt32)) > 0 {
		return 0, false
	}
	return int(r.Num().Int64()), true
}

// valueHasType says whether a decoded JSON value fits a field type.
func valueHasType(t string, v any) bool {
	switch t {
	case TypeString, TypeReference:
		_, ok := v.(string)
		return ok
	case TypeNumber:
		_, ok := numberRat(v)
		return ok
	case TypeInteger:
		r, ok := numberRat(v)
		return ok && r.IsInt()
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeDate:
		s, ok := v.(string)
		return ok && validDate(s)
	case TypeObject:
		_, ok := v.(map[string]any)
		return ok
	case TypeArray:
		_, ok := v.([]any)
		return ok
	}
	return true
}

// validDate says whether s is a calendar date as yyyy-MM-dd.
func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func numberRat(v any) (*big.Rat, bool) {
	switch n := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(string(n))
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(n), true
	case int:
		return new(big.Rat).SetInt64(int64(n)), true
	case int64:
		return new(big.Rat).SetInt64(n), true
	}
	return nil, false
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// ptr joins tokens into a JSON pointer, escaping each token.
var ptr = jsonptr.Append

func sortViolations(vs []engine.Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Pointer != vs[j].Pointer {
			return vs[i].Pointer < vs[j].Pointer
		}
		return vs[i].Code < vs[j].Code
	})
}
