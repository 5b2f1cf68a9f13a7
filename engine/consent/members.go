package consent

import (
	"bytes"
	"encoding/json"
	"errors"
)

// member is one member of a JSON object, its value as written.
type member struct {
	name  string
	value json.RawMessage
}

// decodeMembers reads the JSON object v into its members, in the order
// written: filters that change an item keep the rest of it as it was.
func decodeMembers(v json.RawMessage) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var members []member
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var value json.RawMessage
		if err := d.Decode(&value); err != nil {
			return nil, err
		}
		members = append(members, member{name: name, value: value})
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	return members, nil
}

// encodeMembers writes members as a compact JSON object, in order.
func encodeMembers(members []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.name) // a string: cannot fail
		b.Write(name)
		b.WriteByte(':')
		_ = json.Compact(&b, m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// memberValue is the value of the member named name, nil when there is none.
func memberValue(members []member, name string) json.RawMessage {
	for _, m := range members {
		if m.name == name {
			return m.value
		}
	}
	return nil
}
