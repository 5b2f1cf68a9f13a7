package strictjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/dynapi/dynapi/internal/testpaths"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/strictjson"
)

func TestDecodeAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     any
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
			map[string]any{"a": json.Number("1"), "b": []any{true, false, nil}, "c": map[string]any{"d": "e"}}},
		{"whitespace", " \t\r\n[ 1 , -0.5e+3 ]\n ", []any{json.Number("1"), json.Number("-0.5e+3")}},
		{"empty containers", `[{},[]]`, []any{map[string]any{}, []any{}}},
		{"escapes", `"a\"\\\/\b\f\n\r\t\u00e9\u20AC"`, "a\"\\/\b\f\n\r\té€"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"utf8 text", `"Zürich €"`, "Zürich €"},
		{"exponent at the bound", `1e1000`, json.Number("1e1000")},
		{"negative exponent at the bound", `-1.5E-1000`, json.Number("-1.5E-1000")},
		{"exponent with leading zeros", `1e0001000`, json.Number("1e0001000")},
		{"same key in two objects", `[{"a":1},{"a":2}]`, []any{map[string]any{"a": json.Number("1")}, map[string]any{"a": json.Number("2")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := strictjson.Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode(%s) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	deep := strings.Repeat("[", strictjson.DefaultMaxDepth+1) + strings.Repeat("]", strictjson.DefaultMaxDepth+1)
	for _, tc := range []struct {
		name, in      string
		code, pointer string
	}{
		{"duplicate key", `{"amount":1,"amount":1000000}`, strictjson.CodeDuplicateKey, "/amount"},
		{"duplicate key deep", `{"a":[{"x":1},{"x":1,"y":2,"x":3}]}`, strictjson.CodeDuplicateKey, "/a/1/x"},
		{"duplicate key by escape", `{"ab":1,"a\u0062":2}`, strictjson.CodeDuplicateKey, "/ab"},
		{"invalid utf8", "{\"name\":\"a\xffb\"}", strictjson.CodeInvalidUTF8, "/name"},
		{"invalid utf8 after escape", "{\"name\":\"\\n\xc3\"}", strictjson.CodeInvalidUTF8, "/name"},
		{"invalid utf8 in key", "{\"\xfe\":1}", strictjson.CodeInvalidUTF8, ""},
		{"overlong utf8", "[\"\xc0\xaf\"]", strictjson.CodeInvalidUTF8, "/0"},
		{"lone high surrogate", `{"s":"\ud800"}`, strictjson.CodeLoneSurrogate, "/s"},
		{"lone low surrogate", `{"s":"x\udc00"}`, strictjson.CodeLoneSurrogate, "/s"},
		{"high surrogate then text", `["\ud800\u0041"]`, strictjson.CodeLoneSurrogate, "/0"},
		{"huge exponent", `{"amount":1e10000000}`, strictjson.CodeNumberRange, "/amount"},
		{"huge negative exponent", `[0, 1E-1001]`, strictjson.CodeNumberRange, "/1"},
		{"exponent past int", `1e999999999999999999999999`, strictjson.CodeNumberRange, ""},
		{"long number", `{"n":` + strings.Repeat("9", 101) + `}`, strictjson.CodeNumberRange, "/n"},
		{"too deep", deep, strictjson.CodeTooDeep, strings.Repeat("/0", strictjson.DefaultMaxDepth)},
		{"empty", ``, strictjson.CodeMalformed, ""},
		{"blank", "  \n", strictjson.CodeMalformed, ""},
		{"trailing data", `{"a":1} {"a":2}`, strictjson.CodeMalformed, ""},
		{"trailing comma", `[1,]`, strictjson.CodeMalformed, "/1"},
		{"leading zero", `[01]`, strictjson.CodeMalformed, ""},
		{"bare dot", `1.`, strictjson.CodeMalformed, ""},
		{"plus sign", `+1`, strictjson.CodeMalformed, ""},
		{"NaN", `NaN`, strictjson.CodeMalformed, ""},
		{"single quotes", `{'a':1}`, strictjson.CodeMalformed, ""},
		{"control character", "\"a\tb\"", strictjson.CodeMalformed, ""},
		{"bad escape", `"\x41"`, strictjson.CodeMalformed, ""},
		{"short unicode escape", `"\u12"`, strictjson.CodeMalformed, ""},
		{"unterminated string", `{"a":"b`, strictjson.CodeMalformed, "/a"},
		{"unterminated object", `{"a":1`, strictjson.CodeMalformed, ""},
		{"missing colon", `{"a" 1}`, strictjson.CodeMalformed, ""},
		{"truncated literal", `tru`, strictjson.CodeMalformed, ""},
		{"byte order mark", "\ufeff{}", strictjson.CodeMalformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := strictjson.Decode([]byte(tc.in))
			var e *strictjson.Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode(%.60q) = %v, %v; want an *Error", tc.in, v, err)
			}
			if e.Code != tc.code || e.Pointer != tc.pointer {
				t.Errorf("Decode(%.60q): code %q pointer %q, want %q %q (%v)", tc.in, e.Code, e.Pointer, tc.code, tc.pointer, e)
			}
			if e.Offset < 0 || e.Offset > len(tc.in) || e.Message == "" {
				t.Errorf("Decode(%.60q): offset %d, message %q", tc.in, e.Offset, e.Message)
			}
		})
	}
}

