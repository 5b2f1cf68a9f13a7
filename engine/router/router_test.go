package router_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine/router"
)

// mustBuild builds a table from "METHOD template" specs; each route's value
// is its spec, so a test can tell which route matched.
func mustBuild(t testing.TB, specs ...string) *router.Table[string] {
	t.Helper()
	table, err := router.Build(routesOf(specs...))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return table
}

func routesOf(specs ...string) []router.Route[string] {
	routes := make([]router.Route[string], len(specs))
	for i, s := range specs {
		method, tpl, _ := strings.Cut(s, " ")
		routes[i] = router.Route[string]{Method: method, Template: tpl, Owner: fmt.Sprintf("doc%d", i), Value: s}
	}
	return routes
}

type matchCase struct {
	method, path string
	want         string   // the matched route's spec; "" for no match
	params       []string // "name=value", in template order
	allow        string
}

func TestMatch(t *testing.T) {
	groups := []struct {
		name   string
		routes []string
		cases  []matchCase
	}{
		{
			name:   "literal beats parameter",
			routes: []string{"GET /users/{id}", "GET /users/me", "GET /users"},
			cases: []matchCase{
				{method: "GET", path: "/users/me", want: "GET /users/me"},
				{method: "GET", path: "/users/42", want: "GET /users/{id}", params: []string{"id=42"}},
				{method: "GET", path: "/users/mee", want: "GET /users/{id}", params: []string{"id=mee"}},
				{method: "GET", path: "/users", want: "GET /users"},
				{method: "GET", path: "/users/", want: ""},    // a parameter never matches an empty segment
				{method: "GET", path: "/users/me/", want: ""}, // no trailing-slash folding
				{method: "GET", path: "/Users/me", want: ""},  // case-sensitive
				{method: "GET", path: "/users//", want: ""},
				{method: "GET", path: "users/me", want: ""},
			},
		},
		{
			name:   "backtracking",
			routes: []string{"GET /a/{x}/c", "GET /a/b/d", "GET /a/b/{y}/e", "GET /a/{x}/{z}/f"},
			cases: []matchCase{
				{method: "GET", path: "/a/b/c", want: "GET /a/{x}/c", params: []string{"x=b"}},
				{method: "GET", path: "/a/b/d", want: "GET /a/b/d"},
				{method: "GET", path: "/a/z/c", want: "GET /a/{x}/c", params: []string{"x=z"}},
				{method: "GET", path: "/a/b/q/e", want: "GET /a/b/{y}/e", params: []string{"y=q"}},
				{method: "GET", path: "/a/b/q/f", want: "GET /a/{x}/{z}/f", params: []string{"x=b", "z=q"}},
				{method: "GET", path: "/a/b/e", want: ""},
			},
		},
		{
			name: "backtracking is per method",
			// A literal route for POST must not hide a parameter route for
			// GET, and the Allow list unites every template the path matches.
			routes: []string{"POST /a/b", "GET /a/{x}", "PUT /a/{x}"},
			cases: []matchCase{
				{method: "GET", path: "/a/b", want: "GET /a/{x}", params: []string{"x=b"}},
				{method: "POST", path: "/a/b", want: "POST /a/b"},
				{method: "POST", path: "/a/c", allow: "GET, HEAD, PUT"},
				{method: "DELETE", path: "/a/b", allow: "GET, HEAD, POST, PUT"},
			},
		},
		{
			name: "several parameters",
			routes: []string{
				"GET /banks/{BankId}/accounts/{AccountId}/statements/{StatementId}/file",
				"GET /x/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}",
			},
			cases: []matchCase{
				{method: "GET", path: "/banks/acme/accounts/22289/statements/S-1/file",
					want:   "GET /banks/{BankId}/accounts/{AccountId}/statements/{StatementId}/file",
					params: []string{"BankId=acme", "AccountId=22289", "StatementId=S-1"}},
				{method: "GET", path: "/x/1/2/3/4/5/6/7/8", want: "GET /x/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}",
					params: []string{"a=1", "b=2", "c=3", "d=4", "e=5", "f=6", "g=7", "h=8"}},
				{method: "GET", path: "/x/1/2/3/4/5/6/7", want: ""},
				{method: "GET", path: "/x/1/2/3/4/5/6/7/8/9", want: ""},
			},
		},
		{
			name: "mixed segments",
			routes: []string{
				"GET /files/{name}.json", "GET /files/{name}", "GET /files/v{version}", "GET /files/v{version}.json",
				"GET /files/latest.json", "GET /api/v{version}/items", "GET /api/{anything}/items/{id}",
			},
			cases: []matchCase{
				{method: "GET", path: "/files/report.json", want: "GET /files/{name}.json", params: []string{"name=report"}},
				{method: "GET", path: "/files/a.b.json", want: "GET /files/{name}.json", params: []string{"name=a.b"}},
				{method: "GET", path: "/files/latest.json", want: "GET /files/latest.json"},
				{method: "GET", path: "/files/v2", want: "GET /files/v{version}", params: []string{"version=2"}},
				// Longest literal text wins between mixed segments.
				{method: "GET", path: "/files/v2.json", want: "GET /files/v{version}.json", params: []string{"version=2"}},
				{method: "GET", path: "/files/.json", want: "GET /files/{name}", params: []string{"name=.json"}},
				{method: "GET", path: "/files/v", want: "GET /files/{name}", params: []string{"name=v"}},
				{method: "GET", path: "/files/report", want: "GET /files/{name}", params: []string{"name=report"}},
				{method: "GET", path: "/api/v3/items", want: "GET /api/v{version}/items", params: []string{"version=3"}},
				// Mixed ranks above a whole parameter, but backtracks to it.
				{method: "GET", path: "/api/v3/items/9", want: "GET /api/{anything}/items/{id}",
					params: []string{"anything=v3", "id=9"}},
			},
		},
		{
			name: "several verbs and 405",
			routes: []string{"POST /pets", "GET /pets", "GET /pets/{id}", "PUT /pets/{id}", "DELETE /pets/{id}",
				"PATCH /pets/{id}", "OPTIONS /pets/{id}", "TRACE /pets/{id}"},
			cases: []matchCase{
				{method: "GET", path: "/pets", want: "GET /pets"},
				{method: "POST", path: "/pets", want: "POST /pets"},
				{method: "DELETE", path: "/pets", allow: "GET, HEAD, POST"},
				{method: "PUT", path: "/pets", allow: "GET, HEAD, POST"},
				{method: "BREW", path: "/pets", allow: "GET, HEAD, POST"},
				{method: "get", path: "/pets", allow: "GET, HEAD, POST"},
				{method: "POST", path: "/pets/7", allow: "DELETE, GET, HEAD, OPTIONS, PATCH, PUT, TRACE"},
				{method: "PATCH", path: "/pets/7", want: "PATCH /pets/{id}", params: []string{"id=7"}},
				{method: "POST", path: "/cats", allow: ""},
			},
		},
		{
			name:   "HEAD fallback",
			routes: []string{"GET /docs", "GET /docs/{id}", "HEAD /docs/{id}", "POST /upload", "HEAD /ping"},
			cases: []matchCase{
				{method: "HEAD", path: "/docs", want: "GET /docs"},
				{method: "HEAD", path: "/docs/1", want: "HEAD /docs/{id}", params: []string{"id=1"}},
				{method: "GET", path: "/docs/1", want: "GET /docs/{id}", params: []string{"id=1"}},
				{method: "POST", path: "/docs", allow: "GET, HEAD"},
				{method: "HEAD", path: "/upload", allow: "POST"},
				{method: "GET", path: "/ping", allow: "HEAD"},
			},
		},
		{
			name:   "percent-decoding",
			routes: []string{"GET /files/{name}", "GET /files/{name}/meta", "GET /raw/caf%C3%A9", "GET /docs/{id}.json"},
			cases: []matchCase{
				{method: "GET", path: "/files/a%20b", want: "GET /files/{name}", params: []string{"name=a b"}},
				{method: "GET", path: "/files/caf%c3%a9", want: "GET /files/{name}", params: []string{"name=café"}},
				{method: "GET", path: "/files/a%2Fb/meta", want: "GET /files/{name}/meta", params: []string{"name=a/b"}},
				{method: "GET", path: "/files/a+b", want: "GET /files/{name}", params: []string{"name=a+b"}},
				{method: "GET", path: "/files/100%", want: ""},
				{method: "GET", path: "/files/%zz", want: ""},
				{method: "GET", path: "/files/%4", want: ""},
				{method: "GET", path: "/docs/%41.json", want: "GET /docs/{id}.json", params: []string{"id=A"}},
				// Literals compare the raw path.
				{method: "GET", path: "/raw/caf%C3%A9", want: "GET /raw/caf%C3%A9"},
				{method: "GET", path: "/raw/café", want: ""},
			},
		},
		{
			name:   "root path",
			routes: []string{"GET /", "GET /{page}", "POST /"},
			cases: []matchCase{
				{method: "GET", path: "/", want: "GET /"},
				{method: "GET", path: "", want: "GET /"},
				{method: "POST", path: "", want: "POST /"},
				{method: "GET", path: "/home", want: "GET /{page}", params: []string{"page=home"}},
				{method: "DELETE", path: "/", allow: "GET, HEAD, POST"},
				{method: "GET", path: "//", want: ""},
				{method: "GET", path: "*", want: ""},
			},
		},
		{
			name:   "empty table",
			routes: nil,
			cases:  []matchCase{{method: "GET", path: "/"}, {method: "GET", path: ""}},
		},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			table := mustBuild(t, g.routes...)
			for _, c := range g.cases {
				t.Run(c.method+" "+c.path, func(t *testing.T) {
					checkMatch(t, table, c)
				})
			}
		})
	}
}

