package server

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/router"
)

func TestUnsafePath(t *testing.T) {
	for _, tc := range []struct {
		path   string
		unsafe bool
	}{
		{"/", false},
		{"/banks/gh.29.uk/accounts", false},
		{"/.well-known/jwks.json", false},
		{"/open-banking/v4.0/aisp", false},
		{"/a/...", false},
		{"/a/%2e%2e%2e", false},
		{"/a/b%20c", false},
		{"/a/%2", false},
		{"/a/%", false},
		{"/a/%252e%252e", false},
		{".", true},
		{"/.", true},
		{"/..", true},
		{"/a/./b", true},
		{"/a/../b", true},
		{"/a/b/..", true},
		{"/a/%2e/b", true},
		{"/a/%2E%2e/b", true},
		{"/a/.%2e/b", true},
		{"/a/%2e./b", true},
		{"/a%2fb", true},
		{"/a%2Fb", true},
		{"/a%5cb", true},
		{"/a%5Cb", true},
		{`/a\b`, true},
	} {
		if got := unsafePath(tc.path); got != tc.unsafe {
			t.Errorf("unsafePath(%q) = %v, want %v", tc.path, got, tc.unsafe)
		}
	}
}

func TestScanHeaderFraming(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		ambiguous  bool
	}{
		{"no body", "", false},
		{"one length", "Content-Length: 2\r\n", false},
		{"chunked", "Transfer-Encoding: chunked\r\n", false},
		{"chunked, any case", "transfer-encoding: Chunked\r\n", false},
		{"chunked and length", "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", true},
		{"length and chunked", "content-length: 2\r\nTransfer-Encoding: chunked\r\n", true},
		{"two lengths", "Content-Length: 2\r\nContent-Length: 2\r\n", true},
		{"two codings", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", true},
		{"gzip coding", "Transfer-Encoding: gzip\r\n", true},
		{"gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", true},
		{"identity coding and length", "Transfer-Encoding: identity\r\nContent-Length: 2\r\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := scanRequestHeader(t, tc.head)
			if got := lines.ambiguousFraming(); got != tc.ambiguous {
				t.Fatalf("ambiguousFraming = %v, want %v", got, tc.ambiguous)
			}
		})
	}
}

func TestScanHeaderCredentialsAndCodings(t *testing.T) {
	for _, tc := range []struct {
		name, head   string
		credentials  int
		contentCoded bool
	}{
		{"none", "Accept: */*\r\n", 0, false},
		{"one Authorization", "Authorization: Bearer a\r\n", 1, false},
		{"names in any case", "authorization: Bearer a\r\nDIRECTLOGIN: token=\"b\"\r\n", 2, false},
		{"empty lines are not counted", "Authorization: \r\nDirectLogin:\r\nAuthorization: Bearer a\r\n", 1, false},
		{"two DirectLogin lines", "DirectLogin: token=\"a\"\r\nDirectLogin: token=\"b\"\r\n", 2, false},
		{"gzip", "Content-Encoding: gzip\r\n", 0, true},
		{"identity", "Content-Encoding: identity\r\n", 0, false},
		{"identity then br", "Content-Encoding: identity\r\ncontent-encoding: br\r\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanRequestHeader(t, tc.head)
			if got.credentials != tc.credentials || got.contentCoded != tc.contentCoded {
				t.Fatalf("credentials %d, content coded %v; want %d, %v", got.credentials, got.contentCoded,
					tc.credentials, tc.contentCoded)
			}
		})
	}
}

// keptFieldHeads are header blocks around the fields the scan keeps: repeated,
// empty, in other cases, with blanks and tabs, folded over lines.
var keptFieldHeads = []string{
	"",
	"Authorization: DirectLogin token=\"a\"\r\n",
	"DirectLogin: token=\"a\"\r\n",
	"authorization:DirectLogin token=a  \r\n",
	"Authorization: \r\nAuthorization: DirectLogin token=a\r\n",
	"Authorization:\tDirectLogin token=a\t\r\n",
	"DIRECTLOGIN:   token=a , x=y \r\nAccept: */*\r\n",
	"Authorization: DirectLogin\r\n token=a\r\n",
	"Authorization: DirectLogin\r\n\ttoken=a\r\nDirectLogin: b\r\n",
	"X-A: 1\r\n Authorization: folded-in\r\nDirectLogin: token=b\r\n",
	"Prefer: code=201\r\nX-Correlation-Id: abc \r\nprefer: example=x\r\n",
	"x-correlation-id:\r\n  folded\r\nPREFER:  a\tb \r\n",
}

