package specs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/internal/rolename"
)

// DefaultMount is where operations are served when the document names no
// server path or basePath.
const DefaultMount = "/dynamic-endpoint"

// DefaultMaxOperations is how many operations a document may have unless
// Options say otherwise: far above the real bank documents (UK Open
// Banking's largest has 41), far below what would make loading slow.
const DefaultMaxOperations = 1000

// Options steer Load.
type Options struct {
	// SchemaBase is the absolute URL under which the document's schemas are
	// compiled, e.g. "https://dynapi.invalid/documents/42/". It only ever
	// appears in logs, never a file path. Empty means a fixed default.
	SchemaBase string
	// MaxOperations refuses a document with more operations, before
	// anything is compiled (0: DefaultMaxOperations).
	MaxOperations int
	// YAMLExpansion is how many times its own size a YAML document may grow
	// to once its aliases are expanded (0: DefaultYAMLExpansion).
	YAMLExpansion int
}

// Document is a loaded, compiled API description.
type Document struct {
	Title       string
	Version     string
	SpecVersion string // "2.0", "3.0.3", "3.1.0", ...
	// Mount is the path prefix from the first server URL or basePath,
	// DefaultMount when there is none; "" stands for the root.
	Mount string
	// Host is the answering mode the document asks for (x-dynapi-host, or a
	// Swagger 2.0 host that names a mode); "" when it names none.
	Host string
	// ConsentProfile is the consent profile the document asks for
	// (x-dynapi-consent-profile: a profile id, or "none"); "" when it names
	// none.
	ConsentProfile string
	// Events is x-dynapi-events: "none" has the document's host answer
	// the UK events API operations the engine would answer itself; ""
	// when it is not set.
	Events string
	// ServerHost is the API's own server host (petstore.swagger.io), which
	// dynapi never calls by default.
	ServerHost string
	Operations []*Operation
	Warnings   []engine.Violation

	tree any // the OpenAPI 3 form of the document, for examples and samples
	size int // values in tree, which bounds what Inline makes
	// order is, while the document loads, the key order of its source.
	order *keyOrder
}

// Resolve returns the value a local reference ("#/components/schemas/A")
// points to.
func (d *Document) Resolve(ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#") {
		return nil, false
	}
	return resolveFragment(d.tree, ref[1:])
}

// Inline returns node with every local reference replaced by what it
// points to, so that a schema stands on its own; node is not changed. A
// reference nested deeper than maxInline (a recursive schema), one that
// points nowhere, and one met once the result holds inlineExpansion times
// the document's values (plus inlineSlack) become {}: references can nest
// into exponentially more than the document holds.
func (d *Document) Inline(node any) any {
	budget := inlineExpansion*d.size + inlineSlack
	return d.inline(node, 0, &budget)
}

// Bounds of Inline: maxInline references within one another, and what one
// call may make. Inlining the largest real bank document's schemas makes
// about twice its values.
const (
	maxInline       = 16
	inlineExpansion = 4
	inlineSlack     = 16 << 10
)

func (d *Document) inline(node any, depth int, budget *int) any {
	*budget--
	if depth > maxInline {
		return map[string]any{}
	}
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok {
			target, found := d.Resolve(ref)
			if !found || *budget < 0 {
				return map[string]any{}
			}
			return d.inline(target, depth+1, budget)
		}
		out := make(map[string]any, len(n))
		for k, v := range n {
			out[k] = d.inline(v, depth, budget)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, v := range n {
			out[i] = d.inline(v, depth, budget)
		}
		return out
	}
	return node
}

// countValues counts the values in a decoded tree.
func countValues(v any) int {
	n := 1
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += countValues(e)
		}
	case []any:
		for _, e := range x {
			n += countValues(e)
		}
	}
	return n
}

// Deref follows $ref chains from node until it reaches an object without
// one, returning it; node itself when it is no reference.
func (d *Document) Deref(node any) any { return derefChain(d.tree, node) }

