package router

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Route is one method + path template served by the table. Template uses
// OpenAPI syntax, e.g. "/open-banking/v4.0/aisp/accounts/{AccountId}/balances".
// Owner names who defined the route (a document id) so that conflict errors
// can point at the document to fix.
type Route[T any] struct {
	Method   string // upper case: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, TRACE
	Template string
	Owner    string
	Value    T
}

// Table is an immutable route table. It is built once per configuration
// snapshot and then read by many goroutines without locks; see the package
// documentation for the concurrency contract.
type Table[T any] struct {
	root   *node
	routes []Route[T]
	names  [][]string // parameter names per route, in template order
}

// Build validates routes and returns a table serving them. The input is
// copied, so the caller may reuse the slice.
//
// It returns a *TemplateError for a malformed template (not starting with
// "/", unbalanced or nested braces, an empty or duplicate parameter name,
// more than one parameter in a segment, more than MaxParams parameters), a
// *MethodError for a method outside the eight OpenAPI ones, and a
// *ConflictError when two routes have the same method and the same template
// once parameter names are ignored ("/a/{x}" and "/a/{y}" conflict, "/a/{x}"
// and "/a/b" do not), whatever their owners. The first problem in input
// order is reported.
func Build[T any](routes []Route[T]) (*Table[T], error) {
	t := &Table[T]{
		root:   &node{},
		routes: slices.Clone(routes),
		names:  make([][]string, len(routes)),
	}
	for i := range t.routes {
		r := &t.routes[i]
		m := methodIndex(r.Method)
		if m < 0 {
			return nil, &MethodError{Method: r.Method, Template: r.Template, Owner: r.Owner}
		}
		segs, names, reason := parseTemplate(r.Template)
		if reason != "" {
			return nil, &TemplateError{Method: r.Method, Template: r.Template, Owner: r.Owner, Reason: reason}
		}
		t.names[i] = names
		n := t.root
		for _, s := range segs {
			n = n.child(s)
		}
		if n.leaf == nil {
			n.leaf = newLeaf()
		}
		if prev := n.leaf.routes[m]; prev >= 0 {
			o := &t.routes[prev]
			return nil, &ConflictError{Method: r.Method, Template: r.Template, Owner: r.Owner,
				OtherTemplate: o.Template, OtherOwner: o.Owner}
		}
		n.leaf.routes[m] = int32(i)
	}
	t.root.freeze()
	return t, nil
}

// Len returns the number of routes in the table.
func (t *Table[T]) Len() int {
	if t == nil {
		return 0
	}
	return len(t.routes)
}

// Routes returns the routes in the order given to Build. It returns a copy so
// that no caller can mutate a table other goroutines are reading.
func (t *Table[T]) Routes() []Route[T] {
	if t == nil {
		return nil
	}
	return slices.Clone(t.routes)
}

// Match finds the route serving method and path.
//
// When a route matches, it returns the route's value and ok=true, and fills
// params with the parameter values (percent-decoded), names and template.
// When the path is served but not for this method, ok is false and allow is
// the comma-separated sorted list of methods that would be served ("GET,
// HEAD, POST"), ready for a 405 Allow header. When nothing serves the path,
// ok is false and allow is "".
//
// Matching is exact on the raw path, except that "" means "/". At each
// segment a literal beats a segment with a literal prefix or suffix around a
// parameter, which beats a whole-segment parameter, and a failed branch
// falls back to the next candidate. A parameter never matches an empty
// segment or one with a malformed percent-escape. HEAD is served by the GET
// route of a path that has no HEAD route.
//
// params may be nil when the caller needs no values. A nil table matches
// nothing. Match does not allocate unless a matched value holds a '%'.
func (t *Table[T]) Match(method, path string, params *Params) (value T, ok bool, allow string) {
	var scratch Params
	if params == nil {
		params = &scratch
	}
	params.n, params.names, params.template = 0, nil, ""
	if t == nil {
		return value, false, ""
	}
	if path == "" {
		path = "/"
	} else if path[0] != '/' {
		return value, false, ""
	}
	var mask uint8
	idx := t.root.find(path, methodIndex(method), params, 0, &mask)
	if idx < 0 {
		params.n = 0
		return value, false, allowLists[mask]
	}
	for i := range params.n {
		if v := params.values[i]; strings.IndexByte(v, '%') >= 0 {
			d, err := url.PathUnescape(v)
			if err != nil { // unreachable: find checked the escapes
				params.n = 0
				return value, false, ""
			}
			params.values[i] = d
		}
	}
	params.names = t.names[idx]
	params.template = t.routes[idx].Template
	return t.routes[idx].Value, true, ""
}