func checkMatch(t *testing.T, table *router.Table[string], c matchCase) {
	t.Helper()
	var ps router.Params
	got, ok, allow := table.Match(c.method, c.path, &ps)
	if ok != (c.want != "") || got != c.want {
		t.Fatalf("Match(%q, %q) = %q, %v; want %q", c.method, c.path, got, ok, c.want)
	}
	if allow != c.allow {
		t.Errorf("allow = %q, want %q", allow, c.allow)
	}
	var params []string
	for i := range ps.Len() {
		params = append(params, ps.Name(i)+"="+ps.Value(i))
		if v, ok := ps.Get(ps.Name(i)); !ok || v != ps.Value(i) {
			t.Errorf("Get(%q) = %q, %v; want %q", ps.Name(i), v, ok, ps.Value(i))
		}
	}
	if !slices.Equal(params, c.params) {
		t.Errorf("params = %q, want %q", params, c.params)
	}
	if ok {
		if _, tpl, _ := strings.Cut(c.want, " "); ps.Template() != tpl {
			t.Errorf("Template() = %q, want %q", ps.Template(), tpl)
		}
	} else if ps.Template() != "" {
		t.Errorf("Template() = %q after a miss", ps.Template())
	}
	// A nil Params must give the same answer.
	got2, ok2, allow2 := table.Match(c.method, c.path, nil)
	if got2 != got || ok2 != ok || allow2 != allow {
		t.Errorf("Match with nil params = %q, %v, %q; want %q, %v, %q", got2, ok2, allow2, got, ok, allow)
	}
}

