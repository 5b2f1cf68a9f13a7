package specs

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// Request is what validation reads from an HTTP request. The server
// implements it over its own request type, so nothing is copied up front.
type Request interface {
	// PathValue returns the i-th path parameter value of the matched
	// template, already percent-decoded.
	PathValue(i int) string
	// QueryValues returns every value of a query parameter, in order.
	QueryValues(name string) []string
	// Header returns a header's value and whether it was sent.
	Header(name string) (string, bool)
	// Cookie returns a cookie's value and whether it was sent.
	Cookie(name string) (string, bool)
	// ContentType returns the Content-Type header.
	ContentType() string
	// Body returns the request body.
	Body() []byte
}

// Validate checks every parameter and the body of req against the
// operation, its backtracking pattern matches bounded by
// jsonschemas.DefaultPatternBudget; see ValidateWithin.
func (op *Operation) Validate(req Request) (any, error) { return op.ValidateWithin(req, 0) }

// ValidateWithin checks every parameter and the body of req against the
// operation. Every backtracking pattern match of the request, parameters
// and body together, is charged to one budget of patternBudget (0:
// jsonschemas.DefaultPatternBudget); a value whose match cannot finish
// within it is refused. It returns the decoded body (nil when there is
// none) or an *engine.Error: 400 listing every violation, 415 for a media
// type the operation does not accept, or 500 when the schema library
// failed.
func (op *Operation) ValidateWithin(req Request, patternBudget time.Duration) (any, error) {
	v := validation{patternBudget: patternBudget}
	for _, p := range op.Params {
		p.check(req, &v)
	}
	body, bodyErr := op.checkBody(req, &v)
	if bodyErr != nil {
		return nil, bodyErr
	}
	if v.internal != nil {
		return nil, engine.Internal(v.internal)
	}
	if len(v.violations) > 0 {
		// The schema library walks objects in map order: sort, so the same
		// request always gets the same answer.
		slices.SortStableFunc(v.violations, func(a, b engine.Violation) int {
			if c := cmp.Compare(locationRank[a.Location], locationRank[b.Location]); c != 0 {
				return c
			}
			return strings.Compare(a.Pointer, b.Pointer)
		})
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the request does not match the API description", v.violations...)
	}
	return body, nil
}

// locationRank orders violations the way a request reads: path first, body
// last.
var locationRank = map[string]int{"path": 0, "query": 1, "header": 2, "cookie": 3, "body": 4}

// validation is what one request's validation has found so far.
type validation struct {
	violations    []engine.Violation
	patternBudget time.Duration
	// budget is made when a schema with a backtracking pattern is first
	// validated, and shared by every later one.
	budget *jsonschemas.Budget
	// internal is the first failure of the schema library itself.
	internal error
}

func (v *validation) add(violations ...engine.Violation) {
	v.violations = append(v.violations, violations...)
}

// schema validates value against s, naming faults at location under base.
func (v *validation) schema(s *Schema, value any, location, base string) {
	var budget *jsonschemas.Budget
	if s.s.Backtracking() {
		if v.budget == nil {
			v.budget = jsonschemas.NewBudget(v.patternBudget)
		}
		budget = v.budget
	}
	err := s.s.ValidateWithin(value, budget)
	if err == nil {
		return
	}
	var pe *jsonschemas.PanicError
	if errors.As(err, &pe) {
		if v.internal == nil {
			v.internal = err
		}
		return
	}
	v.add(jsonschemas.Violations(err, location, base, words)...)
}

// check validates one parameter.
func (p *Parameter) check(req Request, v *validation) {
	var raw []string
	switch p.In {
	case "path":
		if p.PathIndex >= 0 {
			raw = []string{req.PathValue(p.PathIndex)}
		}
	case "query":
		raw = req.QueryValues(p.Name)
	case "header":
		if s, ok := req.Header(p.Name); ok {
			raw = []string{s}
		}
	case "cookie":
		if s, ok := req.Cookie(p.Name); ok {
			raw = []string{s}
		}
	}
	at := ptr("", p.Name)
	if len(raw) == 0 {
		if p.Required {
			v.add(engine.Violation{Location: p.In, Pointer: at, Code: "required",
				Message: "missing required " + p.In + " parameter " + quote(p.Name)})
		}
		return
	}
	for _, s := range raw {
		if !utf8.ValidString(s) {
			v.add(engine.Violation{Location: p.In, Pointer: at, Code: strictjson.CodeInvalidUTF8,
				Message: "the value holds bytes that are not UTF-8 (a percent-encoded byte of no character, say)"})
			return
		}
	}
	if len(raw) > 1 && p.Kind != KindArray {
		v.add(engine.Violation{Location: p.In, Pointer: at, Code: strictjson.CodeDuplicateKey,
			Message: "the parameter is given " + strconv.Itoa(len(raw)) + " times; it takes one value"})
		return
	}
	if p.Schema == nil {
		return
	}
	value, fault := p.coerce(raw, at)
	if fault != nil {
		fault.Location = p.In
		v.add(*fault)
		return
	}
	v.schema(p.Schema, value, p.In, at)
}

