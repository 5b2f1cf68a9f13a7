package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// TestStoredRaw checks that every write and read hands back the record's
// stored bytes as Stored.Raw: the JSON json.Marshal makes of Record, which
// the record API sends as is, and what GetRaw returns for the same record.
func TestStoredRaw(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	cust := customerSchema("b1")
	mustCreate(t, s, cust, "", map[string]any{"customer_id": "c1", "name": "Ann <&> \"quoted\"", "age": 41})
	created, err := s.Create(ctx, cust, "", "", map[string]any{"name": "Bob", "age": 1.5, "tags": []any{"x", 2.25}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.Record["customer_id"].(string)
	replaced, err := s.Replace(ctx, cust, "", "c1", map[string]any{"name": "Ann", "age": 1e21}, nil)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := s.Update(ctx, cust, "", id, nil, func(m map[string]any) (map[string]any, error) {
		m["age"] = 7
		return m, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		st   *Stored
		id   string
	}{{"Create", created, ""}, {"Replace", replaced, "c1"}, {"Update", updated, id}} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.st.Record)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tc.st.Raw, want) {
				t.Errorf("Raw = %s; want json.Marshal(Record) = %s", tc.st.Raw, want)
			}
			if tc.id == "" {
				return // updated since
			}
			raw, err := s.GetRaw(ctx, cust, "", tc.id)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, cust, "", tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if raw.Record != nil || !bytes.Equal(raw.Raw, tc.st.Raw) || raw.ETag != tc.st.ETag {
				t.Errorf("GetRaw = %s (record %v), %s; want %s, %s", raw.Raw, raw.Record, raw.ETag, tc.st.Raw, tc.st.ETag)
			}
			if !bytes.Equal(got.Raw, raw.Raw) || got.ETag != raw.ETag {
				t.Errorf("Get = %s, %s; want GetRaw's %s, %s", got.Raw, got.ETag, raw.Raw, raw.ETag)
			}
			var decoded map[string]any
			d := json.NewDecoder(bytes.NewReader(raw.Raw))
			d.UseNumber()
			if err := d.Decode(&decoded); err != nil || !reflect.DeepEqual(decoded, got.Record) {
				t.Errorf("Raw decodes to %v, %v; Get's Record is %v", decoded, err, got.Record)
			}
		})
	}
	for _, id := range []string{"missing", "", "a\x00b"} {
		_, err := s.GetRaw(ctx, cust, "", id)
		var e *engine.Error
		if !errors.As(err, &e) || e.Status != http.StatusNotFound {
			t.Errorf("GetRaw(%q) = %v; want a 404", id, err)
		}
	}
}