// derefChain follows local $ref chains from node inside tree, at most 32
// references deep, and returns the first object that is no reference (or
// whose reference points nowhere).
func derefChain(tree, node any) any {
	for range 32 {
		m, ok := node.(map[string]any)
		if !ok {
			return node
		}
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return node
		}
		target, ok := resolveFragment(tree, ref[1:])
		if !ok {
			return node
		}
		node = target
	}
	return node
}

var methodOrder = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Load parses, checks and compiles a Swagger 2.0 or OpenAPI 3.x document.
// Every error is an *engine.Error naming what is wrong and where.
func Load(data []byte, contentType string, opts Options) (*Document, error) {
	tree, err := decode(data, contentType, opts.YAMLExpansion)
	if err != nil {
		return nil, err
	}
	root, ok := tree.(map[string]any)
	if !ok {
		return nil, invalid("the document must be a JSON or YAML object")
	}
	doc := &Document{}
	swagger, _ := root["swagger"].(string)
	openapi, _ := root["openapi"].(string)
	switch {
	case swagger == "2.0":
		doc.SpecVersion = swagger
	case strings.HasPrefix(openapi, "3.0.") || strings.HasPrefix(openapi, "3.1."):
		doc.SpecVersion = openapi
	case swagger != "" || openapi != "":
		return nil, invalid(fmt.Sprintf("unsupported version %q: dynapi accepts Swagger 2.0, OpenAPI 3.0.x and 3.1.x", swagger+openapi))
	default:
		return nil, invalid("the document has neither a \"swagger\" nor an \"openapi\" version field")
	}
	if err := checkInfoAndPaths(root); err != nil {
		return nil, err
	}
	if err := checkOperationCount(root, opts.MaxOperations); err != nil {
		return nil, err
	}

	warnings, faults := checkRefs(root)
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeUnresolvedRef,
			"the document has references that cannot be resolved", faults...)
	}
	doc.Warnings = warnings
	doc.Host, _ = root["x-dynapi-host"].(string)
	doc.ConsentProfile, _ = root["x-dynapi-consent-profile"].(string)
	if doc.Events, _ = root["x-dynapi-events"].(string); doc.Events != "" && doc.Events != EventsNone {
		doc.warn("/x-dynapi-events", "ignored", `x-dynapi-events is "none" or absent; other values are ignored`)
	}
	// kin-openapi reads the submitted JSON text unless checkRefs fixed a
	// reference in the tree (its only warnings), which the text still lacks.
	var source []byte
	if len(warnings) == 0 {
		source = jsonSource(data, contentType)
	}

	// checked waits for kin-openapi's structural check of an OpenAPI 3
	// document, which runs beside the compilation; its refusal wins over
	// any later one, as when it ran first.
	checked := func() error { return nil }
	if swagger != "" {
		if doc.tree, err = convertSwagger2(root, source, doc); err != nil {
			return nil, err
		}
		doc.order = swagger2KeyOrder(root)
	} else {
		if checked, err = startOpenAPI3Check(root, source); err != nil {
			return nil, err
		}
		doc.tree = root
		doc.order = newKeyOrder(data, contentType)
		var fault string
		doc.Mount, doc.ServerHost, fault = serverMount(root)
		if fault != "" {
			return nil, cmp.Or(checked(), error(invalid("the server URL is ambiguous: "+fault, engine.Violation{Location: "document",
				Pointer: "/servers/0/url", Code: "ambiguous_path", Message: "the server URL's path is ambiguous: " + fault})))
		}
	}
	if err := doc.compile(opts); err != nil {
		return nil, cmp.Or(checked(), err)
	}
	if err := checked(); err != nil {
		return nil, err
	}
	return doc, nil
}

// compile reads the OpenAPI 3 tree's info and compiles its operations.
func (doc *Document) compile(opts Options) error {
	v3 := doc.tree.(map[string]any)
	doc.size = countValues(v3)
	if info, ok := v3["info"].(map[string]any); ok {
		doc.Title, _ = info["title"].(string)
		doc.Version = scalarString(info["version"])
	}
	if doc.ServerHost != "" && doc.Host == "" {
		doc.warn("/servers", "server_not_called", fmt.Sprintf(
			"the API's own server %s is never called: operations answer from the document's examples (obp_mock) until a host or connector is set", doc.ServerHost))
	}
	c, err := newCompiler(doc, opts.SchemaBase)
	if err != nil {
		return err
	}
	err = doc.buildOperations(v3, c)
	doc.order = nil
	return err
}

