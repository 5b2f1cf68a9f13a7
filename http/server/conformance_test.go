package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/sample"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// TestRealSpecs submits every root document under ../shared/specs to its own
// engine and, for every operation, sends one valid request built from the
// document's examples (expecting the mock answer) and, where the operation
// validates anything, one invalid request (expecting a 400 naming the
// violation).
func TestRealSpecs(t *testing.T) {
	cases := []struct {
		file string
		// unresolved is set for documents that must be refused because they
		// reference other files.
		unresolved bool
	}{
		{file: "ob-uk-v4.0/account-info-openapi.yaml"},
		{file: "ob-uk-v4.0/payment-initiation-openapi.yaml"},
		{file: "ob-uk-v4.0/vrp-openapi.yaml"},
		{file: "ob-uk-v4.0/confirmation-funds-openapi.yaml"},
		{file: "ob-uk-v4.0/event-notifications-openapi.yaml"},
		{file: "ob-uk-v4.0/events-openapi.yaml"},
		{file: "ob-uk-v3.1.7-swagger2/account-info-swagger.json"},
		{file: "ob-uk-v3.1.7-swagger2/payment-initiation-swagger.json"},
		{file: "ob-uk-v3.1.7-swagger2/confirmation-funds-swagger.json"},
		{file: "ob-uk-v3.1.7-swagger2/event-notifications-swagger.json"},
		{file: "ob-uk-v3.1.7-swagger2/events-swagger.json"},
		{file: "berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml"},
		{file: "obp-dynamic-endpoint/dynamicEndpointSwagger.json"},
		{file: "petstore-swagger2/petstore.json"},
		{file: "petstore-swagger2/petstore-expanded.json"},
		{file: "petstore-swagger2/petstore-minimal.json"},
		{file: "petstore-swagger2-separate/spec/swagger.json", unresolved: true},
		{file: "petstore-oas3/petstore.yaml"},
		{file: "petstore-oas3/petstore-expanded.yaml"},
		{file: "oai-api-with-examples/api-with-examples.json"},
		{file: "oai-api-with-examples/api-with-examples.yaml"},
		{file: "oai-tictactoe-oas31/tictactoe.yaml"},
		{file: "redocly-museum-oas31/openapi.yaml"},
		{file: "swagger-petstore3/openapi.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			inst := enginetest.New(t)
			doc := withoutEventsAPI(enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), tc.file)))
			// Bound to no consent profile, so that the mock answers every
			// operation: the consent resources the engine answers under
			// one are tested in engine/consent, the events API in
			// engine/eventapi.
			r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints?consent_profile=none", doc)
			if tc.unresolved {
				p := r.Problem(t)
				if r.Status != http.StatusBadRequest || p.Code != "unresolved_ref" || len(p.Violations) == 0 {
					t.Fatalf("want 400 unresolved_ref with violations, got %d %s", r.Status, r.Body)
				}
				if !strings.Contains(p.Violations[0].Message, ".json") {
					t.Errorf("the violation should name the external file: %+v", p.Violations[0])
				}
				list := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints")
				if eps := list.JSON(t)["dynamic_endpoints"].([]any); len(eps) != 0 {
					t.Errorf("a refused document was stored: %s", list.Body)
				}
				return
			}
			if r.Status != http.StatusCreated {
				t.Fatalf("POST: %d %s", r.Status, r.Body)
			}
			created := r.JSON(t)
			id := created["dynamic_endpoint_id"].(string)
			ep, err := inst.Endpoints.Get("", id)
			if err != nil {
				t.Fatal(err)
			}
			listed := created["operations"].([]any)
			if len(listed) != len(ep.Doc.Operations) || len(listed) == 0 {
				t.Fatalf("201 lists %d operations, document has %d", len(listed), len(ep.Doc.Operations))
			}
			validated := 0
			for i, op := range ep.Doc.Operations {
				served := listed[i].(map[string]any)["served_path"].(string)
				t.Run(op.Method+" "+op.Path, func(t *testing.T) {
					checkValidRequest(t, inst, ep.Doc, op, served)
					if checkInvalidRequest(t, inst, ep.Doc, op, served) {
						validated++
					}
				})
			}
			t.Logf("%d operations, %d with an invalid request refused", len(ep.Doc.Operations), validated)
		})
	}
}

