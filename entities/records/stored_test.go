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
// the record API sends as is, and what Read gives (with AppendETag's tag)
// for the same record.
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
			var raw, tag []byte
			err = s.Read(ctx, cust, "", tc.id, func(b []byte) error {
				raw, tag = bytes.Clone(b), AppendETag([]byte("prefix"), b)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, cust, "", tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, tc.st.Raw) || string(tag) != "prefix"+tc.st.ETag {
				t.Errorf("Read = %s, AppendETag = %s; want %s, prefix%s", raw, tag, tc.st.Raw, tc.st.ETag)
			}
			if !bytes.Equal(got.Raw, raw) || got.ETag != tc.st.ETag {
				t.Errorf("Get = %s, %s; want %s, %s", got.Raw, got.ETag, raw, tc.st.ETag)
			}
			var decoded map[string]any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&decoded); err != nil || !reflect.DeepEqual(decoded, got.Record) {
				t.Errorf("Raw decodes to %v, %v; Get's Record is %v", decoded, err, got.Record)
			}
		})
	}
	sentinel := errors.New("fn failed")
	if err := s.Read(ctx, cust, "", "c1", func([]byte) error { return sentinel }); err != sentinel {
		t.Errorf("Read with a failing fn = %v; want fn's error as it is", err)
	}
	for _, id := range []string{"missing", "", "a\x00b"} {
		called := false
		err := s.Read(ctx, cust, "", id, func([]byte) error { called = true; return nil })
		var e *engine.Error
		if !errors.As(err, &e) || e.Status != http.StatusNotFound || called {
			t.Errorf("Read(%q) = %v, fn called %v; want a 404 without a call", id, err, called)
		}
	}
}
