// Package mock is the obp_mock connector, the engine's one mock: it
// answers operations from their API description alone (the examples a
// document gives, else a deterministic sample built from the response
// schema) and built-in connector methods from their message docs (the
// example, else a sample of the data schema). Everything is rendered
// once, when the operation or method is prepared; answering a call only
// picks a precomputed reply.
package mock

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/sample"
	"github.com/dynapi/dynapi/specs"
)

// Host is the connector's name (the Open Bank Project's host mode for mock
// answers).
const Host = connector.Mock

// Connector is the obp_mock connector. Register it under Host.
type Connector struct{}

var (
	_ connector.OperationConnector = Connector{}
	_ connector.InMemory           = Connector{}
)

// AnswersInMemory implements connector.InMemory: the metrics count the
// mock's calls without timing them.
func (Connector) AnswersInMemory() {}

// PrepareOperation answers op of doc from the document; see Prepare.
func (Connector) PrepareOperation(doc *specs.Document, op *specs.Operation) (connector.Invoker, error) {
	return Prepare(doc, op)
}

// Prepare answers built-in method m with its message doc's example, else a
// sample of its data schema. It takes no routing parameters.
func (Connector) Prepare(m *connector.Method, params connector.Params) (connector.Invoker, error) {
	if len(params) > 0 {
		msg := "the " + Host + " connector takes no parameters"
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, msg,
			engine.Violation{Location: "body", Pointer: "/parameters", Code: "unknown", Message: msg})
	}
	data := m.DataExample
	if data == nil && m.Data != nil {
		data = sample.Generate(m.Data, sample.Options{})
	}
	return connector.InvokerFunc(func(context.Context, *connector.Request) (*connector.Result, error) {
		return &connector.Result{Data: data}, nil
	}), nil
}

// Invoker answers one operation with precomputed replies, each wrapped in
// its Result once, so that a call allocates nothing.
type Invoker struct {
	primary  *answer            // the lowest 2xx response, else default
	byStatus map[int]*answer    // Prefer: code=NNN
	byName   map[string]*answer // Prefer: example=NAME, across all responses
}

var _ connector.Invoker = (*Invoker)(nil)

// answer is one response of the operation with its rendered examples.
type answer struct {
	status      int
	contentType string
	body        *connector.Result            // the default example
	named       map[string]*connector.Result // named examples of this response
}

// Prepare renders every response of op. It never fails for a document that
// loaded: a response without content answers with no body.
func Prepare(doc *specs.Document, op *specs.Operation) (*Invoker, error) {
	m := &Invoker{byStatus: map[int]*answer{}, byName: map[string]*answer{}}
	checks := &sample.Checks{} // the responses of op share their schemas' compilations
	for _, r := range op.Responses {
		a := render(doc, r, checks)
		if m.primary == nil {
			m.primary = a
		}
		if _, seen := m.byStatus[a.status]; !seen && r.Status != 0 {
			m.byStatus[a.status] = a
		}
		for name := range a.named {
			if _, seen := m.byName[name]; !seen {
				m.byName[name] = a
			}
		}
	}
	if m.primary == nil {
		// No responses declared: an empty 200 is the honest answer.
		m.primary = &answer{status: http.StatusOK, body: &connector.Result{Reply: &engine.Reply{Status: http.StatusOK}}}
	}
	return m, nil
}

// Invoke answers req's call (Request.Call) with the reply it prefers.
func (m *Invoker) Invoke(_ context.Context, req *connector.Request) (*connector.Result, error) {
	var prefer string
	if req.Call != nil {
		prefer = req.Call.Prefer
	}
	return m.pick(prefer), nil
}

// ReadsArgs implements connector.ArgsReader: the mock reads the call's
// Prefer header, not the method's arguments.
func (*Invoker) ReadsArgs() bool { return false }

// Reply is the reply to call: the one its Prefer header asks for (a
// status code, a named example), else the primary one.
func (m *Invoker) Reply(call *engine.Call) *engine.Reply { return m.pick(call.Prefer).Reply }

// pick is the result a Prefer header value asks for, else the primary one.
func (m *Invoker) pick(prefer string) *connector.Result {
	if prefer == "" {
		return m.primary.body
	}
	code, example := parsePrefer(prefer)
	a := m.primary
	if code != 0 {
		if byCode, ok := m.byStatus[code]; ok {
			a = byCode
		}
	}
	if example != "" {
		if res, ok := a.named[example]; ok {
			return res
		}
		if other, ok := m.byName[example]; ok && code == 0 {
			return other.named[example]
		}
	}
	return a.body
}

// parsePrefer reads "code=404, example=NAME" from a Prefer header.
func parsePrefer(h string) (code int, example string) {
	for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "code", "status":
			code, _ = strconv.Atoi(v)
		case "example":
			example = v
		}
	}
	return code, example
}

// render builds the replies of one response from its first JSON media
// type (else its first) in the document's order: the media type's example,
// then its named examples, else a sample of its schema. An example that
// breaks the schema (the document was warned about it) is answered with
// the sample instead, so every answer fits the document's own schema.
func render(doc *specs.Document, r *specs.Response, checks *sample.Checks) *answer {
	status := r.Status
	if status == 0 {
		status = http.StatusOK // "default" as the only answer stands for success
	}
	a := &answer{status: status, named: map[string]*connector.Result{}}
	media := pickMedia(r.Media)
	if media == nil || status == http.StatusNoContent || status == http.StatusNotModified {
		a.body = &connector.Result{Reply: &engine.Reply{Status: status}}
		return a
	}
	a.contentType = media.Type
	reply := func(v any) *connector.Result {
		return &connector.Result{Reply: &engine.Reply{Status: status, ContentType: media.Type, Body: encode(media.Type, v)}}
	}
	var made *connector.Result
	sampled := func() *connector.Result {
		if made == nil {
			if schema := media.SchemaNode(); schema != nil {
				made = reply(sample.Generate(schema, sample.Options{Resolve: doc.Resolve, Checks: checks}))
			} else {
				made = &connector.Result{Reply: &engine.Reply{Status: status, ContentType: media.Type}}
			}
		}
		return made
	}
	for _, ex := range media.Examples {
		var rep *connector.Result
		if ex.Fits {
			rep = reply(ex.Value)
		} else {
			rep = sampled()
		}
		if ex.Name != "" {
			a.named[ex.Name] = rep
		}
		if ex.Name == "" || a.body == nil {
			a.body = rep
		}
	}
	if a.body == nil {
		a.body = sampled()
	}
	return a
}

// pickMedia prefers the first JSON media type, else the first declared.
func pickMedia(media []*specs.ResponseMedia) *specs.ResponseMedia {
	for _, m := range media {
		if isJSON(m.Type) {
			return m
		}
	}
	if len(media) == 0 {
		return nil
	}
	return media[0]
}

func isJSON(mt string) bool {
	base, _, _ := strings.Cut(strings.ToLower(mt), ";")
	base = strings.TrimSpace(base)
	return base == "application/json" || strings.HasSuffix(base, "+json")
}

// encode renders an example: JSON for JSON media (and for structured values
// in any media), the text itself for a string example in a text media type.
func encode(mediaType string, v any) []byte {
	if s, ok := v.(string); ok && !isJSON(mediaType) {
		return []byte(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