// checkInfoAndPaths refuses a document without an info object (with a
// title and a version) or without a paths object. OpenAPI 3.1 allows a
// document of webhooks or components alone, but dynapi serves what is
// under paths, so such a document would serve nothing.
func checkInfoAndPaths(root map[string]any) error {
	var faults []engine.Violation
	fault := func(pointer, code, msg string) {
		faults = append(faults, engine.Violation{Location: "document", Pointer: pointer, Code: code, Message: msg})
	}
	switch info, ok := root["info"].(map[string]any); {
	case root["info"] == nil:
		fault("/info", "required", "the document has no \"info\" object")
	case !ok:
		fault("/info", "type", "\"info\" must be an object")
	default:
		if title, ok := info["title"].(string); !ok || strings.TrimSpace(title) == "" {
			fault("/info/title", "required", "info needs a title")
		}
		if scalarString(info["version"]) == "" {
			fault("/info/version", "required", "info needs a version")
		}
	}
	switch _, ok := root["paths"].(map[string]any); {
	case root["paths"] == nil:
		fault("/paths", "required", "the document has no \"paths\" object: dynapi serves the operations under paths (a document of webhooks or components alone has none)")
	case !ok:
		fault("/paths", "type", "\"paths\" must be an object")
	}
	if len(faults) > 0 {
		return invalid("the document lacks what every API description needs", faults...)
	}
	return nil
}

// checkOperationCount refuses a document with more than max operations
// (0: DefaultMaxOperations), counting before anything is compiled.
func checkOperationCount(root map[string]any, max int) error {
	if max <= 0 {
		max = DefaultMaxOperations
	}
	paths, _ := root["paths"].(map[string]any)
	n := 0
	for _, item := range paths {
		m, _ := derefChain(root, item).(map[string]any)
		for _, method := range methodOrder {
			if _, ok := m[method].(map[string]any); ok {
				n++
			}
		}
	}
	if n > max {
		msg := fmt.Sprintf("the document has %d operations; at most %d are accepted in one document", n, max)
		return engine.NewError(http.StatusRequestEntityTooLarge, engine.CodePayloadTooLarge, msg,
			engine.Violation{Location: "document", Pointer: "/paths", Code: "max_operations", Message: msg})
	}
	return nil
}

func invalid(msg string, violations ...engine.Violation) *engine.Error {
	return engine.NewError(http.StatusBadRequest, engine.CodeInvalidDocument, msg, violations...)
}

// EventsNone, as x-dynapi-events, has the document's host answer the UK
// events API instead of the engine.
const EventsNone = "none"

func (d *Document) warn(pointer, code, msg string) {
	d.Warnings = append(d.Warnings, engine.Violation{Location: "document", Pointer: pointer, Code: code, Message: msg})
}

// startOpenAPI3Check starts kin-openapi's parse of the document in the
// background and returns what waits for its verdict. It parses source, the
// document's JSON text, or when that is nil a copy of root encoded now
// (compiling rewrites the tree). kin-openapi's parse is nearly half of the
// loading; beside the compilation it costs no waiting where a second CPU is
// free.
func startOpenAPI3Check(root map[string]any, source []byte) (wait func() error, err error) {
	raw := source
	if raw == nil {
		if raw, err = json.Marshal(root); err != nil {
			return nil, engine.Internal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- engine.Internal(fmt.Errorf("specs: kin-openapi panicked: %v", r))
			}
		}()
		done <- checkOpenAPI3(raw)
	}()
	return sync.OnceValue(func() error { return <-done }), nil
}

