package apidoc

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/internal/jsonptr"
)

// source is a document merged into the description.
type source struct {
	tree map[string]any
	// resolve follows a local reference of the document that does not name
	// a component; nil when there are none.
	resolve func(ref string) (any, bool)
	prefix  string // added to a component name another document uses
	tag     string // of each of its operations
	ops     []served
}

// served is one operation of a document as it is served.
type served struct {
	path, method string         // where it is served, the method lower case
	op, item     map[string]any // the operation and its path item, as written
	id           string         // its operation id before clashes are resolved
	extra        map[string]any // set on the operation as it is described
}

// addEndpoint describes the live operations of one dynamic endpoint from
// its document, at the paths they are served at (mount and bank prefix).
func (d *doc) addEndpoint(ep *endpoints.Endpoint) {
	root, _ := ep.Doc.Resolve("#")
	tree, _ := root.(map[string]any)
	src := source{tree: tree, resolve: ep.Doc.Resolve, prefix: ep.Doc.Title, tag: ep.Doc.Title}
	for _, op := range ep.Doc.Operations {
		raw, _ := ep.Doc.Resolve("#" + op.Pointer)
		item, _ := ep.Doc.Resolve("#" + op.Pointer[:strings.LastIndexByte(op.Pointer, '/')])
		s := served{path: ep.ServedPath(op), method: strings.ToLower(op.Method), id: op.ID,
			extra: map[string]any{"x-dynapi-dynamic-endpoint-id": ep.ID}}
		s.op, _ = raw.(map[string]any)
		s.item, _ = item.(map[string]any)
		switch {
		case ep.Consent.Uses(op.ID):
			// Answered under a consent (docs/decisions/0039), not a role.
			b := ep.Consent.Profile.Operations[op.ID]
			c := map[string]any{"profile": ep.Consent.Profile.ID, "any_of": anyList(b.AnyOf)}
			if b.AccountParam != "" {
				c["account_param"] = b.AccountParam
			}
			s.extra["x-dynapi-consent"] = c
			if op.Access.RolesDeclared {
				s.extra["x-dynapi-roles"] = anyList(op.Access.Roles)
			}
		case op.Access.Public:
			s.extra["security"] = []any{}
		case op.Access.RolesDeclared:
			s.extra["x-dynapi-roles"] = anyList(op.Access.Roles)
		default:
			s.extra["x-dynapi-roles"] = []any{ep.RoleOf(op)}
		}
		src.ops = append(src.ops, s)
	}
	d.addDocument(src)
}

// addEntity describes the record API of one entity from the document it
// is generated as.
func (d *doc) addEntity(e *dynentity.Entity) {
	tree := e.OpenAPI()
	info, _ := tree["info"].(map[string]any)
	title, _ := info["title"].(string)
	src := source{tree: tree, prefix: "DynamicEntity", tag: title}
	paths, _ := tree["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item, _ := paths[path].(map[string]any)
		for _, method := range methods {
			if op, ok := item[method].(map[string]any); ok {
				id, _ := op["operationId"].(string)
				src.ops = append(src.ops, served{path: path, method: method, op: op, item: item, id: id})
			}
		}
	}
	d.addDocument(src)
}

// methods are the operations of a path item, in the order they are added.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// addDocument merges a document's components, renamed where another
// document has taken the name, and its served operations, each with the
// parameters of its path item, the document's tag, a unique operation id
// and dynapi's security rather than the document's.
func (d *doc) addDocument(src source) {
	w := rewriter{src: src, names: d.addComponents(src)}
	w.copyComponents(d, src)
	for _, s := range src.ops {
		o, _ := w.copy(s.op, 0).(map[string]any)
		if o == nil {
			continue
		}
		if params := w.parameters(s.item["parameters"], s.op["parameters"]); len(params) > 0 {
			o["parameters"] = params
		}
		delete(o, "servers")
		delete(o, "security")
		o["tags"] = []any{src.tag}
		o["operationId"] = d.operationID(s.id)
		for k, v := range s.extra {
			o[k] = v
		}
		item, _ := d.paths[s.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			d.paths[s.path] = item
		}
		item[s.method] = o
	}
}