// checkValidRequest sends a request built from the document's examples and
// expects the mock answer: the preferred response's status and media type.
func checkValidRequest(t testing.TB, inst *enginetest.Engine, doc *specs.Document, op *specs.Operation, served string) {
	t.Helper()
	req := validRequest(t, doc, op, served)
	r := inst.Admin().Send(t, req)
	wantStatus := http.StatusOK
	var wantType string
	if len(op.Responses) > 0 {
		if s := op.Responses[0].Status; s != 0 {
			wantStatus = s
		}
		content, _ := op.Responses[0].Node()["content"].(map[string]any)
		for mt := range content {
			if wantType == "" || strings.Contains(mt, "json") {
				wantType = mt
			}
		}
	}
	if r.Status != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body %s", req.Method, req.Path, r.Status, wantStatus, r.Body)
	}
	if wantType != "" && wantStatus != http.StatusNoContent {
		if got := r.Header.Get("Content-Type"); !strings.EqualFold(got, wantType) && !(strings.Contains(wantType, "json") && strings.Contains(got, "json")) {
			t.Errorf("content type %q, want %q", got, wantType)
		}
		if strings.Contains(wantType, "json") && !json.Valid(r.Body) {
			t.Errorf("the mock body is not JSON: %s", r.Body)
		}
	}
}

// validRequest builds a request every declared rule accepts: required
// parameters and the body from the document's examples, or from samples of
// their schemas where an example is missing or does not match.
func validRequest(t testing.TB, doc *specs.Document, op *specs.Operation, served string) enginetest.Request {
	t.Helper()
	path := served
	query := url.Values{}
	headers := map[string]string{}
	for _, p := range op.Params {
		if !p.Required && p.In != "path" {
			continue
		}
		v := validValue(doc, p.Schema, p.SchemaNode(), p.Node())
		text := paramText(v)
		switch p.In {
		case "path":
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(text), 1)
		case "query":
			query.Set(p.Name, text)
		case "header":
			headers[p.Name] = text
		case "cookie":
			headers["Cookie"] = strings.TrimPrefix(headers["Cookie"]+"; "+p.Name+"="+text, "; ")
		}
	}
	req := enginetest.Request{Method: op.Method, Path: path, Header: headers}
	if len(query) > 0 {
		req.Path += "?" + query.Encode()
	}
	if op.Body != nil {
		media := pickBodyMedia(op.Body)
		headers["Content-Type"] = media.Type
		switch {
		case media.IsJSON():
			v := validValue(doc, media.Schema, media.Node()["schema"], media.Node())
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			req.Body = b
		case strings.HasPrefix(media.Type, "application/x-www-form-urlencoded"):
			v, _ := validValue(doc, media.Schema, media.Node()["schema"], media.Node()).(map[string]any)
			form := url.Values{}
			for k, fv := range v {
				form.Set(k, paramText(fv))
			}
			req.Body = []byte(form.Encode())
		default:
			req.Body = []byte("opaque")
		}
	}
	return req
}

// pickBodyMedia prefers JSON, then forms, then whatever is declared.
func pickBodyMedia(b *specs.Body) *specs.BodyMedia {
	for _, m := range b.Media {
		if m.IsJSON() && !strings.Contains(m.Type, "*") {
			return m
		}
	}
	for _, m := range b.Media {
		if strings.HasPrefix(m.Type, "application/x-www-form-urlencoded") {
			return m
		}
	}
	return b.Media[0]
}

