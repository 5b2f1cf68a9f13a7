package directlogin

import (
	"errors"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want params
		err  error
	}{
		{name: "empty", in: ""},
		{name: "blanks and empty elements", in: " , ,\t,"},
		{name: "quoted", in: `username="alice", password="s3cret", consumer_key="ck"`,
			want: params{username: "alice", password: "s3cret", consumerKey: "ck"}},
		{name: "bare", in: `username=alice,password=s3cret,consumer_key=ck`,
			want: params{username: "alice", password: "s3cret", consumerKey: "ck"}},
		{name: "any order and blanks", in: ` consumer_key = ck ,password= "p" ,  username =alice `,
			want: params{username: "alice", password: "p", consumerKey: "ck"}},
		{name: "names ignore case", in: `UserName="a", PASSWORD="b", Consumer_Key="c", Token="d"`,
			want: params{username: "a", password: "b", consumerKey: "c", token: "d"}},
		{name: "comma inside quotes", in: `password="a,b,c", username="x"`,
			want: params{username: "x", password: "a,b,c"}},
		{name: "escaped quote", in: `password="say \"hi\", ok", username=u`,
			want: params{username: "u", password: `say "hi", ok`}},
		{name: "escaped backslash before closing quote", in: `password="ends\\", username=u`,
			want: params{username: "u", password: `ends\`}},
		{name: "equals inside value", in: `password="a=b", token=x=y`,
			want: params{password: "a=b", token: "x=y"}},
		{name: "bare value keeps inner spaces", in: `username=john doe , token=t`,
			want: params{username: "john doe", token: "t"}},
		{name: "unknown parameters ignored", in: `realm="x", username=u, realm="y"`,
			want: params{username: "u"}},
		{name: "empty value", in: `username="", password=`,
			want: params{}},
		{name: "unicode", in: `username="zoë", password="пароль"`,
			want: params{username: "zoë", password: "пароль"}},
		{name: "token only", in: `token="abc"`, want: params{token: "abc"}},
		{name: "duplicate", in: `username=a, username=b`, err: errDuplicate},
		{name: "duplicate other case", in: `token=a, TOKEN=a`, err: errDuplicate},
		{name: "unterminated quote", in: `username="alice`, err: errMalformed},
		{name: "lone backslash at end", in: `username="alice\`, err: errMalformed},
		{name: "escaped closing quote only", in: `username="alice\"`, err: errMalformed},
		{name: "missing equals", in: `username`, err: errMalformed},
		{name: "missing name", in: `="alice"`, err: errMalformed},
		{name: "junk after quoted value", in: `username="a"b, password=c`, err: errMalformed},
		{name: "quote inside bare value", in: `username=a"b"`, err: errMalformed},
		{name: "space inside name", in: `user name=a`, err: errMalformed},
		{name: "scheme left in", in: `DirectLogin token="t"`, err: errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseParams(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("parseParams(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("parseParams(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// quote renders v as a quoted string that parseParams reads back as v.
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

func TestQuotedRoundTrip(t *testing.T) {
	for _, v := range []string{"", `"`, `\`, `\"`, `a,b`, `x="y", z`, "tab\there", `\\\"\`} {
		got, err := parseParams("password=" + quote(v) + ", username=u")
		if err != nil || got.password != v || got.username != "u" {
			t.Errorf("round trip of %q: got %+v, %v", v, got, err)
		}
	}
}

// FuzzParseParams checks that the parser never panics, that what it returns
// is consistent with its error, and that any value survives quoting.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		``, `,`, `token="abc"`, `username="a", password="b", consumer_key="c"`,
		`username=a,password=b`, `password="a\"b,c"`, `username="`, `x="\`,
		`=`, `a=`, `a="b"c`, ` , username = "x" , `, "token=\x00\xff",
	} {
		f.Add(s, "v")
	}
	f.Fuzz(func(t *testing.T, header, value string) {
		p, err := parseParams(header)
		if err != nil && p != (params{}) {
			t.Fatalf("parseParams(%q) returned %+v with error %v", header, p, err)
		}
		for _, v := range []string{p.username, p.password, p.consumerKey, p.token} {
			if len(v) > len(header) {
				t.Fatalf("value %q longer than header %q", v, header)
			}
		}
		got, err := parseParams("token=t, password=" + quote(value) + ",username=u")
		if err != nil || got.password != value || got.token != "t" || got.username != "u" {
			t.Fatalf("round trip of %q: got %+v, %v", value, got, err)
		}
	})
}