// Methods are numbered in alphabetical order so that walking the bits of a
// mask from low to high yields a sorted Allow list.
const (
	mDELETE = iota
	mGET
	mHEAD
	mOPTIONS
	mPATCH
	mPOST
	mPUT
	mTRACE
	numMethods
)

var methodNames = [numMethods]string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}

// allowLists holds the Allow header for every set of methods, so that a 405
// answer built from the union of several candidate routes costs nothing.
var allowLists = func() (lists [1 << numMethods]string) {
	for mask := range lists {
		var names []string
		for m := range numMethods {
			if mask&(1<<m) != 0 {
				names = append(names, methodNames[m])
			}
		}
		lists[mask] = strings.Join(names, ", ")
	}
	return lists
}()

func methodIndex(method string) int {
	switch method {
	case "GET":
		return mGET
	case "POST":
		return mPOST
	case "PUT":
		return mPUT
	case "DELETE":
		return mDELETE
	case "PATCH":
		return mPATCH
	case "HEAD":
		return mHEAD
	case "OPTIONS":
		return mOPTIONS
	case "TRACE":
		return mTRACE
	}
	return -1
}

// segment is one parsed template segment. Two segments that differ only in
// the parameter name share a node, which is what makes such templates
// conflict.
type segment struct {
	param          bool
	prefix, suffix string // literal text around the parameter, or the whole literal
}

// parseTemplate splits a template into segments and collects its parameter
// names, returning a reason when the template is malformed.
func parseTemplate(tpl string) (segs []segment, names []string, reason string) {
	if !strings.HasPrefix(tpl, "/") {
		return nil, nil, `the template does not start with "/"`
	}
	for _, s := range strings.Split(tpl[1:], "/") {
		opens, closes := strings.Count(s, "{"), strings.Count(s, "}")
		if opens == 0 && closes == 0 {
			segs = append(segs, segment{prefix: s})
			continue
		}
		o, c := strings.IndexByte(s, '{'), strings.IndexByte(s, '}')
		switch {
		case opens != closes || c < o:
			return nil, nil, fmt.Sprintf("unbalanced braces in segment %q", s)
		case strings.IndexByte(s[o+1:c], '{') >= 0:
			return nil, nil, fmt.Sprintf("nested braces in segment %q", s)
		case opens > 1:
			return nil, nil, fmt.Sprintf("segment %q holds more than one parameter", s)
		case o+1 == c:
			return nil, nil, fmt.Sprintf("empty parameter name in segment %q", s)
		}
		name := s[o+1 : c]
		if slices.Contains(names, name) {
			return nil, nil, fmt.Sprintf("parameter %q appears more than once", name)
		}
		if len(names) == MaxParams {
			return nil, nil, fmt.Sprintf("more than %d parameters", MaxParams)
		}
		names = append(names, name)
		segs = append(segs, segment{param: true, prefix: s[:o], suffix: s[c+1:]})
	}
	return segs, names, ""
}

// staticMapMin is the number of literal children from which a map beats a
// linear scan of the keys.
const staticMapMin = 9

// node is one segment position in the trie. Children are tried literal
// first, then mixed segments, then the whole-segment parameter.
type node struct {
	staticKeys  []string
	staticNodes []*node
	staticMap   map[string]*node // set instead of the slices for wide nodes
	mixed       []mixedEdge      // most specific first
	param       *node
	leaf        *leaf // routes ending here; nil if none
}

type mixedEdge struct {
	prefix, suffix string
	child          *node
}

// leaf holds the routes ending at a node, by method.
type leaf struct {
	routes [numMethods]int32 // index into Table.routes, -1 if none; HEAD falls back to GET after freeze
	mask   uint8             // methods served, HEAD included when GET is
}

func newLeaf() *leaf {
	l := &leaf{}
	for i := range l.routes {
		l.routes[i] = -1
	}
	return l
}

