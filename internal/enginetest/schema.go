package enginetest

import (
	"encoding/json"
	"testing"

	"github.com/dynapi/dynapi/specs"
)

// Fits fails the test unless body is valid against the schema doc gives
// operation id's answer of status (its first media type).
func Fits(t testing.TB, doc *specs.Document, id, status string, body []byte) {
	t.Helper()
	for _, op := range doc.Operations {
		if op.ID != id {
			continue
		}
		for _, resp := range op.Responses {
			if resp.Code != status {
				continue
			}
			schema, err := resp.Media[0].CompileSchema()
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s %s: %v: %s", id, status, err, body)
			}
			if err := schema.Validate(v); err != nil {
				t.Errorf("%s %s does not fit the document's schema: %v\n%s", id, status, err, body)
			}
			return
		}
	}
	t.Fatalf("no response %s of %s", status, id)
}