// jsonSource returns the JSON text of the document without its
// whitespace, which says to kin-openapi what the decoded tree encoded again
// would say as long as nothing changed the tree: the decoder refused every
// duplicate key, invalid UTF-8 and lone surrogate, and kept each number's
// text. Compacting is one pass over the text, where encoding the tree
// walks and sorts every map; without it kin-openapi, which scans each
// object's text once per level above it, would scan the indentation of a
// pretty-printed document as often. It returns nil for YAML and for JSON
// behind a byte order mark, which encoding/json refuses and the decoder
// skips.
func jsonSource(data []byte, contentType string) []byte {
	if !isJSON(data, contentType) || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
		return nil
	}
	var compact bytes.Buffer
	compact.Grow(len(data))
	if json.Compact(&compact, data) != nil {
		return nil
	}
	return compact.Bytes()
}

// checkOpenAPI3 lets kin-openapi parse the document, so structural errors
// (a parameter that is a string, an unknown "in") are refused with its
// message. The document goes to kin-openapi as JSON encoded from the
// decoded tree, never through its YAML parser, which is quadratic on
// one-line JSON and would expand aliases of its own.
func checkOpenAPI3(raw []byte) error {
	var doc openapi3.T
	if err := json.Unmarshal(raw, &doc); err != nil {
		return invalid("the document is not a valid OpenAPI document: " + err.Error())
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	if err := loader.ResolveRefsIn(&doc, nil); err != nil {
		return invalid("the document is not a valid OpenAPI document: " + err.Error())
	}
	return nil
}

// convertSwagger2 converts a Swagger 2.0 document to OpenAPI 3.0 with
// kin-openapi and returns the result as a generic tree. kin-openapi reads
// source, the document's JSON text, or when that is nil root encoded
// again (see jsonSource). It sets the mount from basePath and reads the
// mode or server from host.
func convertSwagger2(root map[string]any, source []byte, doc *Document) (any, error) {
	raw, err := source, error(nil)
	if raw == nil {
		if raw, err = json.Marshal(root); err != nil {
			return nil, engine.Internal(err)
		}
	}
	var v2 openapi2.T
	if err := json.Unmarshal(raw, &v2); err != nil {
		return nil, invalid("the document is not a valid Swagger 2.0 document: " + err.Error())
	}
	switch host := v2.Host; {
	case isModeName(host):
		if doc.Host == "" {
			doc.Host = host
		}
		v2.Host = ""
	case host != "":
		doc.ServerHost = host
	}
	if fault := PathFault(v2.BasePath); fault != "" {
		return nil, invalid("the basePath is ambiguous: "+fault, engine.Violation{Location: "document",
			Pointer: "/basePath", Code: "ambiguous_path", Message: "the basePath is ambiguous: " + fault})
	}
	doc.Mount = normaliseMount(v2.BasePath)
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return nil, invalid("the Swagger 2.0 document cannot be converted: " + err.Error())
	}
	raw, err = json.Marshal(v3)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return decode(raw, "application/json", 0)
}

// isModeName tells whether a Swagger 2.0 host is an OBP-style mode name
// (obp_mock, dynamic_entity, a connector) rather than a network host.
func isModeName(host string) bool {
	return host != "" && !strings.ContainsAny(host, ".:") && strings.Contains(host, "_") || host == "mock"
}

var serverVariable = regexp.MustCompile(`\{([^}]*)\}`)

// serverMount returns the path part and host of the first server URL, with
// server variables replaced by their defaults, or why that path is
// ambiguous.
func serverMount(root map[string]any) (mount, host, fault string) {
	servers, _ := root["servers"].([]any)
	if len(servers) == 0 {
		return DefaultMount, "", ""
	}
	server, _ := servers[0].(map[string]any)
	raw, _ := server["url"].(string)
	vars, _ := server["variables"].(map[string]any)
	raw = serverVariable.ReplaceAllStringFunc(raw, func(m string) string {
		v, _ := vars[m[1:len(m)-1]].(map[string]any)
		if def, ok := v["default"].(string); ok {
			return def
		}
		return ""
	})
	u, err := url.Parse(raw)
	if err != nil {
		return DefaultMount, "", ""
	}
	if fault := cmp.Or(PathFault(u.EscapedPath()), PathFault(u.Path)); fault != "" {
		return "", "", fault
	}
	return normaliseMount(u.Path), u.Host, ""
}

