package connector_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// petPlugin is an embedder's connector answering every method with one
// pet.
type petPlugin struct{}

func (petPlugin) Prepare(*connector.Method, connector.Params) (connector.Invoker, error) {
	return connector.InvokerFunc(func(context.Context, *connector.Request) (*connector.Result, error) {
		return &connector.Result{Data: map[string]any{"id": 7, "name": "Plugin"}}, nil
	}), nil
}

// TestRoutingToHostConnectors: obp_mock and dynamic_entity are connectors
// like any other, so a method routing sends a dynamic operation to either,
// whichever its document's host is, and the host answers again once the
// routing goes; a plugin connector can be a document's host too.
func TestRoutingToHostConnectors(t *testing.T) {
	e := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) {
		c.Connectors.Plugins = map[string]connector.Connector{"pets_backend": petPlugin{}}
	}))
	admin := e.Admin()
	mustStatus(t, admin.PostJSON(t, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"],
	  "properties": {"name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "example": 1}}},
	  "hasPersonalEntity": false}`), http.StatusCreated)
	mustStatus(t, admin.PostJSON(t, "/entities/PetEntity", map[string]any{"name": "Rex", "pet_number": 7}), http.StatusCreated)
	doc := admin.MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/pets.yaml"))
	mustStatus(t, admin.PostJSON(t, "/admin/v1/endpoint-mappings", map[string]any{"operation_id": "showRoutedPet",
		"request_mapping": map[string]any{},
		"response_mapping": map[string]any{"id": map[string]any{"entity": "PetEntity", "field": "pet_number", "query": "pet_number"},
			"name": map[string]any{"entity": "PetEntity", "field": "name"}}}), http.StatusCreated)

	const example, record, plugin = `{"id":1,"name":"Example"}`, `{"id":7,"name":"Rex"}`, `{"id":7,"name":"Plugin"}`
	var routing string
	route := func(conn string) func(t *testing.T) {
		return func(t *testing.T) {
			r := admin.PostJSON(t, "/admin/v1/method-routings", map[string]any{"method_name": "showRoutedPet",
				"connector_name": conn, "is_bank_id_exact_match": false, "bank_id_pattern": "*"})
			mustStatus(t, r, http.StatusCreated)
			routing, _ = r.JSON(t)["method_routing_id"].(string)
		}
	}
	unroute := func(t *testing.T) {
		mustStatus(t, admin.Delete(t, "/admin/v1/method-routings/"+routing), http.StatusNoContent)
	}
	setHost := func(host string) func(t *testing.T) {
		return func(t *testing.T) {
			mustStatus(t, admin.Send(t, enginetest.JSONRequest(t, http.MethodPut,
				"/admin/v1/dynamic-endpoints/"+doc["dynamic_endpoint_id"].(string)+"/host", map[string]string{"host": host})), http.StatusOK)
		}
	}
	for _, step := range []struct {
		name   string
		change func(t *testing.T) // nil: none
		want   string             // the body GET /routed-pets/pets/7 answers
	}{
		{"obp_mock host", nil, example},
		{"routed to dynamic_entity", route("dynamic_entity"), record},
		{"routing deleted", unroute, example},
		{"dynamic_entity host", setHost("dynamic_entity"), record},
		{"routed to obp_mock", route("obp_mock"), example},
		{"routing deleted again", unroute, record},
		{"routed to mock, obp_mock's alias", route("mock"), example},
		{"routing deleted once more", unroute, record},
		{"a plugin host", setHost("pets_backend"), plugin},
		{"routed to dynamic_entity from a plugin host", route("dynamic_entity"), record},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.change != nil {
				step.change(t)
			}
			r := admin.Get(t, "/routed-pets/pets/7")
			if r.Status != http.StatusOK || string(r.Body) != step.want {
				t.Fatalf("status %d, body %s; want 200 %s", r.Status, r.Body, step.want)
			}
		})
	}

	t.Run("dynamic_entity refuses a built-in method", func(t *testing.T) {
		r := admin.PostJSON(t, "/admin/v1/method-routings", map[string]any{"method_name": "getBank",
			"connector_name": "dynamic_entity", "bank_id_pattern": "*"})
		if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "body", "/connector_name", "*") {
			t.Fatalf("status %d, body %s; want a 400 at /connector_name", r.Status, r.Body)
		}
	})
}

// TestHostConnectorNamesAreTaken: a plugin registered under the name of a
// connector the engine registers itself refuses the start, naming it.
func TestHostConnectorNamesAreTaken(t *testing.T) {
	for _, name := range []string{"obp_mock", "dynamic_entity"} {
		t.Run(name, func(t *testing.T) {
			cfg := enginetest.Config(t.TempDir())
			cfg.Connectors.Plugins = map[string]connector.Connector{name: named(name)}
			inst, err := dynapi.Open(context.Background(), cfg)
			if err == nil {
				_ = inst.Close(context.Background())
				t.Fatalf("a plugin named %s started", name)
			}
			if !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Fatalf("error %q does not name %s", err, name)
			}
		})
	}
}

func mustStatus(t *testing.T, r enginetest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}
