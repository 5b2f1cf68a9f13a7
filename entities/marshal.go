package entities

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes the definition in OBP's format; Parse reads it back to
// an equal definition. ParseOptions (AllowUndeclared, KnownEntity) are not
// part of the format and must be kept by the caller.
func (d *Definition) MarshalJSON() ([]byte, error) {
	props := make(map[string]any, len(d.Fields))
	for _, f := range d.Fields {
		props[f.Name] = fieldDoc(f)
	}
	body := map[string]any{"properties": props, "required": nonNil(d.Required)}
	if d.Description != "" {
		body["description"] = d.Description
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{d.Name: body, keyPersonal: d.HasPersonalEntity}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// fieldDoc writes one field in OBP's format.
func fieldDoc(f *Field) map[string]any {
	m := map[string]any{"type": f.Type}
	if f.Type == TypeReference {
		m["type"] = referencePrefix + f.Ref
	}
	if f.Description != "" {
		m["description"] = f.Description
	}
	if f.Example != nil {
		m["example"] = f.Example
	}
	if f.Items != nil {
		m["items"] = fieldDoc(f.Items)
	}
	if f.Type == TypeObject {
		props := make(map[string]any, len(f.Fields))
		for _, sub := range f.Fields {
			props[sub.Name] = fieldDoc(sub)
		}
		m["properties"] = props
		if len(f.Required) > 0 {
			m["required"] = f.Required
		}
	}
	if f.Enum != nil {
		m["enum"] = f.Enum
	}
	if f.Pattern != "" {
		m["pattern"] = f.Pattern
	}
	if f.Format != "" {
		m["format"] = f.Format
	}
	for k, v := range map[string]*float64{"minimum": f.Minimum, "maximum": f.Maximum} {
		if v != nil {
			m[k] = *v
		}
	}
	for k, v := range map[string]*int{"minLength": f.MinLength, "maxLength": f.MaxLength,
		"minItems": f.MinItems, "maxItems": f.MaxItems} {
		if v != nil {
			m[k] = *v
		}
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