func TestParamsReuse(t *testing.T) {
	table := mustBuild(t, "GET /a/{x}/{y}", "GET /b/{z}", "GET /c")
	var ps router.Params
	if _, ok, _ := table.Match("GET", "/a/1/2", &ps); !ok || ps.Len() != 2 {
		t.Fatalf("first match: ok=%v len=%d", ok, ps.Len())
	}
	if _, ok, _ := table.Match("GET", "/b/3", &ps); !ok || ps.Len() != 1 || ps.Value(0) != "3" || ps.Name(0) != "z" {
		t.Fatalf("second match: ok=%v len=%d", ok, ps.Len())
	}
	if _, ok, _ := table.Match("GET", "/nope", &ps); ok || ps.Len() != 0 {
		t.Fatalf("miss: ok=%v len=%d", ok, ps.Len())
	}
	if _, ok := ps.Get("z"); ok {
		t.Error("Get found a parameter after a miss")
	}
	table.Match("GET", "/a/1/2", &ps)
	ps.Reset()
	if ps.Len() != 0 || ps.Template() != "" {
		t.Errorf("after Reset: len=%d template=%q", ps.Len(), ps.Template())
	}
	defer func() {
		if recover() == nil {
			t.Error("Value out of range did not panic")
		}
	}()
	ps.Value(0)
}