// coerce turns the parameter's text into the typed value its schema
// expects, following its style, or says why it cannot (a violation
// without its location).
func (p *Parameter) coerce(raw []string, at string) (any, *engine.Violation) {
	switch p.Kind {
	case KindArray:
		items := raw
		if len(raw) == 1 && !(p.Style == "form" && p.Explode) {
			items = strings.Split(raw[0], arraySeparator(p.Style))
		}
		out := make([]any, len(items))
		for i, s := range items {
			v, fault := scalar(s, p.ItemKind, at)
			if fault != nil {
				return nil, fault
			}
			out[i] = v
		}
		return out, nil
	case KindObject:
		return objectValue(raw[0], at)
	case KindJSON:
		return jsonValue([]byte(raw[0]), at, "the value")
	}
	return scalar(raw[0], p.Kind, at)
}

func arraySeparator(style string) string {
	switch style {
	case "spaceDelimited":
		return " "
	case "pipeDelimited":
		return "|"
	}
	return ","
}

// scalar converts one text value, at pointer at. Numbers become
// json.Number so no precision is lost before the schema checks them, and
// only within the range the schema library can compare.
func scalar(s string, k Kind, at string) (any, *engine.Violation) {
	switch k {
	case KindInteger:
		if !isJSONNumber(s) || strings.ContainsAny(s, ".eE") {
			return nil, &engine.Violation{Pointer: at, Code: "type", Message: quote(s) + " is not an integer"}
		}
		return number(s, at)
	case KindNumber:
		if !isJSONNumber(s) {
			return nil, &engine.Violation{Pointer: at, Code: "type", Message: quote(s) + " is not a number"}
		}
		return number(s, at)
	case KindBoolean:
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, &engine.Violation{Pointer: at, Code: "type", Message: quote(s) + " is not a boolean (true or false)"}
	}
	return s, nil
}

// number is the literal s, known to be a JSON number, as a json.Number
// when it is within strictjson's number limits.
func number(s, at string) (any, *engine.Violation) {
	var e *strictjson.Error
	if err := strictjson.CheckNumber(s); errors.As(err, &e) {
		return nil, &engine.Violation{Pointer: at, Code: e.Code, Message: e.Message}
	}
	return json.Number(s), nil
}

// objectValue reads an object parameter written as JSON or, in the simple
// and form styles, as "key,value,key,value".
func objectValue(s, at string) (any, *engine.Violation) {
	if strings.HasPrefix(s, "{") {
		return jsonValue([]byte(s), at, "the value")
	}
	parts := strings.Split(s, ",")
	if len(parts)%2 != 0 {
		return nil, &engine.Violation{Pointer: at, Code: "type", Message: quote(s) + " is not a list of key,value pairs"}
	}
	m := make(map[string]any, len(parts)/2)
	for i := 0; i < len(parts); i += 2 {
		if _, dup := m[parts[i]]; dup {
			return nil, &engine.Violation{Pointer: at, Code: strictjson.CodeDuplicateKey,
				Message: "the key " + quote(parts[i]) + " appears twice"}
		}
		m[parts[i]] = parts[i+1]
	}
	return m, nil
}

// jsonValue decodes JSON text strictly (see strictjson); a refusal names
// the value's pointer under at. what names the text in messages.
func jsonValue(raw []byte, at, what string) (any, *engine.Violation) {
	v, err := strictjson.Decode(raw)
	var e *strictjson.Error
	if errors.As(err, &e) {
		// A syntax error is the text's; the other refusals name a value.
		pointer, msg := at+e.Pointer, e.Message
		if e.Code == strictjson.CodeMalformed {
			pointer, msg = at, what+" is not valid JSON: "+msg
		}
		return nil, &engine.Violation{Pointer: pointer, Code: e.Code, Message: msg + " (byte " + strconv.Itoa(e.Offset) + ")"}
	}
	return v, nil
}

