package strictjson_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/strictjson"
)

type intoPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type intoBase struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type intoTarget struct {
	intoBase
	Kind    int                 `json:"kind"` // hides intoBase.Kind
	Pairs   []intoPair          `json:"pairs"`
	ByName  map[string]intoPair `json:"by_name"`
	Free    map[string]any      `json:"free"`
	Raw     json.RawMessage     `json:"raw"`
	Any     any                 `json:"any"`
	When    time.Time           `json:"when"`
	Next    *intoPair           `json:"next,omitempty"`
	Skipped string              `json:"-"`
	hidden  string
}

func TestIntoAccepts(t *testing.T) {
	in := `{"name": "n", "kind": 2, "pairs": [{"key": "k", "value": "v"}], "by_name": {"x": {"key": "k"}},
	  "free": {"anything": {"goes": 1}}, "raw": {"kept": [1]}, "any": {"a": 1}, "when": "2026-01-02T03:04:05Z", "next": {"key": "n"}}`
	var got intoTarget
	if err := strictjson.Into([]byte(in), &got); err != nil {
		t.Fatalf("Into: %v", err)
	}
	if got.Name != "n" || got.Kind != 2 || got.Pairs[0].Value != "v" || got.ByName["x"].Key != "k" || got.Next.Key != "n" ||
		string(got.Raw) != `{"kept": [1]}` || got.When.Year() != 2026 || got.hidden != "" {
		t.Fatalf("decoded %+v", got)
	}
}

func TestIntoRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // pointer:code of each fault, in order
	}{
		{"unknown member", `{"name": "n", "bogus": 1}`, []string{"/bogus:unknown_member"}},
		{"each unknown member, in key order", `{"zz": 1, "name": "n", "aa": 2}`, []string{"/aa:unknown_member", "/zz:unknown_member"}},
		{"nested in an array", `{"pairs": [{"key": "k"}, {"key": "k", "extra": 1}]}`, []string{"/pairs/1/extra:unknown_member"}},
		{"nested in a map", `{"by_name": {"a/b": {"nope": 1}}}`, []string{"/by_name/a~1b/nope:unknown_member"}},
		{"behind a pointer", `{"next": {"key": "k", "nope": 1}}`, []string{"/next/nope:unknown_member"}},
		{"a name that differs in case", `{"Name": "n"}`, []string{"/Name:unknown_member"}},
		{"a field the JSON never sees", `{"Skipped": "s", "hidden": "h"}`, []string{"/Skipped:unknown_member", "/hidden:unknown_member"}},
		{"duplicate key", `{"name": "a", "name": "b"}`, []string{"/name:duplicate_key"}},
		{"duplicate key inside a free member", `{"free": {"a": 1, "a": 2}}`, []string{"/free/a:duplicate_key"}},
		{"invalid UTF-8", "{\"name\": \"\xff\"}", []string{"/name:invalid_utf8"}},
		{"number out of range", `{"kind": 1e5000}`, []string{"/kind:number_range"}},
		{"wrong type", `{"pairs": [{"key": 1}]}`, []string{"/pairs/0/key:type"}},
		{"a fraction for an integer", `{"kind": 1.5}`, []string{"/kind:type"}},
		{"an object for a list", `{"pairs": {}}`, []string{"/pairs:type"}},
		{"not JSON", `{"name": `, []string{"/name:malformed"}},
		{"a value its type refuses", `{"when": "yesterday"}`, []string{":type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v intoTarget
			err := strictjson.Into([]byte(tc.in), &v)
			var faults []*strictjson.Error
			var se *strictjson.Error
			var me *strictjson.MismatchError
			switch {
			case errors.As(err, &se):
				faults = []*strictjson.Error{se}
			case errors.As(err, &me):
				faults = me.Faults
			default:
				t.Fatalf("Into(%s) = %v, want a refusal", tc.in, err)
			}
			got := make([]string, len(faults))
			for i, f := range faults {
				got[i] = f.Pointer + ":" + f.Code
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("faults %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}