// TestDecodedNumbersFitBigRat checks the promise the validator relies on:
// every number Decode accepts converts to a big.Rat.
func TestDecodedNumbersFitBigRat(t *testing.T) {
	for _, lit := range []string{"1e1000", "-1e-1000", "9.99999e+1000", strings.Repeat("9", 100)} {
		v, err := strictjson.Decode([]byte(lit))
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if _, ok := new(big.Rat).SetString(string(v.(json.Number))); !ok {
			t.Errorf("%s is accepted but big.Rat cannot hold it", lit)
		}
	}
}

func TestCheckNumber(t *testing.T) {
	for _, tc := range []struct {
		lit string
		ok  bool
	}{
		{"12.50", true}, {"1e308", true}, {"1e1000", true}, {"1e1001", false}, {"1e10000000", false},
		{"-2E-999", true}, {strings.Repeat("1", 101), false},
	} {
		err := strictjson.CheckNumber(tc.lit)
		if (err == nil) != tc.ok {
			t.Errorf("CheckNumber(%.30s) = %v, want ok %v", tc.lit, err, tc.ok)
		}
	}
	custom := strictjson.Limits{MaxExponent: 10, MaxNumberLength: 8}
	if custom.CheckNumber("1e10") != nil || custom.CheckNumber("1e11") == nil || custom.CheckNumber("123456789") == nil {
		t.Error("custom limits are not applied")
	}
}

// TestLimitsApply checks non-default limits are used by Decode.
func TestLimitsApply(t *testing.T) {
	l := strictjson.Limits{MaxDepth: 2}
	if _, err := l.Decode([]byte(`[[1]]`)); err != nil {
		t.Errorf("depth 2: %v", err)
	}
	var e *strictjson.Error
	if _, err := l.Decode([]byte(`[[[1]]]`)); !errors.As(err, &e) || e.Code != strictjson.CodeTooDeep {
		t.Errorf("depth 3: %v", err)
	}
}

// TestMatchesEncodingJSON decodes real bank documents and the benchmark
// bodies with both decoders: strict decoding must agree with encoding/json
// on every value.
func TestMatchesEncodingJSON(t *testing.T) {
	files, _ := filepath.Glob(testpaths.Shared("bench", "bodies", "*.json"))
	more, _ := filepath.Glob(testpaths.Shared("specs", "*", "*.json"))
	files = append(files, more...)
	if len(files) < 3 {
		t.Fatalf("found %d JSON files under ../shared; the shared folder must sit beside the repository", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := standard(data)
			got, err := strictjson.Decode(data)
			if wantErr != nil {
				t.Skipf("not JSON: %v", wantErr)
			}
			if err != nil {
				t.Fatalf("strict: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("strict decoding differs from encoding/json")
			}
		})
	}
}

// standard decodes the way encoding/json does with UseNumber.
func standard(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// FuzzDecode checks strict decoding against encoding/json: whatever strict
// accepts, encoding/json accepts with the same value; whatever strict
// refuses that encoding/json accepts, it refuses for one of its strict
// reasons; it never panics.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `{"amount":1e10000000}`, `{"a":1,"a":2}`,
		"\"a\xffb\"", `"\ud800"`, `"\ud83d\ude00"`, `[1.5e-3, -0, 0.0]`, `{"x":"\u0000"}`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600), `{"n":` + strings.Repeat("9", 200) + `}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := strictjson.Decode(data)
		want, wantErr := standard(data)
		if err == nil {
			if wantErr != nil {
				t.Fatalf("strict accepts what encoding/json refuses (%v): %q", wantErr, data)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("values differ for %q: %#v vs %#v", data, got, want)
			}
			return
		}
		var e *strictjson.Error
		if !errors.As(err, &e) {
			t.Fatalf("error is not an *Error: %v", err)
		}
		if wantErr == nil && e.Code == strictjson.CodeMalformed {
			t.Fatalf("strict calls %q malformed, encoding/json accepts it: %v", data, err)
		}
	})
}

var benchBody = []byte(`{"id":"8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0","bank_id":"gh.29.uk","label":"Main current account",
"currency":"EUR","balance":1250.75,"type":"CURRENT","owner_email":"alice@example.com","opened_at":"2021-03-04T10:00:00Z",
"tags":["salary","primary"],"routing":{"scheme":"IBAN","address":"DE89370400440532013000"}}`)

func BenchmarkDecode(b *testing.B) {
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := strictjson.Decode(benchBody); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := standard(benchBody); err != nil {
				b.Fatal(err)
			}
		}
	})
}
