package specs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/sample"
	"github.com/dynapi/dynapi/specs"
)

// fuzzRequest presents fuzzed input as a request: the parameters the
// operation requires, or all it declares, get value ("&" separating the
// values of a repeated query parameter).
type fuzzRequest struct {
	value, contentType string
	body               []byte
	// only, when not nil, names the parameters given a value.
	only map[string]bool
}

func (r fuzzRequest) PathValue(int) string { return r.value }

func (r fuzzRequest) QueryValues(name string) []string {
	if v, ok := r.lookup(name); ok {
		return strings.Split(v, "&")
	}
	return nil
}

func (r fuzzRequest) Header(name string) (string, bool) { return r.lookup(name) }

func (r fuzzRequest) Cookie(name string) (string, bool) { return r.lookup(name) }

func (r fuzzRequest) lookup(name string) (string, bool) {
	if r.value == "" || (r.only != nil && !r.only[name]) {
		return "", false
	}
	return r.value, true
}

func (r fuzzRequest) ContentType() string { return r.contentType }

func (r fuzzRequest) Body() []byte { return r.body }

// numbersDocument adds what the bank document lacks: numbers with minimum,
// maximum and multipleOf in every place, and an unbounded array under a
// backtracking pattern.
const numbersDocument = `{"openapi": "3.0.3", "info": {"title": "numbers", "version": "1"}, "paths": {
 "/amounts/{amount}": {"post": {"operationId": "postAmount", "parameters": [
   {"name": "amount", "in": "path", "required": true, "schema": {"type": "number", "minimum": 0, "multipleOf": 0.01}},
   {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer", "maximum": 100}}},
   {"name": "filter", "in": "query", "content": {"application/json": {"schema": {"type": "object", "properties": {"min": {"type": "number", "minimum": 0}}}}}}],
  "requestBody": {"content": {
   "application/json": {"schema": {"$ref": "#/components/schemas/Payment"}},
   "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Payment"}}}},
  "responses": {"200": {"description": "ok"}}}}},
 "components": {"schemas": {"Payment": {"type": "object", "required": ["amount"], "properties": {
  "amount": {"type": "number", "minimum": 0.01, "maximum": 1000000, "multipleOf": 0.01},
  "tags": {"type": "array", "items": {"type": "number", "exclusiveMaximum": true, "maximum": 10}},
  "refs": {"type": "array", "items": {"type": "string", "maxLength": 64, "pattern": "^(?!x)(a+)+$"}}}}}}}`

// fuzzOperation is one operation the fuzz target validates against, with
// its document.
type fuzzOperation struct {
	doc      *specs.Document
	op       *specs.Operation
	required map[string]bool // names of the parameters it requires
}

// fuzzTarget is what the fuzz target validates against: the operations of
// UK Open Banking's payment initiation document and of numbersDocument,
// loaded once per process.
var fuzzTarget = sync.OnceValues(func() ([]fuzzOperation, error) {
	raw, err := os.ReadFile(filepath.Join(sharedSpecs, "ob-uk-v4.0", "payment-initiation-openapi.yaml"))
	if err != nil {
		return nil, err
	}
	var ops []fuzzOperation
	for _, d := range []struct {
		data []byte
		ct   string
	}{{raw, "application/yaml"}, {[]byte(numbersDocument), "application/json"}} {
		doc, err := specs.Load(d.data, d.ct, specs.Options{})
		if err != nil {
			return nil, err
		}
		for _, op := range doc.Operations {
			required := map[string]bool{}
			for _, p := range op.Params {
				required[p.Name] = p.Required
			}
			ops = append(ops, fuzzOperation{doc, op, required})
		}
	}
	return ops, nil
})