// child returns the node for s below n, creating it.
func (n *node) child(s segment) *node {
	switch {
	case !s.param:
		if i := slices.Index(n.staticKeys, s.prefix); i >= 0 {
			return n.staticNodes[i]
		}
		c := &node{}
		n.staticKeys = append(n.staticKeys, s.prefix)
		n.staticNodes = append(n.staticNodes, c)
		return c
	case s.prefix == "" && s.suffix == "":
		if n.param == nil {
			n.param = &node{}
		}
		return n.param
	default:
		for _, e := range n.mixed {
			if e.prefix == s.prefix && e.suffix == s.suffix {
				return e.child
			}
		}
		c := &node{}
		n.mixed = append(n.mixed, mixedEdge{prefix: s.prefix, suffix: s.suffix, child: c})
		return c
	}
}

// freeze puts the subtree in its read-only form: matching order for mixed
// segments, maps for wide nodes, HEAD fallback and Allow masks.
func (n *node) freeze() {
	slices.SortFunc(n.mixed, func(a, b mixedEdge) int {
		return cmp.Or(
			cmp.Compare(len(b.prefix)+len(b.suffix), len(a.prefix)+len(a.suffix)),
			cmp.Compare(len(b.prefix), len(a.prefix)),
			strings.Compare(a.prefix, b.prefix),
			strings.Compare(a.suffix, b.suffix))
	})
	if len(n.staticKeys) >= staticMapMin {
		n.staticMap = make(map[string]*node, len(n.staticKeys))
		for i, k := range n.staticKeys {
			n.staticMap[k] = n.staticNodes[i]
		}
		n.staticKeys, n.staticNodes = nil, nil
	}
	if l := n.leaf; l != nil {
		if l.routes[mHEAD] < 0 {
			l.routes[mHEAD] = l.routes[mGET]
		}
		for m, r := range l.routes {
			if r >= 0 {
				l.mask |= 1 << m
			}
		}
	}
	for _, c := range n.staticNodes {
		c.freeze()
	}
	for _, c := range n.staticMap {
		c.freeze()
	}
	for _, e := range n.mixed {
		e.child.freeze()
	}
	if n.param != nil {
		n.param.freeze()
	}
}

func (n *node) static(seg string) *node {
	if n.staticMap != nil {
		return n.staticMap[seg]
	}
	for i, k := range n.staticKeys {
		if k == seg {
			return n.staticNodes[i]
		}
	}
	return nil
}

// find matches the rest of the path p ("" or starting with "/") below n for
// method m (-1: a method no route has), with k parameters captured so far.
// It returns the route index or -1, and ORs into mask the methods of every
// route whose template matches the path, which on a miss is the Allow list.
// Each node is visited at most once, so a miss costs at most the trie size.
func (n *node) find(p string, m int, ps *Params, k int, mask *uint8) int32 {
	if p == "" {
		l := n.leaf
		if l == nil {
			return -1
		}
		*mask |= l.mask
		if m >= 0 && l.routes[m] >= 0 {
			ps.n = k
			return l.routes[m]
		}
		return -1
	}
	seg, next := p[1:], ""
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg, next = seg[:i], seg[i:]
	}
	if c := n.static(seg); c != nil {
		if r := c.find(next, m, ps, k, mask); r >= 0 {
			return r
		}
	}
	for i := range n.mixed {
		e := &n.mixed[i]
		if len(seg) > len(e.prefix)+len(e.suffix) && strings.HasPrefix(seg, e.prefix) && strings.HasSuffix(seg, e.suffix) {
			v := seg[len(e.prefix) : len(seg)-len(e.suffix)]
			if !validEscapes(v) {
				continue
			}
			ps.values[k] = v
			if r := e.child.find(next, m, ps, k+1, mask); r >= 0 {
				return r
			}
		}
	}
	if n.param != nil && seg != "" && validEscapes(seg) {
		ps.values[k] = seg
		if r := n.param.find(next, m, ps, k+1, mask); r >= 0 {
			return r
		}
	}
	return -1
}

// validEscapes reports whether every '%' in v starts a two-digit hex escape,
// the only way url.PathUnescape can fail, so that decoding can wait until a
// route has matched.
func validEscapes(v string) bool {
	for i := strings.IndexByte(v, '%'); i >= 0; {
		if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) {
			return false
		}
		j := strings.IndexByte(v[i+3:], '%')
		if j < 0 {
			return true
		}
		i += 3 + j
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
