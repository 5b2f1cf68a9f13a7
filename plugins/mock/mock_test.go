package mock_test

import (
	"encoding/json"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

const doc = `
openapi: 3.0.3
info: {title: mock, version: "1"}
paths:
  /a:
    get:
      operationId: a
      responses:
        '404':
          description: missing
          content: {application/json: {example: {error: missing}}}
        '201':
          description: made
          content:
            application/json:
              examples:
                one: {value: {n: 1}}
                two: {value: {n: 2}}
        default:
          description: other
          content: {application/json: {schema: {type: object, required: [code], properties: {code: {type: integer, minimum: 7}}}}}
  /text:
    get:
      operationId: text
      responses:
        default:
          description: text
          content: {text/plain: {example: hello}}
  /empty:
    delete:
      operationId: empty
      responses:
        '204': {description: gone}
`

func TestInvoke(t *testing.T) {
	d, err := specs.Load([]byte(doc), "application/yaml", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*specs.Operation{}
	for _, op := range d.Operations {
		ops[op.ID] = op
	}
	cases := []struct {
		op, prefer  string
		status      int
		contentType string
		body        string
	}{
		{"a", "", 201, "application/json", `{"n":1}`},
		{"a", "example=two", 201, "application/json", `{"n":2}`},
		{"a", "code=404", 404, "application/json", `{"error":"missing"}`},
		{"a", "code=404, example=one", 404, "application/json", `{"error":"missing"}`},
		{"a", "code=599", 201, "application/json", `{"n":1}`},
		{"a", `example="two"; code=201`, 201, "application/json", `{"n":2}`},
		{"a", "example=unknown", 201, "application/json", `{"n":1}`},
		{"text", "", 200, "text/plain", "hello"},
		{"empty", "", 204, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.prefer, func(t *testing.T) {
			inv, err := mock.Prepare(d, ops[tc.op])
			if err != nil {
				t.Fatal(err)
			}
			r := inv.Reply(&engine.Call{Prefer: tc.prefer})
			if r.Status != tc.status || r.ContentType != tc.contentType || string(r.Body) != tc.body {
				t.Fatalf("got %d %q %s", r.Status, r.ContentType, r.Body)
			}
		})
	}
}

// TestDefaultResponseSample checks that a response without examples answers
// with a sample valid against its schema.
func TestDefaultResponseSample(t *testing.T) {
	d, err := specs.Load([]byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"default":{"description":"d","content":{"application/json":{"schema":{"type":"object","required":["code"],"properties":{"code":{"type":"integer","minimum":7}}}}}}}}}}}`), "", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := mock.Prepare(d, d.Operations[0])
	if err != nil {
		t.Fatal(err)
	}
	r := inv.Reply(&engine.Call{})
	var got struct{ Code int }
	if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != 200 || got.Code < 7 {
		t.Fatalf("got %d %s", r.Status, r.Body)
	}
}