// addComponents picks the name each of the document's components gets:
// its own, or the document's prefix and its own when another document
// has the name, with a number when that is taken too. The result maps
// section and escaped name to the new name.
func (d *doc) addComponents(src source) map[string]map[string]string {
	comps, _ := src.tree["components"].(map[string]any)
	names := map[string]map[string]string{}
	for section, v := range comps {
		if section == "securitySchemes" { // dynapi's own apply
			continue
		}
		m, _ := v.(map[string]any)
		if d.components[section] == nil {
			d.components[section] = map[string]any{}
		}
		taken := d.components[section]
		names[section] = map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(m)) {
			out := name
			if _, clash := taken[out]; clash {
				base := componentName(src.prefix) + "_" + name
				out = base
				for n := 2; taken[out] != nil; n++ {
					out = base + "_" + strconv.Itoa(n)
				}
			}
			taken[out] = true // a placeholder until copyComponents
			names[section][jsonptr.Escape(name)] = out
		}
	}
	return names
}

// nameRule is what a component name may hold (OpenAPI 3.1, 4.8.7.1).
var nameRule = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func componentName(prefix string) string {
	if prefix = nameRule.ReplaceAllString(prefix, "_"); prefix == "" {
		return "Document"
	}
	return prefix
}

// rewriter copies parts of a document with its references changed to the
// renamed components.
type rewriter struct {
	src   source
	names map[string]map[string]string
}

// copyComponents adds the document's components under their new names.
func (w rewriter) copyComponents(d *doc, src source) {
	comps, _ := src.tree["components"].(map[string]any)
	for section, byName := range w.names {
		m, _ := comps[section].(map[string]any)
		for name, v := range m {
			d.components[section][byName[jsonptr.Escape(name)]] = w.copy(v, 0)
		}
	}
}

// maxInline bounds references to outside the components inlined within
// one another (a recursive one becomes {}).
const maxInline = 16

// copy returns a deep copy of v with every reference to a component
// renamed and every other local reference inlined.
func (w rewriter) copy(v any, depth int) any {
	switch n := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, x := range n {
			out[k] = w.copy(x, depth)
		}
		if ref, ok := n["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			if renamed, ok := w.rename(ref); ok {
				out["$ref"] = renamed
				return out
			}
			if depth >= maxInline || w.src.resolve == nil {
				return map[string]any{}
			}
			target, ok := w.src.resolve(ref)
			if !ok {
				return map[string]any{}
			}
			return w.copy(target, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, x := range n {
			out[i] = w.copy(x, depth)
		}
		return out
	}
	return v
}

// rename returns ref with the component it points into renamed.
func (w rewriter) rename(ref string) (string, bool) {
	if strings.Contains(ref, "%") {
		if u, err := url.PathUnescape(ref); err == nil {
			ref = u
		}
	}
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok {
		return "", false
	}
	section, rest, _ := strings.Cut(rest, "/")
	name, tail, hasTail := strings.Cut(rest, "/")
	renamed, ok := w.names[section][name]
	if !ok {
		return "", false
	}
	out := "#/components/" + section + "/" + jsonptr.Escape(renamed)
	if hasTail {
		out += "/" + tail
	}
	return out, true
}

// parameters merges a path item's parameters into an operation's, which
// override those of the same name and location.
func (w rewriter) parameters(fromItem, fromOp any) []any {
	own, _ := fromOp.([]any)
	shared, _ := fromItem.([]any)
	seen := map[string]bool{}
	var out []any
	for _, p := range own {
		seen[w.paramKey(p)] = true
		out = append(out, w.copy(p, 0))
	}
	for _, p := range shared {
		if !seen[w.paramKey(p)] {
			out = append(out, w.copy(p, 0))
		}
	}
	return out
}

// paramKey is a parameter's location and name, after its references.
func (w rewriter) paramKey(p any) string {
	for range maxInline {
		m, _ := p.(map[string]any)
		ref, isRef := m["$ref"].(string)
		if !isRef || w.src.resolve == nil {
			in, _ := m["in"].(string)
			name, _ := m["name"].(string)
			return in + " " + name
		}
		p, _ = w.src.resolve(ref)
	}
	return ""
}

// componentsOut is the description's components: every document's and
// dynapi's security schemes.
func (d *doc) componentsOut() map[string]any {
	out := map[string]any{"securitySchemes": securitySchemes}
	for section, m := range d.components {
		if len(m) > 0 || section == "schemas" {
			out[section] = m
		}
	}
	return out
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