// fuzzSeeds are valid requests to start from: for every operation with a
// JSON body, a body built from its schema, with its required parameters.
// The attacks (huge exponents, duplicate keys, text that is not UTF-8,
// lone surrogates, deep nesting, long arrays of backtracking matches) are
// the seed corpus in testdata/fuzz/FuzzValidateRequest.
func fuzzSeeds(t testing.TB) [][5]any {
	ops, err := fuzzTarget()
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][5]any
	for i, o := range ops {
		if o.op.Body == nil {
			continue
		}
		for _, m := range o.op.Body.Media {
			node := m.Node()["schema"]
			if node == nil || !m.IsJSON() {
				continue
			}
			valid, err := json.Marshal(sample.Generate(node, sample.Options{Resolve: o.doc.Resolve, IgnoreExamples: true, Request: true}))
			if err == nil {
				seeds = append(seeds, [5]any{uint8(i), false, "12.5", m.Type, valid})
			}
		}
	}
	return seeds
}

// TestFuzzSeedsAccepted checks the seeds are accepted, so the fuzz target
// reaches its checks of accepted bodies.
func TestFuzzSeedsAccepted(t *testing.T) {
	ops, err := fuzzTarget()
	if err != nil {
		t.Fatal(err)
	}
	seeds := fuzzSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("no seeds")
	}
	for _, s := range seeds {
		o := ops[s[0].(uint8)]
		req := fuzzRequest{value: s[2].(string), contentType: s[3].(string), body: s[4].([]byte), only: o.required}
		if _, err := o.op.Validate(req); err != nil {
			t.Errorf("%s %s refuses its seed: %v", o.op.Method, o.op.Path, err)
		}
	}
}

// FuzzValidateRequest drives the compiled validation of a real bank
// document (and of numbersDocument) with fuzzed parameters and bodies. It
// must never panic; every refusal is an *engine.Error with status 400 (or
// 415 for a media type the operation does not take) whose violations name
// a location and a JSON pointer; an accepted JSON body decodes, with
// encoding/json, to the same value validation returned, which its schema
// accepts.
func FuzzValidateRequest(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s[0].(uint8), s[1].(bool), s[2].(string), s[3].(string), s[4].([]byte))
	}
	ops, err := fuzzTarget()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, allParams bool, value, contentType string, body []byte) {
		o := ops[int(opIndex)%len(ops)]
		req := fuzzRequest{value: value, contentType: contentType, body: body, only: o.required}
		if allParams {
			req.only = nil
		}
		got, err := o.op.ValidateWithin(req, 10*time.Millisecond)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkAccepted(t, o.op, contentType, body, got)
	})
}

func checkRefusal(t *testing.T, err error) {
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("refusal %v is not an *engine.Error", err)
	}
	switch e.Status {
	case 415:
		return
	case 400:
	default:
		t.Fatalf("refusal with status %d: %v", e.Status, err)
	}
	if len(e.Violations) == 0 {
		t.Fatalf("a 400 without violations: %v", err)
	}
	for _, v := range e.Violations {
		switch v.Location {
		case "path", "query", "header", "cookie", "body":
		default:
			t.Fatalf("violation at location %q: %+v", v.Location, v)
		}
		if (v.Pointer != "" && !strings.HasPrefix(v.Pointer, "/")) || v.Code == "" || v.Message == "" {
			t.Fatalf("violation without a pointer, code or message: %+v", v)
		}
	}
}

// checkAccepted checks an accepted JSON body against encoding/json and its
// schema. The media type is found as validation finds it when the
// Content-Type names it exactly.
func checkAccepted(t *testing.T, op *specs.Operation, contentType string, body []byte, got any) {
	if op.Body == nil || len(body) == 0 {
		return
	}
	for _, m := range op.Body.Media {
		if m.Type != contentType || !m.IsJSON() {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("accepted a body encoding/json refuses (%v): %q", err, body)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("accepted a body with data after its value: %q", body)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("accepted body decodes to %#v, encoding/json reads %#v", got, want)
		}
		if m.Schema != nil {
			if err := m.Schema.Validate(got); err != nil {
				t.Fatalf("accepted a body its schema refuses: %v", err)
			}
		}
	}
}
