package jsonschemas

import (
	"reflect"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Kinds of JSON value, as a bit set.
const (
	kindNull = 1 << iota
	kindBoolean
	kindNumber // any number; "integer" alone cannot be told from the text's first byte
	kindString
	kindArray
	kindObject
)

// annotations are the fields of a compiled schema that assert nothing
// about a value: where the schema is and what it says of itself.
var annotations = map[string]bool{
	"DraftVersion": true, "Location": true, "ID": true, "Anchor": true, "DynamicAnchor": true,
	"RecursiveAnchor": true, "Title": true, "Description": true, "Default": true, "Comment": true,
	"ReadOnly": true, "WriteOnly": true, "Examples": true, "Deprecated": true,
}

// typeKinds returns the kinds of value s accepts when the type keyword is
// all it asserts (so that a value's kind alone decides whether it fits),
// and ok false otherwise. Fields this package does not know (a later
// version of the library) count as assertions.
func typeKinds(s *jsonschema.Schema) (kinds int, ok bool) {
	if s.Bool != nil {
		if *s.Bool {
			return kindNull | kindBoolean | kindNumber | kindString | kindArray | kindObject, true
		}
		return 0, false
	}
	v := reflect.ValueOf(s).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Types" || f.Name == "Bool" || annotations[f.Name] {
			continue
		}
		if !v.Field(i).IsZero() {
			return 0, false
		}
	}
	if s.Types == nil || s.Types.IsEmpty() {
		return kindNull | kindBoolean | kindNumber | kindString | kindArray | kindObject, true
	}
	for _, name := range s.Types.ToStrings() {
		switch name {
		case "null":
			kinds |= kindNull
		case "boolean":
			kinds |= kindBoolean
		case "number":
			kinds |= kindNumber
		case "string":
			kinds |= kindString
		case "array":
			kinds |= kindArray
		case "object":
			kinds |= kindObject
		}
	}
	return kinds, true
}

// FitsByKind reports whether text, well-formed JSON, certainly fits the
// schema: the schema asserts nothing but the value's type, and the kind of
// text's value (read from its first byte) is one it allows. false means
// the value must be decoded and validated to know.
func (s *Schema) FitsByKind(text []byte) bool {
	if !s.kindsOnly {
		return false
	}
	for _, c := range text {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return s.kinds&kindObject != 0
		case '[':
			return s.kinds&kindArray != 0
		case '"':
			return s.kinds&kindString != 0
		case 't', 'f':
			return s.kinds&kindBoolean != 0
		case 'n':
			return s.kinds&kindNull != 0
		default:
			return s.kinds&kindNumber != 0
		}
	}
	return false
}