// PathFault tells why a path prefix or template is ambiguous, or returns
// "" when it is not: a "." or ".." segment, a '\', or a percent-encoded
// '.', '/', '\' or '%', which a proxy, a client and the router may each
// resolve differently.
func PathFault(p string) string {
	if strings.ContainsRune(p, '\\') {
		return "it holds a '\\'"
	}
	lower := strings.ToLower(p)
	for _, encoded := range []string{"%2e", "%2f", "%5c", "%25"} {
		if strings.Contains(lower, encoded) {
			return "it percent-encodes '.', '/', '\\' or '%' (" + encoded + ")"
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "it has a \"" + seg + "\" segment"
		}
	}
	return ""
}

// normaliseMount turns a base path into a mount: a leading '/', no trailing
// '/', "" for the root and DefaultMount when there is no path at all.
func normaliseMount(p string) string {
	if p == "" {
		return DefaultMount
	}
	p = "/" + strings.Trim(p, "/")
	if p == "/" {
		return ""
	}
	return p
}

// NormaliseMount cleans a mount given by an administrator: "/" and "" mean
// the root, which is returned as "".
func NormaliseMount(p string) string {
	p = "/" + strings.Trim(p, "/")
	if p == "/" {
		return ""
	}
	return p
}

// buildOperations walks paths in a stable order and compiles every
// operation.
func (d *Document) buildOperations(v3 map[string]any, c *compiler) error {
	paths, _ := v3["paths"].(map[string]any)
	ids := map[string]int{}
	var faults []engine.Violation
	for _, path := range sortedKeys(paths) {
		itemNode, itemPtr := d.derefAt(paths[path], ptr("", "paths", path))
		item, ok := itemNode.(map[string]any)
		if !ok {
			faults = append(faults, engine.Violation{Location: "document", Pointer: itemPtr, Code: "invalid", Message: "a path item must be an object"})
			continue
		}
		if !strings.HasPrefix(path, "/") {
			faults = append(faults, engine.Violation{Location: "document", Pointer: itemPtr, Code: "invalid", Message: "a path must start with '/'"})
			continue
		}
		if fault := PathFault(path); fault != "" {
			faults = append(faults, engine.Violation{Location: "document", Pointer: ptr("", "paths", path), Code: "ambiguous_path",
				Message: "the path is ambiguous: " + fault})
			continue
		}
		for _, method := range methodOrder {
			raw, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			op, err := d.buildOperation(c, path, method, item, raw, ptr(itemPtr, method), ids)
			if err != nil {
				var e *engine.Error
				if !errors.As(err, &e) {
					return err
				}
				faults = append(faults, e.Violations...)
				continue
			}
			d.Operations = append(d.Operations, op)
		}
	}
	if len(faults) > 0 {
		return invalid("the document has operations that cannot be served", faults...)
	}
	return nil
}

// buildOperation compiles one operation.
func (d *Document) buildOperation(c *compiler, path, method string, item, raw map[string]any, at string, ids map[string]int) (*Operation, error) {
	op := &Operation{Method: strings.ToUpper(method), Path: path, Pointer: at}
	op.Summary, _ = raw["summary"].(string)
	op.ID, _ = raw["operationId"].(string)
	if op.ID == "" {
		op.ID = generatedID(method, path)
		d.warn(at, "operation_id_generated", "the operation has no operationId; using "+strconv.Quote(op.ID))
	}
	if n := ids[op.ID]; n > 0 {
		unique := op.ID + "_" + strconv.Itoa(n+1)
		d.warn(ptr(at, "operationId"), "operation_id_duplicate", "operationId "+strconv.Quote(op.ID)+" is used twice; this one becomes "+strconv.Quote(unique))
		ids[op.ID] = n + 1
		op.ID = unique
	} else {
		ids[op.ID] = 1
	}
	if err := d.buildParameters(c, op, item, raw, at); err != nil {
		return nil, err
	}
	if err := d.buildBody(c, op, raw, at); err != nil {
		return nil, err
	}
	d.buildResponses(c, op, raw, at)
	access, err := d.buildAccess(raw, at)
	if err != nil {
		return nil, err
	}
	op.Access = access
	return op, nil
}

