package jsonptr

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// rfcDoc is the example document of RFC 6901 section 5.
func rfcDoc(t *testing.T) any {
	t.Helper()
	raw, err := os.ReadFile("testdata/rfc6901.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestLookupRFC6901 resolves every pointer of RFC 6901 section 5.
func TestLookupRFC6901(t *testing.T) {
	doc := rfcDoc(t)
	tests := []struct {
		pointer string
		want    any
	}{
		{"", doc},
		{"/foo", []any{"bar", "baz"}},
		{"/foo/0", "bar"},
		{"/", 0.0},
		{"/a~1b", 1.0},
		{"/c%d", 2.0},
		{"/e^f", 3.0},
		{"/g|h", 4.0},
		{"/i\\j", 5.0},
		{"/k\"l", 6.0},
		{"/ ", 7.0},
		{"/m~0n", 8.0},
	}
	for _, tt := range tests {
		t.Run(tt.pointer, func(t *testing.T) {
			got, ok := Lookup(doc, tt.pointer)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Lookup(%q) = %v, %v; want %v", tt.pointer, got, ok, tt.want)
			}
		})
	}
}

// TestLookupMisses names nothing for malformed pointers and missing targets.
func TestLookupMisses(t *testing.T) {
	doc := rfcDoc(t)
	for _, pointer := range []string{
		"foo",      // no leading '/'
		"/bar",     // no such member
		"/foo/2",   // past the end
		"/foo/-1",  // negative
		"/foo/01",  // leading zero
		"/foo/+1",  // sign
		"/foo/x",   // not a number
		"/foo/",    // empty index
		"/foo/0/x", // into a string
		"/a/b",     // '/' unescaped: "a" then "b"
		"/m~n",     // "~n" is not an escape of "~"
	} {
		t.Run(pointer, func(t *testing.T) {
			if got, ok := Lookup(doc, pointer); ok {
				t.Fatalf("Lookup(%q) = %v, want no match", pointer, got)
			}
		})
	}
}

// TestEscapeRoundTrip escapes and unescapes tokens, including the order
// trap of RFC 6901 section 4: "~01" unescapes to "~1", not "/".
func TestEscapeRoundTrip(t *testing.T) {
	tests := []struct{ token, escaped string }{
		{"plain", "plain"},
		{"a/b", "a~1b"},
		{"m~n", "m~0n"},
		{"~1", "~01"},
		{"/~", "~1~0"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			if got := Escape(tt.token); got != tt.escaped {
				t.Errorf("Escape(%q) = %q, want %q", tt.token, got, tt.escaped)
			}
			if got := Unescape(tt.escaped); got != tt.token {
				t.Errorf("Unescape(%q) = %q, want %q", tt.escaped, got, tt.token)
			}
		})
	}
}

// TestAppendLooksUp builds pointers whose lookups find the member they were
// built from.
func TestAppendLooksUp(t *testing.T) {
	doc := rfcDoc(t)
	tests := []struct {
		base   string
		tokens []string
		want   string
	}{
		{"", []string{"a/b"}, "/a~1b"},
		{"", []string{"m~n"}, "/m~0n"},
		{"", []string{"foo", "1"}, "/foo/1"},
		{"/foo", []string{"0"}, "/foo/0"},
		{"", []string{""}, "/"},
		{"/foo", nil, "/foo"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := Append(tt.base, tt.tokens...)
			if got != tt.want {
				t.Fatalf("Append(%q, %q) = %q, want %q", tt.base, tt.tokens, got, tt.want)
			}
			if _, ok := Lookup(doc, got); !ok {
				t.Fatalf("Lookup(%q) found nothing", got)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Append("/components/schemas", "Account", "properties", "a/b")
	}
}
