package rest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestTemplateEval(t *testing.T) {
	var src any
	if err := json.Unmarshal([]byte(`{"a":{"b":"deep","n":2},"items":[{"id":1,"tags":["x","y"]},{"id":2}],
		"nil":null,"str":"s","dotted.key":"no"}`), &src); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, template string
		want           any
	}{
		{"whole source", `"$"`, src},
		{"member", `"$.a.b"`, "deep"},
		{"index", `"$.items[1].id"`, 2.0},
		{"nested index", `"$.items[0].tags[1]"`, "y"},
		{"top-level index", `{"x": "$.items[0].tags[0]"}`, map[string]any{"x": "x"}},
		{"out of range is null", `"$.items[5]"`, nil},
		{"through a string is null", `"$.str.x"`, nil},
		{"explicit null kept", `{"v": "$.nil"}`, map[string]any{"v": nil}},
		{"missing member left out", `{"v": "$.none", "w": "$.a.n"}`, map[string]any{"w": 2.0}},
		{"literals", `{"s": "plain", "n": 3, "b": true, "z": null, "e": "$$.a"}`,
			map[string]any{"s": "plain", "n": 3.0, "b": true, "z": nil, "e": "$.a"}},
		{"map each element", `["$.items", {"id": "$.id", "first": "$.tags[0]", "kind": "item"}]`,
			[]any{map[string]any{"id": 1.0, "first": "x", "kind": "item"}, map[string]any{"id": 2.0, "kind": "item"}}},
		{"map each with the element itself", `["$.items[0].tags", {"tag": "$"}]`,
			[]any{map[string]any{"tag": "x"}, map[string]any{"tag": "y"}}},
		{"map each of nothing", `{"l": ["$.none", {"a": "$"}]}`, map[string]any{}},
		{"map each of null", `{"l": ["$.nil", {"a": "$"}]}`, map[string]any{"l": nil}},
		{"map each of a non-array", `{"l": ["$.a", {"a": "$"}]}`, map[string]any{}},
		{"other arrays map elementwise", `["$.a.b", "$.str", "lit"]`, []any{"deep", "s", "lit"}},
		{"literal first element is not a mapping", `["lit", "$.str"]`, []any{"lit", "s"}},
		{"empty array", `[]`, []any{}},
		{"nested mapping", `{"out": {"list": ["$.items", {"tags": ["$.tags", "$"]}]}}`,
			map[string]any{"out": map[string]any{"list": []any{map[string]any{"tags": []any{"x", "y"}}, map[string]any{}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := parseTemplate(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			if got := apply(tmpl, src, false); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestTemplateWireKeepsOrderAndNumbers(t *testing.T) {
	tmpl, err := parseTemplate(`{"z": "$.big", "a": 0.10, "m": {"y": 1, "b": "$.list"}}`)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(`{"big": 12345678901234567890, "list": [1.0, "x"]}`))
	dec.UseNumber()
	var src any
	if err := dec.Decode(&src); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(apply(tmpl, src, true))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"z":12345678901234567890,"a":0.10,"m":{"y":1,"b":[1.0,"x"]}}`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
}

func TestTemplateRefused(t *testing.T) {
	for _, tc := range []struct{ name, template, want string }{
		{"not JSON", `{"a":`, "invalid JSON"},
		{"trailing data", `{} {}`, "after the template"},
		{"empty", ``, "invalid JSON"},
		{"empty member", `"$.a..b"`, "empty member"},
		{"trailing dot", `"$.a."`, "empty member"},
		{"no dot", `"$abc"`, "after $"},
		{"unclosed index", `"$.a[1"`, "unclosed"},
		{"bad index", `"$.a[x]"`, "non-negative integer"},
		{"negative index", `"$.a[-1]"`, "non-negative integer"},
		{"signed index", `"$.a[+1]"`, "non-negative integer"},
		{"empty index", `"$.a[]"`, "non-negative integer"},
		{"stray bracket", `"$.a]"`, "stray"},
		{"bad path deep inside", `{"a": [{"b": "$x"}]}`, "at /a/0/b"},
		{"duplicate member", `{"a": 1, "a": 2}`, "duplicate member"},
		{"too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), "nested more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTemplate(tc.template)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