// buildAccess reads x-dynapi-roles and x-dynapi-public.
func (d *Document) buildAccess(raw map[string]any, at string) (Access, error) {
	var a Access
	if roles, ok := raw["x-dynapi-roles"]; ok {
		list, isList := roles.([]any)
		if !isList {
			return a, invalid("", engine.Violation{Location: "document", Pointer: ptr(at, "x-dynapi-roles"), Code: "invalid",
				Message: "x-dynapi-roles must be a list of role names"})
		}
		a.RolesDeclared = true
		a.Roles = []string{}
		for i, r := range list {
			name, ok := r.(string)
			if !ok || !rolename.Valid(name) {
				return a, invalid("", engine.Violation{Location: "document", Pointer: ptr(at, "x-dynapi-roles", strconv.Itoa(i)), Code: "invalid",
					Message: rolename.Rule})
			}
			a.Roles = append(a.Roles, name)
		}
	}
	if public, _ := raw["x-dynapi-public"].(bool); public {
		security, declared := raw["security"].([]any)
		if !declared || len(security) != 0 {
			d.warn(ptr(at, "x-dynapi-public"), "public_ignored",
				"x-dynapi-public is ignored unless the operation also declares security: []")
		} else {
			a.Public = true
		}
	}
	return a, nil
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// generatedID makes a stable operationId from method and path:
// GET /pets/{petId} -> get_pets_petId.
func generatedID(method, path string) string {
	return strings.Trim(nonWord.ReplaceAllString(method+"_"+path, "_"), "_")
}

// templateParams returns the parameter names of a path template in order.
func templateParams(path string) []string {
	var names []string
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, path[i+1:i+j])
		path = path[i+j+1:]
	}
}

// buildParameters merges path-level and operation-level parameters (the
// operation's win on name + in) and compiles their schemas.
func (d *Document) buildParameters(c *compiler, op *Operation, item, raw map[string]any, at string) error {
	type located struct {
		node map[string]any
		at   string // pointer of the parameter object after refs
	}
	merged := map[string]located{}
	var order []string
	var faults []engine.Violation
	add := func(list any, listAt string) {
		params, _ := list.([]any)
		for i, p := range params {
			pAt := listAt + "/" + strconv.Itoa(i)
			node, nodeAt := d.derefAt(p, pAt)
			m, ok := node.(map[string]any)
			if !ok {
				faults = append(faults, engine.Violation{Location: "document", Pointer: pAt, Code: "invalid", Message: "a parameter must be an object"})
				continue
			}
			name, _ := m["name"].(string)
			in, _ := m["in"].(string)
			key := in + "\x00" + name
			if _, seen := merged[key]; !seen {
				order = append(order, key)
			}
			merged[key] = located{m, nodeAt}
		}
	}
	add(item["parameters"], ptr(strings.TrimSuffix(at, "/"+strings.ToLower(op.Method)), "parameters"))
	add(raw["parameters"], ptr(at, "parameters"))

	declaredPath := map[string]bool{}
	for _, key := range order {
		l := merged[key]
		p, err := d.buildParameter(c, l.node, l.at)
		if err != nil {
			faults = append(faults, engine.AsError(err).Violations...)
			continue
		}
		if p == nil {
			continue
		}
		if p.In == "path" {
			if !slices.Contains(templateParams(op.Path), p.Name) {
				d.warn(l.at, "path_parameter_unused", "path parameter "+strconv.Quote(p.Name)+" does not appear in "+op.Path+"; ignored")
				continue
			}
			declaredPath[p.Name] = true
			p.Required = true
		}
		op.Params = append(op.Params, p)
	}
	for _, name := range templateParams(op.Path) {
		if !declaredPath[name] {
			d.warn(at, "path_parameter_undeclared", "path parameter "+strconv.Quote(name)+" is not declared; treated as a string")
			op.Params = append(op.Params, &Parameter{Name: name, In: "path", Required: true, Style: "simple", Kind: KindString})
		}
	}
	// Path parameters first in template order, so PathIndex matches the
	// router's value order.
	names := templateParams(op.Path)
	for _, p := range op.Params {
		if p.In == "path" {
			p.PathIndex = slices.Index(names, p.Name)
		}
	}
	if len(faults) > 0 {
		return invalid("bad parameters", faults...)
	}
	return nil
}

