package specs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/jsonschemas"
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
// operation. It returns the decoded body (nil when there is none) or an
// *engine.Error: 400 listing every violation, or 415 for a media type the
// operation does not accept.
func (op *Operation) Validate(req Request) (any, error) {
	var violations []engine.Violation
	for _, p := range op.Params {
		violations = p.check(req, violations)
	}
	body, bodyErr := op.checkBody(req, &violations)
	if bodyErr != nil {
		return nil, bodyErr
	}
	if len(violations) > 0 {
		// The schema library walks objects in map order: sort, so the same
		// request always gets the same answer.
		slices.SortStableFunc(violations, func(a, b engine.Violation) int {
			if c := cmp.Compare(locationRank[a.Location], locationRank[b.Location]); c != 0 {
				return c
			}
			return strings.Compare(a.Pointer, b.Pointer)
		})
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the request does not match the API description", violations...)
	}
	return body, nil
}

// locationRank orders violations the way a request reads: path first, body
// last.
var locationRank = map[string]int{"path": 0, "query": 1, "header": 2, "cookie": 3, "body": 4}

// check validates one parameter, appending its violations.
func (p *Parameter) check(req Request, out []engine.Violation) []engine.Violation {
	var raw []string
	switch p.In {
	case "path":
		if p.PathIndex >= 0 {
			raw = []string{req.PathValue(p.PathIndex)}
		}
	case "query":
		raw = req.QueryValues(p.Name)
	case "header":
		if v, ok := req.Header(p.Name); ok {
			raw = []string{v}
		}
	case "cookie":
		if v, ok := req.Cookie(p.Name); ok {
			raw = []string{v}
		}
	}
	at := ptr("", p.Name)
	if len(raw) == 0 {
		if p.Required {
			out = append(out, engine.Violation{Location: p.In, Pointer: at, Code: "required",
				Message: "missing required " + p.In + " parameter " + quote(p.Name)})
		}
		return out
	}
	if p.Schema == nil {
		return out
	}
	value, msg := p.coerce(raw)
	if msg != "" {
		return append(out, engine.Violation{Location: p.In, Pointer: at, Code: "type", Message: msg})
	}
	if err := p.Schema.Validate(value); err != nil {
		out = append(out, jsonschemas.Violations(err, p.In, at, words)...)
	}
	return out
}

// coerce turns the parameter's text into the typed value its schema
// expects, following its style. A non-empty message says why it cannot.
func (p *Parameter) coerce(raw []string) (any, string) {
	switch p.Kind {
	case KindArray:
		items := raw
		if len(raw) == 1 && !(p.Style == "form" && p.Explode) {
			items = strings.Split(raw[0], arraySeparator(p.Style))
		}
		out := make([]any, len(items))
		for i, s := range items {
			v, msg := scalar(s, p.ItemKind)
			if msg != "" {
				return nil, msg
			}
			out[i] = v
		}
		return out, ""
	case KindObject:
		return objectValue(raw[0])
	case KindJSON:
		v, err := decodeJSONValue([]byte(raw[0]))
		if err != nil {
			return nil, "not valid JSON"
		}
		return v, ""
	}
	return scalar(raw[0], p.Kind)
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

// scalar converts one text value. Numbers become json.Number so no precision
// is lost before the schema checks them.
func scalar(s string, k Kind) (any, string) {
	switch k {
	case KindInteger:
		if !isJSONNumber(s) || strings.ContainsAny(s, ".eE") {
			return nil, quote(s) + " is not an integer"
		}
		return json.Number(s), ""
	case KindNumber:
		if !isJSONNumber(s) {
			return nil, quote(s) + " is not a number"
		}
		return json.Number(s), ""
	case KindBoolean:
		switch s {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, quote(s) + " is not a boolean (true or false)"
	}
	return s, ""
}

// objectValue reads an object parameter written as JSON or, in the simple
// and form styles, as "key,value,key,value".
func objectValue(s string) (any, string) {
	if strings.HasPrefix(s, "{") {
		v, err := decodeJSONValue([]byte(s))
		if err != nil {
			return nil, "not a valid JSON object"
		}
		return v, ""
	}
	parts := strings.Split(s, ",")
	if len(parts)%2 != 0 {
		return nil, quote(s) + " is not a list of key,value pairs"
	}
	m := make(map[string]any, len(parts)/2)
	for i := 0; i < len(parts); i += 2 {
		m[parts[i]] = parts[i+1]
	}
	return m, ""
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
func (op *Operation) checkBody(req Request, out *[]engine.Violation) (any, error) {
	raw := req.Body()
	if op.Body == nil {
		return nil, nil
	}
	if len(raw) == 0 {
		if op.Body.Required {
			*out = append(*out, engine.Violation{Location: "body", Pointer: "", Code: "required", Message: "a request body is required"})
		}
		return nil, nil
	}
	media := op.Body.match(req.ContentType())
	if media == nil {
		return nil, engine.Errorf(http.StatusUnsupportedMediaType, engine.CodeUnsupportedMediaType,
			"content type %q is not accepted; send one of: %s", req.ContentType(), op.Body.types())
	}
	var value any
	switch {
	case media.IsJSON():
		v, err := decodeJSONValue(raw)
		if err != nil {
			*out = append(*out, engine.Violation{Location: "body", Pointer: "", Code: "malformed",
				Message: "the body is not valid JSON: " + err.Error()})
			return nil, nil
		}
		value = v
	case strings.HasPrefix(media.Type, "application/x-www-form-urlencoded"):
		v, msg := media.formValue(raw)
		if msg != "" {
			*out = append(*out, engine.Violation{Location: "body", Pointer: "", Code: "malformed", Message: msg})
			return nil, nil
		}
		value = v
	default:
		// Other media (XML, text, multipart, binary) are passed on as they
		// are; their schemas describe structure JSON Schema cannot check.
		return raw, nil
	}
	if media.Schema != nil {
		if err := media.Schema.Validate(value); err != nil {
			*out = append(*out, jsonschemas.Violations(err, "body", "", words)...)
		}
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
// by its property's kind.
func (m *BodyMedia) formValue(raw []byte) (any, string) {
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, "the body is not a valid form: " + err.Error()
	}
	obj := make(map[string]any, len(values))
	for name, vs := range values {
		pk, known := m.props[name]
		if !known {
			obj[name] = vs[0]
			continue
		}
		if pk.kind == KindArray {
			items := make([]any, len(vs))
			for i, s := range vs {
				v, msg := scalar(s, pk.item)
				if msg != "" {
					return nil, "field " + quote(name) + ": " + msg
				}
				items[i] = v
			}
			obj[name] = items
			continue
		}
		v, msg := scalar(vs[0], pk.kind)
		if msg != "" {
			return nil, "field " + quote(name) + ": " + msg
		}
		obj[name] = v
	}
	return obj, ""
}

// decodeJSONValue decodes one JSON document with numbers as json.Number.
func decodeJSONValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return v, nil
}

// words names things in validation messages the OpenAPI way.
var words = jsonschemas.Words{Property: "property"}

func quote(s string) string { return `"` + s + `"` }
