package strictjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dynapi/dynapi/internal/jsonptr"
)

// CodeUnknownMember is the code of a member no field of the target type
// takes (see Into).
const CodeUnknownMember = "unknown_member"

// CodeType is the code of a value of the wrong JSON type for its field.
const CodeType = "type"

// MismatchError is why Into refused a document whose text was acceptable
// but does not fit the target type: members it has no field for, or a
// value of the wrong type. Each fault is an *Error with its pointer;
// members of one object are named in key order.
type MismatchError struct {
	Faults []*Error
}

// Error implements error.
func (e *MismatchError) Error() string {
	msgs := make([]string, len(e.Faults))
	for i, f := range e.Faults {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "; ")
}

// Into decodes one JSON document into v, a non-nil pointer, under the
// strict policy: the text is refused as Decode refuses it (an *Error), and
// every object member that no field of v's type takes, at any depth, and
// every value of the wrong JSON type for its field are refused (a
// *MismatchError naming each by its pointer). A member matches a field
// only by its exact JSON name (encoding/json would also take a name that
// differs in case). Fields of type any, json.RawMessage or another type
// that decodes itself take whatever they are given; maps take any key.
// Only once all fits is v filled, by encoding/json.
func Into(data []byte, v any) error {
	tree, err := Decode(data)
	if err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("strictjson.Into: v must be a non-nil pointer")
	}
	var faults []*Error
	mismatches(rv.Type().Elem(), tree, "", &faults)
	if len(faults) > 0 {
		return &MismatchError{Faults: faults}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &MismatchError{Faults: []*Error{typeFault(err)}}
	}
	return nil
}

// typeFault describes what encoding/json refused in a document whose
// members all fit: a field type's own decoder refused its value (a time
// that is not RFC 3339, say).
func typeFault(err error) *Error {
	return &Error{Code: CodeType, Message: "a value does not fit this route's body: " + clip(err.Error())}
}

// jsonKind names the JSON type a Go type is read from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// mismatches appends a fault for every member of the decoded value v (at
// pointer at) that type t has no field for, and for every value of the
// wrong JSON type. null fits every type, as in encoding/json.
func mismatches(t reflect.Type, v any, at string, faults *[]*Error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return
	}
	wrongType := func(got string) {
		*faults = append(*faults, &Error{Pointer: at, Code: CodeType, Message: "must be " + jsonKind(t) + ", not " + got})
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			wrongType(kindOf(v))
			return
		}
		fields := Fields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := jsonptr.Append(at, k)
			f, ok := fields[k]
			if !ok {
				*faults = append(*faults, &Error{Pointer: p, Code: CodeUnknownMember,
					Message: "unknown member " + strconv.Quote(clip(k)) + "; this route does not take it"})
				continue
			}
			mismatches(f.Type, obj[k], p, faults)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			wrongType(kindOf(v))
			return
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			mismatches(t.Elem(), obj[k], jsonptr.Append(at, k), faults)
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // bytes are a base64 string
			if _, ok := v.(string); !ok {
				wrongType(kindOf(v))
			}
			return
		}
		arr, ok := v.([]any)
		if !ok {
			wrongType(kindOf(v))
			return
		}
		for i, e := range arr {
			mismatches(t.Elem(), e, at+"/"+strconv.Itoa(i), faults)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrongType(kindOf(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrongType(kindOf(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := v.(json.Number); !ok {
			wrongType(kindOf(v))
		} else if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			wrongType("the number " + clip(string(n)))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, ok := v.(json.Number); !ok {
			wrongType(kindOf(v))
		} else if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			wrongType("the number " + clip(string(n)))
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			wrongType(kindOf(v))
		}
	}
}

// kindOf names the JSON type of a decoded value.
func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// Field is a member a struct type takes (see Fields).
type Field struct {
	// Type is the Go type the member's value is read into.
	Type reflect.Type
	// OmitEmpty tells that encoding/json leaves the member out when its
	// value is empty (the omitempty or omitzero option).
	OmitEmpty bool
}

// structFields caches Fields per struct type.
var structFields sync.Map // reflect.Type → map[string]Field

// Fields maps the JSON names of struct type t's fields, those of embedded
// structs without a name of their own included, to what they take: the
// members Into accepts for t. The map is shared; callers must not change
// it.
func Fields(t reflect.Type) map[string]Field {
	if m, ok := structFields.Load(t); ok {
		return m.(map[string]Field)
	}
	m := map[string]Field{}
	collectFields(t, m)
	structFields.Store(t, m)
	return m
}

// collectFields adds t's own fields, then those of its embedded structs:
// a shallower field hides a deeper one of the same name, as in
// encoding/json.
func collectFields(t reflect.Type, into map[string]Field) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if et := f.Type; f.Anonymous && name == "" {
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool { return o == "omitempty" || o == "omitzero" })
		into[name] = Field{Type: f.Type, OmitEmpty: omit}
	}
	for _, et := range embedded {
		deeper := map[string]Field{}
		collectFields(et, deeper)
		for name, ft := range deeper {
			if _, taken := into[name]; !taken {
				into[name] = ft
			}
		}
	}
}
