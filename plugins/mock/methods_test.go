package mock_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/plugins/mock"
)

// TestBuiltinMethods: the obp_mock connector answers a built-in method
// with its message doc's example, else a sample of its data schema, and
// refuses routing parameters.
func TestBuiltinMethods(t *testing.T) {
	bankSchema := map[string]any{"type": "object", "required": []any{"bank_id"},
		"properties": map[string]any{"bank_id": map[string]any{"type": "string", "enum": []any{"gh.29.uk"}}}}
	for _, c := range []struct {
		name   string
		method *connector.Method
		params connector.Params
		want   any
		status int // of a refusal; 0 when prepared
	}{
		{name: "example", method: &connector.Method{Name: "getBank", Data: bankSchema, DataExample: map[string]any{"bank_id": "example"}},
			want: map[string]any{"bank_id": "example"}},
		{name: "sample of the data schema", method: &connector.Method{Name: "getBank", Data: bankSchema},
			want: map[string]any{"bank_id": "gh.29.uk"}},
		{name: "neither", method: &connector.Method{Name: "deleteBank"}},
		{name: "parameters", method: &connector.Method{Name: "getBank"}, params: connector.Params{"url": "x"}, status: http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			inv, err := mock.Connector{}.Prepare(c.method, c.params)
			if c.status != 0 {
				var e *engine.Error
				if !errors.As(err, &e) || e.Status != c.status || len(e.Violations) != 1 || e.Violations[0].Pointer != "/parameters" {
					t.Fatalf("error %v, want a %d at /parameters", err, c.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := inv.Invoke(context.Background(), &connector.Request{Method: c.method})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Data, c.want) {
				t.Fatalf("data %#v, want %#v", res.Data, c.want)
			}
		})
	}
}