func TestBuildConflicts(t *testing.T) {
	tests := []struct {
		name     string
		routes   []router.Route[string]
		conflict *router.ConflictError // nil: no error
	}{
		{
			name: "parameter names are ignored",
			routes: []router.Route[string]{
				{Method: "GET", Template: "/v1/pets/{id}", Owner: "b"},
				{Method: "GET", Template: "/v1/pets/{petId}", Owner: "a"},
			},
			conflict: &router.ConflictError{Method: "GET", Template: "/v1/pets/{petId}", Owner: "a",
				OtherTemplate: "/v1/pets/{id}", OtherOwner: "b"},
		},
		{
			name: "same owner",
			routes: []router.Route[string]{
				{Method: "POST", Template: "/a/{x}/b/{y}", Owner: "doc"},
				{Method: "POST", Template: "/a/{p}/b/{q}", Owner: "doc"},
			},
			conflict: &router.ConflictError{Method: "POST", Template: "/a/{p}/b/{q}", Owner: "doc",
				OtherTemplate: "/a/{x}/b/{y}", OtherOwner: "doc"},
		},
		{
			name: "exact duplicate",
			routes: []router.Route[string]{
				{Method: "GET", Template: "/", Owner: "x"}, {Method: "GET", Template: "/", Owner: "y"},
			},
			conflict: &router.ConflictError{Method: "GET", Template: "/", Owner: "y", OtherTemplate: "/", OtherOwner: "x"},
		},
		{
			name: "mixed segments with the same literals",
			routes: []router.Route[string]{
				{Method: "GET", Template: "/f/{a}.json", Owner: "x"}, {Method: "GET", Template: "/f/{b}.json", Owner: "y"},
			},
			conflict: &router.ConflictError{Method: "GET", Template: "/f/{b}.json", Owner: "y",
				OtherTemplate: "/f/{a}.json", OtherOwner: "x"},
		},
		{
			name: "literal and parameter do not conflict",
			routes: []router.Route[string]{
				{Method: "GET", Template: "/a/{x}", Owner: "x"}, {Method: "GET", Template: "/a/b", Owner: "y"},
				{Method: "GET", Template: "/a/{x}.json", Owner: "z"}, {Method: "GET", Template: "/a/v{x}", Owner: "z"},
			},
		},
		{
			name: "different methods do not conflict",
			routes: []router.Route[string]{
				{Method: "GET", Template: "/a/{x}", Owner: "x"}, {Method: "PUT", Template: "/a/{y}", Owner: "y"},
				{Method: "HEAD", Template: "/a/{z}", Owner: "z"},
			},
		},
		{
			name: "trailing slash is a different template",
			routes: []router.Route[string]{
				{Method: "GET", Template: "/a", Owner: "x"}, {Method: "GET", Template: "/a/", Owner: "y"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, err := router.Build(tt.routes)
			if tt.conflict == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				if table.Len() != len(tt.routes) || !slices.Equal(table.Routes(), tt.routes) {
					t.Errorf("Routes() = %v, want %v", table.Routes(), tt.routes)
				}
				return
			}
			var ce *router.ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("Build error = %v, want *ConflictError", err)
			}
			if *ce != *tt.conflict {
				t.Errorf("conflict = %+v, want %+v", *ce, *tt.conflict)
			}
			if table != nil {
				t.Error("Build returned a table with an error")
			}
		})
	}
	t.Run("message", func(t *testing.T) {
		err := (&router.ConflictError{Method: "GET", Template: "/v1/pets/{petId}", Owner: "a",
			OtherTemplate: "/v1/pets/{id}", OtherOwner: "b"}).Error()
		want := `route conflict: GET /v1/pets/{petId} (document "a") and GET /v1/pets/{id} (document "b")`
		if err != want {
			t.Errorf("Error() = %s, want %s", err, want)
		}
	})
}

