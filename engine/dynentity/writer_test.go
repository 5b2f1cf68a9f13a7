package dynentity

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// TestWriterRefusesValuesJSONCannotCarry writes records as a script or the
// dynamic_entity host hands them over, decoded by someone else: values
// strictjson would have refused are 400s naming their pointer, before the
// schema validator (which a huge exponent used to take down) sees them.
func TestWriterRefusesValuesJSONCannotCarry(t *testing.T) {
	ctx := t.Context()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs := records.New(db, records.Options{})
	reg, err := NewRegistry(ctx, db, recs)
	if err != nil {
		t.Fatal(err)
	}
	e, err := reg.Create(ctx, NewEntity{Definition: []byte(`{"Offer": {"properties": {
	  "amount": {"type": "number", "minimum": 0, "maximum": 100, "example": 1},
	  "terms": {"type": "object", "properties": {"months": {"type": "integer", "minimum": 1, "example": 2}}},
	  "extra": {"type": "json", "example": 1}}}, "hasPersonalEntity": false}`)})
	if err != nil {
		t.Fatal(err)
	}
	w := &Writer{Records: recs}
	deep := any("x")
	for range 600 {
		deep = []any{deep}
	}
	for _, tc := range []struct {
		name    string
		rec     map[string]any
		pointer string
		code    string
	}{
		{"exponent past big.Rat", map[string]any{"amount": json.Number("1e10000000")}, "/amount", "number_range"},
		{"nested", map[string]any{"terms": map[string]any{"months": json.Number("-1E999999999")}}, "/terms/months", "number_range"},
		{"not a number", map[string]any{"amount": json.Number("0x10")}, "/amount", "malformed"},
		{"infinity", map[string]any{"amount": math.Inf(1)}, "/amount", "number_range"},
		{"NaN in free JSON", map[string]any{"extra": []any{1.0, math.NaN()}}, "/extra/1", "number_range"},
		{"text not UTF-8", map[string]any{"extra": map[string]any{"a/b": "x\xffy"}}, "/extra/a~1b", "invalid_utf8"},
		{"key not UTF-8", map[string]any{"extra": map[string]any{"\xfe": 1}}, "/extra", "invalid_utf8"},
		{"too deep", map[string]any{"extra": deep}, "*", "too_deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.Create(ctx, e, "", "u1", tc.rec)
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Status != http.StatusBadRequest {
				t.Fatalf("error %v; want a 400", err)
			}
			found := false
			for _, v := range ee.Violations {
				found = found || v.Code == tc.code && (tc.pointer == "*" || v.Pointer == tc.pointer)
			}
			if !found {
				t.Fatalf("violations %+v; want %s at %s", ee.Violations, tc.code, tc.pointer)
			}
		})
	}
	if n, err := recs.Count(ctx, e.Schema, ""); n != 0 || err != nil {
		t.Fatalf("%d records stored (%v)", n, err)
	}
	// The same values decoded as float64 and within bounds pass.
	if _, err := w.Create(ctx, e, "", "u1", map[string]any{"amount": 1.5, "extra": map[string]any{"k": strings.Repeat("é", 3)}}); err != nil {
		t.Fatal(err)
	}
}

func TestMergePatch(t *testing.T) {
	stored := map[string]any{"a": 1.0, "b": map[string]any{"c": 2.0, "d": 3.0}, "e": []any{1.0}}
	got := MergePatch(stored, map[string]any{"a": nil, "b": map[string]any{"c": nil, "x": "y"}, "e": []any{2.0}, "f": true})
	want := map[string]any{"b": map[string]any{"d": 3.0, "x": "y"}, "e": []any{2.0}, "f": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MergePatch = %v; want %v", got, want)
	}
	if stored["a"] != 1.0 || len(stored["b"].(map[string]any)) != 2 {
		t.Fatalf("MergePatch changed the stored record: %v", stored)
	}
}