// ignoredHeaders are header parameters OpenAPI says to ignore: content
// negotiation and credentials belong to the engine, not to the schema.
var ignoredHeaders = map[string]bool{"accept": true, "content-type": true, "authorization": true}

// buildParameter compiles one parameter; nil means it is to be ignored.
func (d *Document) buildParameter(c *compiler, m map[string]any, at string) (*Parameter, error) {
	p := &Parameter{Pointer: at, node: m}
	p.Name, _ = m["name"].(string)
	p.In, _ = m["in"].(string)
	p.Required, _ = m["required"].(bool)
	switch p.In {
	case "path", "query", "header", "cookie":
	default:
		return nil, invalid("", engine.Violation{Location: "document", Pointer: ptr(at, "in"), Code: "invalid",
			Message: "parameter " + strconv.Quote(p.Name) + " has an unknown location " + strconv.Quote(p.In)})
	}
	if p.Name == "" {
		return nil, invalid("", engine.Violation{Location: "document", Pointer: ptr(at, "name"), Code: "invalid", Message: "a parameter needs a name"})
	}
	if p.In == "header" && ignoredHeaders[strings.ToLower(p.Name)] {
		return nil, nil
	}
	p.Style, _ = m["style"].(string)
	if p.Style == "" {
		p.Style = map[string]string{"path": "simple", "query": "form", "header": "simple", "cookie": "form"}[p.In]
	}
	if explode, ok := m["explode"].(bool); ok {
		p.Explode = explode
	} else {
		p.Explode = p.Style == "form"
	}
	schemaAt := ptr(at, "schema")
	schemaNode, hasSchema := m["schema"]
	if !hasSchema {
		// OpenAPI 3 "content" parameters carry a JSON value.
		if content, ok := m["content"].(map[string]any); ok {
			for _, mt := range sortedKeys(content) {
				media, _ := content[mt].(map[string]any)
				if s, ok := media["schema"]; ok {
					schemaNode, hasSchema = s, true
					schemaAt = ptr(at, "content", mt, "schema")
					p.JSONContent = true
					break
				}
			}
		}
	}
	if !hasSchema {
		p.Kind = KindString
		return p, nil
	}
	p.schemaNode = schemaNode
	p.Kind, p.ItemKind = d.kinds(schemaNode)
	if p.JSONContent {
		p.Kind = KindJSON
	}
	s, err := c.compile(schemaAt)
	if err != nil {
		return nil, err
	}
	p.Schema = s
	return p, nil
}

// derefAt follows a reference and also returns the pointer of the object
// reached, which is where its schemas must be compiled from.
func (d *Document) derefAt(node any, at string) (any, string) {
	for range 32 {
		m, ok := node.(map[string]any)
		if !ok {
			return node, at
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return node, at
		}
		target, ok := d.Resolve(ref)
		if !ok {
			return node, at
		}
		node, at = target, ref[1:]
	}
	return node, at
}