// validValue picks the first candidate the compiled schema accepts: the
// object's own example, its first named example, the schema's examples,
// then a sample synthesised from the schema alone.
func validValue(doc *specs.Document, schema *specs.Schema, schemaNode any, node map[string]any) any {
	var candidates []any
	if ex, ok := node["example"]; ok {
		candidates = append(candidates, ex)
	}
	if examples, ok := node["examples"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(examples)) {
			if eo, ok := doc.Deref(examples[name]).(map[string]any); ok {
				if v, ok := eo["value"]; ok {
					candidates = append(candidates, v)
				}
			}
		}
	}
	candidates = append(candidates,
		sample.Generate(schemaNode, sample.Options{Resolve: doc.Resolve, Request: true}),
		sample.Generate(schemaNode, sample.Options{Resolve: doc.Resolve, Request: true, IgnoreExamples: true}))
	if schema == nil {
		return candidates[0]
	}
	for _, c := range candidates {
		if schema.Validate(normalise(c)) == nil {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

// normalise round-trips a value through JSON, as it travels in a request.
func normalise(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

// paramText writes a parameter value in the simple/form style.
func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = paramText(e)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	case map[string]any, bool, float64, json.Number, int, int64:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// checkInvalidRequest breaks one rule the operation declares and expects a
// 400 naming it. It reports false when the operation validates nothing that
// can be broken (no required or typed parameter, no body).
func checkInvalidRequest(t testing.TB, inst *enginetest.Engine, doc *specs.Document, op *specs.Operation, served string) bool {
	t.Helper()
	base := validRequest(t, doc, op, served)
	type breakage struct {
		location, pointer, code string
		apply                   func(r *enginetest.Request)
	}
	var b *breakage
	for _, p := range op.Params {
		p := p
		switch {
		case p.Required && (p.In == "query" || p.In == "header"):
			b = &breakage{p.In, "/" + p.Name, "required", func(r *enginetest.Request) {
				if p.In == "header" {
					delete(r.Header, p.Name)
					return
				}
				u, _ := url.Parse(r.Path)
				q := u.Query()
				q.Del(p.Name)
				u.RawQuery = q.Encode()
				r.Path = u.String()
			}}
		case p.In == "path" && (p.Kind == specs.KindInteger || p.Kind == specs.KindNumber || p.Kind == specs.KindBoolean):
			b = &breakage{"path", "/" + p.Name, "type", func(r *enginetest.Request) {
				r.Path = fillPath(op, served, base.Path, p.Name, "not-a-value")
			}}
		}
		if b != nil {
			break
		}
	}
	for _, p := range op.Params {
		if b != nil {
			break
		}
		if p.Schema == nil || p.Kind != specs.KindString || p.In == "cookie" {
			continue
		}
		bad, ok := refusedText(p.Schema)
		if !ok {
			continue
		}
		p := p
		b = &breakage{p.In, "/" + p.Name, "*", func(r *enginetest.Request) {
			switch p.In {
			case "header":
				r.Header[p.Name] = bad
			case "query":
				u, _ := url.Parse(r.Path)
				q := u.Query()
				q.Set(p.Name, bad)
				u.RawQuery = q.Encode()
				r.Path = u.String()
			case "path":
				r.Path = fillPath(op, served, base.Path, p.Name, url.PathEscape(bad))
			}
		}}
	}
	if b == nil && op.Body != nil && pickBodyMedia(op.Body).IsJSON() && pickBodyMedia(op.Body).Schema != nil {
		if op.Body.Required {
			b = &breakage{"body", "", "required", func(r *enginetest.Request) { r.Body = nil }}
		} else {
			b = &breakage{"body", "", "malformed", func(r *enginetest.Request) { r.Body = []byte("{not json") }}
		}
	}
	if b == nil {
		return false
	}
	req := base
	req.Header = map[string]string{}
	for k, v := range base.Header {
		req.Header[k] = v
	}
	b.apply(&req)
	r := inst.Admin().Send(t, req)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("invalid request (%s %s %s) %s %s: status %d, want 400; body %s", b.location, b.pointer, b.code, req.Method, req.Path, r.Status, r.Body)
	}
	p := r.Problem(t)
	if p.Code != "validation_failed" || !enginetest.HasViolation(p, b.location, b.pointer, b.code) {
		t.Fatalf("want a violation {%s %s %s}, got %s", b.location, b.pointer, b.code, r.Body)
	}
	return true
}

// fillPath rebuilds the valid request's path with one path parameter
// replaced by value.
func fillPath(op *specs.Operation, served, valid, name, value string) string {
	// Path values of the valid request, recovered by matching the template.
	tplSegs := strings.Split(served, "/")
	path, query, _ := strings.Cut(valid, "?")
	gotSegs := strings.Split(path, "/")
	for i, seg := range tplSegs {
		if seg == "{"+name+"}" && i < len(gotSegs) {
			gotSegs[i] = value
		}
	}
	out := strings.Join(gotSegs, "/")
	if query != "" {
		out += "?" + query
	}
	return out
}

// refusedText finds a text value, one that HTTP carries intact, that the
// schema refuses.
func refusedText(schema *specs.Schema) (string, bool) {
	for _, candidate := range []string{"not-a-valid-value!~", "0", "zz", strings.Repeat("x", 2000), "-"} {
		if schema.Validate(candidate) != nil {
			return candidate, true
		}
	}
	return "", false
}

// withoutEventsAPI has doc's host answer a UK events API document, which
// the engine would answer itself: x-dynapi-events: none at the top of a
// JSON or YAML document. Other documents are returned as they are.
func withoutEventsAPI(doc []byte) []byte {
	if !bytes.Contains(doc, []byte("CreateEventSubscriptions")) {
		return doc
	}
	if i := bytes.IndexByte(doc, '{'); i >= 0 && bytes.TrimSpace(doc)[0] == '{' {
		return slices.Concat(doc[:i+1], []byte(`"x-dynapi-events": "none",`), doc[i+1:])
	}
	return slices.Concat([]byte("x-dynapi-events: none\n"), doc)
}