func TestBuildInvalid(t *testing.T) {
	many := ""
	for i := range router.MaxParams + 1 {
		many += fmt.Sprintf("/{p%d}", i)
	}
	tests := []struct {
		method, template string
		reason           string // substring of TemplateError.Reason; "" means a MethodError
	}{
		{"GET", "", `does not start with "/"`},
		{"GET", "pets/{id}", `does not start with "/"`},
		{"GET", "/pets/{id", "unbalanced braces"},
		{"GET", "/pets/id}", "unbalanced braces"},
		{"GET", "/pets/}id{", "unbalanced braces"},
		{"GET", "/pets/{id}}", "unbalanced braces"},
		{"GET", "/pets/{{id}}", "nested braces"},
		{"GET", "/pets/{}", "empty parameter name"},
		{"GET", "/pets/{id}/toys/{id}", `parameter "id" appears more than once`},
		{"GET", "/pets/{a}-{b}", "more than one parameter"},
		{"GET", "/pets/{a}{b}", "more than one parameter"},
		{"GET", "/{a/b}", "unbalanced braces"},
		{"GET", many, "more than 16 parameters"},
		{"get", "/pets", ""},
		{"", "/pets", ""},
		{"CONNECT", "/pets", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.template, func(t *testing.T) {
			routes := []router.Route[int]{
				{Method: "GET", Template: "/ok/{id}", Owner: "good"},
				{Method: tt.method, Template: tt.template, Owner: "bad"},
			}
			_, err := router.Build(routes)
			if tt.reason == "" {
				var me *router.MethodError
				if !errors.As(err, &me) || me.Method != tt.method || me.Owner != "bad" {
					t.Fatalf("Build error = %v, want *MethodError for %q", err, tt.method)
				}
				return
			}
			var te *router.TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("Build error = %v, want *TemplateError", err)
			}
			if te.Template != tt.template || te.Owner != "bad" || te.Method != tt.method ||
				!strings.Contains(te.Reason, tt.reason) {
				t.Errorf("TemplateError = %+v, want reason containing %q", *te, tt.reason)
			}
			if !strings.Contains(te.Error(), tt.template) || !strings.Contains(te.Error(), `"bad"`) {
				t.Errorf("Error() = %s lacks the template or owner", te.Error())
			}
		})
	}
	t.Run("16 parameters are fine", func(t *testing.T) {
		tpl := strings.Join(strings.Split(many, "/")[:router.MaxParams+1], "/")
		table := mustBuild(t, "GET "+tpl)
		path := strings.Repeat("/v", router.MaxParams)
		var ps router.Params
		if _, ok, _ := table.Match("GET", path, &ps); !ok || ps.Len() != router.MaxParams {
			t.Errorf("Match(%s) ok=%v len=%d", path, ok, ps.Len())
		}
	})
}

