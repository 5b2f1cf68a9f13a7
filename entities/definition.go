package entities

import (
	"errors"
	"log/slog"
	"slices"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// CodeInvalidDefinition is the engine.Error code of a refused definition.
const CodeInvalidDefinition = "invalid_definition"

// Field types. A "reference:<Entity>" type in OBP's format becomes
// TypeReference with Field.Ref set to the entity.
const (
	TypeString    = "string"
	TypeNumber    = "number"
	TypeInteger   = "integer"
	TypeBoolean   = "boolean"
	TypeDate      = "DATE_WITH_DAY"
	TypeJSON      = "json"
	TypeReference = "reference"
	TypeObject    = "object"
	TypeArray     = "array"
)

// MaxDepth is how deeply object and array fields may nest.
const MaxDepth = 16

// Definition is a parsed, checked, compiled entity type. It is immutable
// (callers must not modify the fields or what they point to) and safe for
// concurrent use.
type Definition struct {
	Name        string
	Description string
	// Required lists the required top-level fields in the submitted order,
	// without duplicates.
	Required []string
	// Fields are the top-level fields in name order.
	Fields            []*Field
	HasPersonalEntity bool
	// AllowUndeclared is ParseOptions.AllowUndeclared at parse time. It is
	// not part of OBP's format, so MarshalJSON does not carry it.
	AllowUndeclared bool

	schema *jsonschemas.Schema
	tree   map[string]any // the generated JSON Schema
	index  map[string]*Field
	// singleKey is SingleKey, computed once by Parse.
	singleKey string
}

// Field is one property of an entity, or the items of an array field.
// Numbers in Enum and Example are json.Number, as decoded.
type Field struct {
	Name, Description string
	// Type is one of the Type constants.
	Type string
	// Ref is the target entity of a TypeReference field.
	Ref string
	// Items describes the elements of a TypeArray field; its Name is "".
	Items *Field
	// Fields (in name order) and Required describe a TypeObject field.
	Fields   []*Field
	Required []string

	Enum                 []any
	Pattern, Format      string
	Minimum, Maximum     *float64
	MinLength, MaxLength *int
	MinItems, MaxItems   *int
	// Example is the submitted example, nil when there is none.
	Example any
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// AllowUndeclared lets records carry fields the definition does not
	// declare. By default (false) they are refused, in nested objects too.
	AllowUndeclared bool
	// KnownEntity says whether a reference target exists: another dynamic
	// entity or a built-in one. An entity may always refer to itself. Nil
	// accepts any name that follows the naming rule.
	KnownEntity func(name string) bool
}

// Reference is a top-level field that refers to another entity.
type Reference struct {
	Field  string
	Entity string
}

// Parse checks a definition in OBP's format and compiles it. Every fault is
// reported, each as one violation of a single 400 *engine.Error with code
// "invalid_definition"; violation pointers point into data.
func Parse(data []byte, opts ParseOptions) (*Definition, error) {
	p := &parser{opts: opts}
	d := p.parse(data)
	if d == nil {
		return nil, p.err()
	}
	// The schema is compiled even from a faulty definition (faulty parts
	// left out), so that examples are checked and reported in the same go.
	if err := p.compile(d); err != nil {
		return nil, engine.Internal(err)
	}
	if len(p.faults) > 0 {
		return nil, p.err()
	}
	return d, nil
}

// PrimaryKey is the record id property, as OBP: "loan_offer_id".
func (d *Definition) PrimaryKey() string { return SnakeCase(d.Name) + "_id" }

// SingleKey wraps one record in responses, as OBP: "loan_offer".
func (d *Definition) SingleKey() string {
	if d.singleKey != "" {
		return d.singleKey
	}
	return SnakeCase(d.Name)
}

// ListKey wraps a list of records in responses, as OBP: "loan_offer_list".
func (d *Definition) ListKey() string { return d.SingleKey() + "_list" }

// Field returns the top-level field with the given name.
func (d *Definition) Field(name string) (*Field, bool) {
	f, ok := d.index[name]
	return f, ok
}

// References lists the top-level reference fields in name order.
func (d *Definition) References() []Reference {
	var out []Reference
	for _, f := range d.Fields {
		if f.Type == TypeReference {
			out = append(out, Reference{Field: f.Name, Entity: f.Ref})
		}
	}
	return out
}

// ScalarFields lists, in name order, the top-level fields holding one
// scalar (string, number, integer, boolean, DATE_WITH_DAY, reference): the
// ones a record store indexes and list filters may use.
func (d *Definition) ScalarFields() []*Field {
	var out []*Field
	for _, f := range d.Fields {
		if f.IsScalar() {
			out = append(out, f)
		}
	}
	return out
}

// IsScalar reports whether the field holds one string, number, integer,
// boolean, date or reference.
func (f *Field) IsScalar() bool {
	switch f.Type {
	case TypeString, TypeNumber, TypeInteger, TypeBoolean, TypeDate, TypeReference:
		return true
	}
	return false
}

// IsRequired reports whether the top-level field is required.
func (d *Definition) IsRequired(name string) bool { return slices.Contains(d.Required, name) }

// JSONSchema returns a copy of the generated JSON Schema (draft 2020-12):
// an object schema with title, description, the declared properties and the
// primary key, and additionalProperties false unless undeclared fields are
// allowed. Examples appear as "examples" arrays and reference fields carry
// "x-dynapi-reference" naming the target entity.
func (d *Definition) JSONSchema() map[string]any {
	return deepCopy(d.tree).(map[string]any)
}

// Validate checks a record (numbers as float64, json.Number or Go
// integers). It returns one violation per fault, Location "body", Pointer
// to the offending value, Code the failed keyword, sorted by pointer; nil
// means the record is valid.
func (d *Definition) Validate(record map[string]any) []engine.Violation {
	if record == nil {
		record = map[string]any{}
	}
	err := d.schema.Validate(record)
	if err == nil {
		return nil
	}
	var pe *jsonschemas.PanicError
	if errors.As(err, &pe) {
		// A bug of the schema library, not of the record: logged, since no
		// caller can tell a violation from it.
		slog.Error("the JSON Schema validator failed on a record", "entity", d.Name, "error", err)
		return []engine.Violation{{Location: "body", Code: "invalid", Message: "the record could not be checked"}}
	}
	out := jsonschemas.Violations(err, "body", "", words)
	sortViolations(out)
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}
