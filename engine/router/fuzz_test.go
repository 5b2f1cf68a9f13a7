package router_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine/router"
)

// fuzzRoutes overlap on purpose: literals, mixed segments and parameters at
// the same depths, trailing slashes, the root, and methods spread so that
// backtracking, HEAD fallback and Allow unions all happen.
var fuzzRoutes = []string{
	"GET /", "POST /", "GET /{p}", "GET /a", "GET /a/", "PUT /a/b", "GET /a/{x}", "GET /a/{x}/c", "GET /a/b/d",
	"POST /a/{x}/{y}", "DELETE /a/b/{y}", "GET /files/{name}.json", "GET /files/{name}", "GET /files/v{n}",
	"HEAD /files/v{n}.json", "GET /files/raw", "PATCH /{p}/{q}/{r}", "GET /x/pre{a}suf/{b}", "GET /x/pre{a}/{b}",
	"GET /x/{a}suf/{b}", "OPTIONS /x/{a}suf/{b}", "TRACE /x/{a}/{b}", "GET /a%20b/{x}", "HEAD /a/{x}/c", "GET /{p}/{q}/{r}/{s}",
}

// refRoute is a route parsed by the obviously-correct reference matcher.
type refRoute struct {
	method, spec string
	segs         []refSeg
}

type refSeg struct {
	param          bool
	prefix, suffix string
}

func parseRef(spec string) refRoute {
	method, tpl, _ := strings.Cut(spec, " ")
	r := refRoute{method: method, spec: spec}
	for _, s := range strings.Split(tpl[1:], "/") {
		o, c := strings.IndexByte(s, '{'), strings.IndexByte(s, '}')
		if o < 0 {
			r.segs = append(r.segs, refSeg{prefix: s})
		} else {
			r.segs = append(r.segs, refSeg{param: true, prefix: s[:o], suffix: s[c+1:]})
		}
	}
	return r
}

// match returns the decoded values when r's template matches path.
func (r refRoute) match(path string) ([]string, bool) {
	parts := strings.Split(path[1:], "/")
	if len(parts) != len(r.segs) {
		return nil, false
	}
	var vals []string
	for i, s := range r.segs {
		p := parts[i]
		if !s.param {
			if p != s.prefix {
				return nil, false
			}
			continue
		}
		if len(p) <= len(s.prefix)+len(s.suffix) || !strings.HasPrefix(p, s.prefix) || !strings.HasSuffix(p, s.suffix) {
			return nil, false
		}
		v, err := url.PathUnescape(p[len(s.prefix) : len(p)-len(s.suffix)])
		if err != nil {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}

// rank orders two routes matching the same path: segment by segment, a
// literal first, then mixed segments with the most literal text, then the
// whole parameter.
func rank(a, b refRoute) int {
	for i := range a.segs {
		x, y := a.segs[i], b.segs[i]
		kx, ky := kind(x), kind(y)
		if kx != ky {
			return kx - ky
		}
		if kx == 1 {
			if lx, ly := len(x.prefix)+len(x.suffix), len(y.prefix)+len(y.suffix); lx != ly {
				return ly - lx
			}
			if len(x.prefix) != len(y.prefix) {
				return len(y.prefix) - len(x.prefix)
			}
			if c := strings.Compare(x.prefix, y.prefix); c != 0 {
				return c
			}
			if c := strings.Compare(x.suffix, y.suffix); c != 0 {
				return c
			}
		}
	}
	return 0
}

func kind(s refSeg) int {
	switch {
	case !s.param:
		return 0
	case s.prefix == "" && s.suffix == "":
		return 2
	}
	return 1
}

// refMatch is the specification of Match written as a scan of every route.
func refMatch(routes []refRoute, method, path string) (spec string, vals []string, ok bool, allow string) {
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return "", nil, false, ""
	}
	var best *refRoute
	var bestVals []string
	methods := map[string]bool{}
	for i := range routes {
		r := &routes[i]
		v, matched := r.match(path)
		if !matched {
			continue
		}
		methods[r.method] = true
		if r.method == "GET" {
			methods["HEAD"] = true
		}
		serves := r.method == method || method == "HEAD" && r.method == "GET"
		if !serves {
			continue
		}
		if best == nil {
			best, bestVals = r, v
			continue
		}
		// Same template: an exact HEAD route beats the GET fallback.
		if c := rank(*r, *best); c < 0 || c == 0 && r.method == method {
			best, bestVals = r, v
		}
	}
	if best != nil {
		return best.spec, bestVals, true, ""
	}
	var names []string
	for m := range methods {
		names = append(names, m)
	}
	slices.Sort(names)
	return "", nil, false, strings.Join(names, ", ")
}

func FuzzMatch(f *testing.F) {
	table := mustBuild(f, fuzzRoutes...)
	ref := make([]refRoute, len(fuzzRoutes))
	for i, s := range fuzzRoutes {
		ref[i] = parseRef(s)
	}
	for _, seed := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", ""}, {"POST", "/"}, {"GET", "/a/b/c"}, {"GET", "/a/b/d"}, {"HEAD", "/a/b/c"},
		{"HEAD", "/a/b"}, {"DELETE", "/a/b/c"}, {"GET", "/files/v1.json"}, {"HEAD", "/files/v1.json"},
		{"GET", "/files/.json"}, {"GET", "/x/preAsuf/b"}, {"OPTIONS", "/x/preAsuf/b"}, {"GET", "/x/suf/b"}, {"GET", "/x/presuf/b"},
		{"GET", "/a%20b/%41"}, {"GET", "/a/%zz/c"}, {"GET", "/a/%2F/c"}, {"PATCH", "/1/2/3"}, {"GET", "//"},
		{"GET", "/a//c"}, {"BREW", "/a"}, {"GET", "a"}, {"GET", "/1/2/3/4"}, {"PUT", "/files/raw"},
	} {
		f.Add(seed.method, seed.path)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		var ps router.Params
		got, ok, allow := table.Match(method, path, &ps)
		wantSpec, wantVals, wantOK, wantAllow := refMatch(ref, method, path)
		if got != wantSpec || ok != wantOK || allow != wantAllow {
			t.Fatalf("Match(%q, %q) = %q, %v, %q; reference says %q, %v, %q",
				method, path, got, ok, allow, wantSpec, wantOK, wantAllow)
		}
		var vals []string
		for i := range ps.Len() {
			vals = append(vals, ps.Value(i))
		}
		if !slices.Equal(vals, wantVals) {
			t.Fatalf("Match(%q, %q) params = %q; reference says %q", method, path, vals, wantVals)
		}
		if ok && ps.Len() != strings.Count(got, "{") {
			t.Fatalf("Match(%q, %q) captured %d values for %q", method, path, ps.Len(), got)
		}
		// Matching again with a dirty Params gives the same answer.
		got2, ok2, allow2 := table.Match(method, path, &ps)
		if got2 != got || ok2 != ok || allow2 != allow || ps.Len() != len(vals) {
			t.Fatalf("second Match(%q, %q) differs", method, path)
		}
	})
}