func TestNilTable(t *testing.T) {
	var table *router.Table[string]
	if v, ok, allow := table.Match("GET", "/", nil); v != "" || ok || allow != "" {
		t.Errorf("nil table matched: %q %v %q", v, ok, allow)
	}
	if table.Len() != 0 || table.Routes() != nil {
		t.Error("nil table is not empty")
	}
}

func TestRoutesIsACopy(t *testing.T) {
	in := routesOf("GET /a", "POST /a")
	table, err := router.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Value = "changed"
	table.Routes()[1].Value = "changed"
	if v, _, _ := table.Match("GET", "/a", nil); v != "GET /a" {
		t.Errorf("input slice aliased: %q", v)
	}
	if v, _, _ := table.Match("POST", "/a", nil); v != "POST /a" {
		t.Errorf("Routes() aliased: %q", v)
	}
}

// TestConcurrentMatch shares one table between many goroutines; run with
// -race it proves Match writes nothing shared.
func TestConcurrentMatch(t *testing.T) {
	table, err := router.Build(openBankingRoutes())
	if err != nil {
		t.Fatal(err)
	}
	cases := []matchCase{
		{method: "GET", path: "/open-banking/v4.0/aisp/accounts/22289/transactions",
			want: "GET /open-banking/v4.0/aisp/accounts/{AccountId}/transactions", params: []string{"AccountId=22289"}},
		{method: "GET", path: "/open-banking/v3.1/aisp/accounts/a%20b/statements/s1/file",
			want:   "GET /open-banking/v3.1/aisp/accounts/{AccountId}/statements/{StatementId}/file",
			params: []string{"AccountId=a b", "StatementId=s1"}},
		{method: "HEAD", path: "/banks/acme/open-banking/v4.0/aisp/balances",
			want: "GET /banks/acme/open-banking/v4.0/aisp/balances"},
		{method: "POST", path: "/open-banking/v4.0/aisp/accounts", allow: "GET, HEAD"},
		{method: "GET", path: "/open-banking/v5.0/aisp/accounts"},
	}
	const goroutines, rounds = 32, 500
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var ps router.Params
			for r := range rounds {
				c := cases[(g+r)%len(cases)]
				got, ok, allow := table.Match(c.method, c.path, &ps)
				var params []string
				for i := range ps.Len() {
					params = append(params, ps.Name(i)+"="+ps.Value(i))
				}
				if got != c.want || ok != (c.want != "") || allow != c.allow || !slices.Equal(params, c.params) {
					errs <- fmt.Sprintf("%s %s = %q %v %q %q", c.method, c.path, got, ok, allow, params)
					return
				}
				ps.Reset()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	table, err := router.Build(append(openBankingRoutes(), routesOf("GET /x/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}")...))
	if err != nil {
		t.Fatal(err)
	}
	paths := []struct {
		method, path string
		ok           bool
	}{
		{"GET", "/open-banking/v4.0/aisp/accounts", true},
		{"GET", "/open-banking/v4.0/aisp/accounts/22289/statements/8812/transactions", true},
		{"HEAD", "/banks/acme/open-banking/v4.0/aisp/accounts/22289/balances", true},
		{"GET", "/x/1/2/3/4/5/6/7/8", true},
		{"DELETE", "/open-banking/v4.0/pisp/domestic-payments/P1", false}, // 405
		{"GET", "/open-banking/v4.0/aisp/nothing/here", false},            // 404
		{"GET", "", false},
	}
	var ps router.Params
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			if _, ok, _ := table.Match(p.method, p.path, &ps); ok != p.ok {
				t.Fatalf("ok = %v, want %v", ok, p.ok)
			}
			if n := testing.AllocsPerRun(100, func() { table.Match(p.method, p.path, &ps) }); n != 0 {
				t.Errorf("Match allocates %v times", n)
			}
			if n := testing.AllocsPerRun(100, func() { table.Match(p.method, p.path, nil) }); n != 0 {
				t.Errorf("Match with nil params allocates %v times", n)
			}
		})
	}
}