// buildBody compiles the request body's schema for each media type.
func (d *Document) buildBody(c *compiler, op *Operation, raw map[string]any, at string) error {
	rb, ok := raw["requestBody"]
	if !ok {
		return nil
	}
	node, nodeAt := d.derefAt(rb, ptr(at, "requestBody"))
	m, ok := node.(map[string]any)
	if !ok {
		return nil
	}
	body := &Body{}
	body.Required, _ = m["required"].(bool)
	content, _ := m["content"].(map[string]any)
	for _, mt := range sortedKeys(content) {
		media, _ := content[mt].(map[string]any)
		bm := &BodyMedia{Type: strings.ToLower(strings.TrimSpace(mt)), node: media}
		if schemaNode, ok := media["schema"]; ok {
			s, err := c.compile(ptr(nodeAt, "content", mt, "schema"))
			if err != nil {
				return err
			}
			bm.Schema = s
			bm.props = d.propertyKinds(schemaNode)
		}
		if mediaAt := ptr(nodeAt, "content", mt); !d.replayExamples(c, mediaAt) {
			d.checkExamplesOnce(c, media, bm.Schema, mediaAt)
		}
		body.Media = append(body.Media, bm)
	}
	if len(body.Media) > 0 {
		op.Body = body
	}
	return nil
}

// buildResponses records the responses in the order mock mode prefers: 2xx
// ascending, then default, then the rest.
func (d *Document) buildResponses(c *compiler, op *Operation, raw map[string]any, at string) {
	responses, _ := raw["responses"].(map[string]any)
	for _, code := range sortedKeys(responses) {
		node, nodeAt := d.derefAt(responses[code], ptr(at, "responses", code))
		m, ok := node.(map[string]any)
		if !ok {
			continue
		}
		r := &Response{Code: code, Status: statusOf(code), node: m}
		r.Media = d.responseMedia(c, op, r, nodeAt)
		op.Responses = append(op.Responses, r)
	}
	slices.SortStableFunc(op.Responses, func(a, b *Response) int { return responseRank(a) - responseRank(b) })
}

// statusOf reads a response key: "200" -> 200, "2XX" -> 200, "default" -> 0.
func statusOf(code string) int {
	if n, err := strconv.Atoi(code); err == nil {
		return n
	}
	if len(code) == 3 && (code[1] == 'X' || code[1] == 'x') && code[0] >= '1' && code[0] <= '5' {
		return int(code[0]-'0') * 100
	}
	return 0
}

func responseRank(r *Response) int {
	switch {
	case r.Status >= 200 && r.Status < 300:
		return r.Status
	case r.Status == 0:
		return 1000
	default:
		return 1000 + r.Status
	}
}

// checkExamples warns about examples that do not match their schema: real
// bank documents ship such examples, and refusing them would refuse the
// document.
func (d *Document) checkExamples(media map[string]any, schema *Schema, at string) {
	if schema == nil {
		return
	}
	check := func(v any, vAt string) {
		if err := schema.Validate(v); err != nil {
			msg := "the example does not match its schema"
			if vs := jsonschemas.Violations(err, "example", "", words); len(vs) > 0 {
				msg += ": " + strings.TrimPrefix(vs[0].Pointer+" ", " ") + vs[0].Message
			}
			d.warn(vAt, "example_mismatch", msg)
		}
	}
	if ex, ok := media["example"]; ok {
		check(ex, ptr(at, "example"))
	}
	examples, _ := media["examples"].(map[string]any)
	for _, name := range sortedKeys(examples) {
		if eo, ok := d.Deref(examples[name]).(map[string]any); ok {
			if v, ok := eo["value"]; ok {
				check(v, ptr(at, "examples", name, "value"))
			}
		}
	}
}

// replayExamples repeats the warnings of a media type object whose
// examples were checked already, for a request body or response that
// operations share by reference (real documents share their error
// responses among all operations), and reports whether it was.
func (d *Document) replayExamples(c *compiler, at string) bool {
	ws, ok := c.examples[at]
	d.Warnings = append(d.Warnings, ws...)
	return ok
}

// checkExamplesOnce is checkExamples, remembering its warnings for
// replayExamples.
func (d *Document) checkExamplesOnce(c *compiler, media map[string]any, schema *Schema, at string) {
	n := len(d.Warnings)
	d.checkExamples(media, schema, at)
	c.examples[at] = slices.Clone(d.Warnings[n:])
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