// isJSONNumber reports whether s is a number in JSON syntax.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start || (s[start] == '0' && i-start > 1) {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == fs {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == es {
			return false
		}
	}
	return i == len(s)
}

// checkBody validates the request body against the media type it is sent
// as.
func (op *Operation) checkBody(req Request, v *validation) (any, error) {
	raw := req.Body()
	if op.Body == nil {
		return nil, nil
	}
	if len(raw) == 0 {
		if op.Body.Required {
			v.add(engine.Violation{Location: "body", Pointer: "", Code: "required", Message: "a request body is required"})
		}
		return nil, nil
	}
	media := op.Body.match(req.ContentType())
	if media == nil {
		return nil, engine.Errorf(http.StatusUnsupportedMediaType, engine.CodeUnsupportedMediaType,
			"content type %q is not accepted; send one of: %s", req.ContentType(), op.Body.types())
	}
	var value any
	var fault *engine.Violation
	switch {
	case media.IsJSON():
		value, fault = jsonValue(raw, "", "the body")
	case strings.HasPrefix(media.Type, "application/x-www-form-urlencoded"):
		value, fault = media.formValue(raw)
	default:
		// Other media (XML, text, multipart, binary) are passed on as they
		// are; their schemas describe structure JSON Schema cannot check.
		return raw, nil
	}
	if fault != nil {
		fault.Location = "body"
		v.add(*fault)
		return nil, nil
	}
	if media.Schema != nil {
		v.schema(media.Schema, value, "body", "")
	}
	return value, nil
}

// match finds the declared media type for a Content-Type: exact, then
// type/*, then */*. A missing Content-Type is read as the first JSON type
// declared.
func (b *Body) match(contentType string) *BodyMedia {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	if ct == "" {
		for _, m := range b.Media {
			if m.IsJSON() {
				return m
			}
		}
		return nil
	}
	major, _, _ := strings.Cut(ct, "/")
	var wildcard, any *BodyMedia
	for _, m := range b.Media {
		declared, _, _ := strings.Cut(m.Type, ";")
		declared = strings.TrimSpace(declared)
		switch declared {
		case ct:
			return m
		case major + "/*":
			wildcard = m
		case "*/*":
			any = m
		}
	}
	if wildcard != nil {
		return wildcard
	}
	return any
}

func (b *Body) types() string {
	names := make([]string, len(b.Media))
	for i, m := range b.Media {
		names[i] = m.Type
	}
	return strings.Join(names, ", ")
}

// formValue decodes an urlencoded form into an object, coercing each field
// by its property's kind. A field sent more than once is refused unless
// its property is an array, and so are names and values that are not
// UTF-8 once percent-decoded.
func (m *BodyMedia) formValue(raw []byte) (any, *engine.Violation) {
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, &engine.Violation{Code: strictjson.CodeMalformed, Message: "the body is not a valid form: " + err.Error()}
	}
	obj := make(map[string]any, len(values))
	for name, vs := range values {
		at := ptr("", name)
		if !utf8.ValidString(name) {
			return nil, &engine.Violation{Code: strictjson.CodeInvalidUTF8, Message: "a field name holds bytes that are not UTF-8"}
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return nil, &engine.Violation{Pointer: at, Code: strictjson.CodeInvalidUTF8, Message: "the value holds bytes that are not UTF-8"}
			}
		}
		pk, known := m.props[name]
		if len(vs) > 1 && (!known || pk.kind != KindArray) {
			return nil, &engine.Violation{Pointer: at, Code: strictjson.CodeDuplicateKey,
				Message: "the field is given " + strconv.Itoa(len(vs)) + " times; it takes one value"}
		}
		if !known {
			obj[name] = vs[0]
			continue
		}
		if pk.kind == KindArray {
			items := make([]any, len(vs))
			for i, s := range vs {
				v, fault := scalar(s, pk.item, ptr(at, strconv.Itoa(i)))
				if fault != nil {
					return nil, fault
				}
				items[i] = v
			}
			obj[name] = items
			continue
		}
		v, fault := scalar(vs[0], pk.kind, at)
		if fault != nil {
			return nil, fault
		}
		obj[name] = v
	}
	return obj, nil
}

// words names things in validation messages the OpenAPI way.
var words = jsonschemas.Words{Property: "property"}

func quote(s string) string { return `"` + s + `"` }
