package apidoc

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"time"

	"github.com/dynapi/dynapi/internal/strictjson"
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// goSchema makes the JSON Schema of the JSON values of a Go type, by its
// json tags: for a request body, what the pipeline's strict decoding
// (strictjson.Into) accepts into the type; for an answer (written), with
// every member encoding/json always writes required, and nil slices,
// maps and pointers written as null.
type goSchema struct {
	written bool
	// open are the struct types being described, to end a cycle with {}.
	open map[reflect.Type]bool
}

// requestSchema is the schema of a request body read into t.
func requestSchema(t reflect.Type) map[string]any {
	return (&goSchema{open: map[reflect.Type]bool{}}).of(t)
}

// answerSchema is the schema of an answer written from a t.
func answerSchema(t reflect.Type) map[string]any {
	return (&goSchema{written: true, open: map[reflect.Type]bool{}}).of(t)
}

// of is the schema of t's values.
func (g *goSchema) of(t reflect.Type) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	s := g.kind(t)
	if nullable || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		return g.orNull(s)
	}
	return s
}

// orNull lets an answer's s be null, where encoding/json writes a nil
// value so; a request's is left as it is.
func (g *goSchema) orNull(s map[string]any) map[string]any {
	if !g.written {
		return s
	}
	if typ, ok := s["type"].(string); ok {
		s["type"] = []any{typ, "null"}
	}
	return s
}

// kind is the schema of t, not a pointer, by its kind.
func (g *goSchema) kind(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case reflect.PointerTo(t).Implements(jsonUnmarshaler), reflect.PointerTo(t).Implements(textUnmarshaler):
		return map[string]any{} // reads itself: anything
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		return g.object(t)
	}
	return map[string]any{} // interfaces: any JSON value
}

// object is the schema of struct type t: its members and no others.
func (g *goSchema) object(t reflect.Type) map[string]any {
	if g.open[t] {
		return map[string]any{}
	}
	g.open[t] = true
	defer delete(g.open, t)
	props := map[string]any{}
	var required []string
	for name, f := range strictjson.Fields(t) {
		props[name] = g.of(f.Type)
		if g.written && !f.OmitEmpty {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		slices.Sort(required)
		s["required"] = required
	}
	return s
}