// TestScanHeaderReadsFieldsAsFasthttp: the values of the fields the scan
// keeps (credentials, Prefer, the correlation id) are what fasthttp's Peek
// gives.
func TestScanHeaderReadsFieldsAsFasthttp(t *testing.T) {
	for _, head := range keptFieldHeads {
		t.Run(head, func(t *testing.T) { checkScannedFields(t, head) })
	}
}

// FuzzScanHeaderFields: for any header fasthttp accepts, each field the
// scan keeps has the value fasthttp's Peek gives.
func FuzzScanHeaderFields(f *testing.F) {
	for _, head := range keptFieldHeads {
		f.Add(head)
	}
	f.Fuzz(func(t *testing.T, head string) { checkScannedFields(t, head) })
}

// checkScannedFields parses a GET with head's header lines as fasthttp
// does (skipping what it refuses) and compares the kept fields' values
// with Peek's.
func checkScannedFields(t *testing.T, head string) {
	var h fasthttp.RequestHeader
	raw := "GET /x HTTP/1.1\r\nHost: x\r\n" + head + "\r\n"
	if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Skip("fasthttp refuses it")
	}
	lines := scanHeader(h.RawHeaders())
	for i := range fieldCount {
		name := scannedFieldNames[max(0, i-fieldPrefer)]
		if i < len(guard.CredentialFields) {
			name = guard.CredentialFields[i]
		}
		if got, want := lines.fields[i].get(&h, name), string(h.Peek(name)); got != want {
			t.Fatalf("%s: scanned %q, fasthttp gives %q (header %q)", name, got, want, head)
		}
	}
}

// scanRequestHeader parses a POST with head's header lines as fasthttp
// does and scans its raw header.
func scanRequestHeader(t *testing.T, head string) headerLines {
	t.Helper()
	var h fasthttp.RequestHeader
	raw := "POST /x HTTP/1.1\r\nHost: x\r\n" + head + "\r\n"
	if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return scanHeader(h.RawHeaders())
}

func TestFixedAllow(t *testing.T) {
	routes := []router.Route[struct{}]{
		{Method: "GET", Template: template("/banks")},
		{Method: "GET", Template: template("/banks/:bank_id")},
		{Method: "POST", Template: template("/banks/:bank_id/accounts")},
	}
	table, err := router.Build(routes)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{fixed: table}
	for _, tc := range []struct{ method, path, dynamic, want string }{
		{"PUT", "/banks", "", "GET, HEAD"},
		{"PUT", "/banks", "PATCH, POST", "GET, HEAD, PATCH, POST"},
		{"PUT", "/banks", "GET, HEAD", "GET, HEAD"},
		{"DELETE", "/banks/b-1", "", "GET, HEAD"},
		{"GET", "/banks/b-1/accounts", "", "POST"},
		{"GET", "/nowhere", "", ""},
		{"GET", "/nowhere", "POST", "POST"},
		{"GET", "/banks", "", ""},
	} {
		if got := s.fixedAllow(tc.method, tc.path, tc.dynamic); got != tc.want {
			t.Errorf("fixedAllow(%s %s, %q) = %q, want %q", tc.method, tc.path, tc.dynamic, got, tc.want)
		}
	}
}

func TestTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"/":                        "/",
		"/healthz":                 "/healthz",
		"/banks/:bank_id":          "/banks/{bank_id}",
		"/entities/:name/:id":      "/entities/{name}/{id}",
		"/admin/v1/users/:id/lock": "/admin/v1/users/{id}/lock",
	} {
		if got := template(in); got != want {
			t.Errorf("template(%q) = %q, want %q", in, got, want)
		}
	}
}
