package endpoints_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestUnknownHostRefused: a document whose host names no connector is
// refused at submission with a 400 naming where the host was given and the
// connectors there are, and nothing is stored or served; a host change to
// no connector is refused alike.
func TestUnknownHostRefused(t *testing.T) {
	e := enginetest.New(t)
	admin := e.Admin()
	e.Run(t,
		enginetest.Scenario{Name: "document", Caller: admin, WantStatus: http.StatusBadRequest, WantProblem: "unknown_connector",
			Request: enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/dynamic-endpoints",
				Body: enginetest.ReadFile(t, "testdata/unknown-host.yaml")},
			Check: func(t *testing.T, r enginetest.Response) {
				p := r.Problem(t)
				if !enginetest.HasViolation(p, "document", "/x-dynapi-host", "unknown") ||
					!strings.Contains(p.Message, "kafka_vSept2018") || !strings.Contains(p.Message, "dynamic_entity") {
					t.Fatalf("want a violation at /x-dynapi-host naming the host and the connectors: %s", r.Body)
				}
			}},
		enginetest.Scenario{Name: "nothing stored", Caller: admin, WantStatus: http.StatusOK,
			Request: enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/dynamic-endpoints"},
			Check: func(t *testing.T, r enginetest.Response) {
				if list, _ := r.JSON(t)["dynamic_endpoints"].([]any); len(list) != 0 {
					t.Fatalf("%d documents stored: %s", len(list), r.Body)
				}
			}},
		enginetest.Scenario{Name: "nothing served", Caller: admin, WantStatus: http.StatusNotFound,
			Request: enginetest.Request{Method: http.MethodGet, Path: "/nowhere/things"}},
	)

	id := admin.MustCreate(t, "/admin/v1/dynamic-endpoints", petstore(t))["dynamic_endpoint_id"].(string)
	e.Run(t, enginetest.Scenario{Name: "host change", Caller: admin, WantStatus: http.StatusBadRequest, WantProblem: "unknown_connector",
		Request: enginetest.JSONRequest(t, http.MethodPut, "/admin/v1/dynamic-endpoints/"+id+"/host", map[string]string{"host": "nowhere"}),
		Check: func(t *testing.T, r enginetest.Response) {
			if !enginetest.HasViolation(r.Problem(t), "body", "/host", "unknown") {
				t.Fatalf("want a violation at /host: %s", r.Body)
			}
		}},
		enginetest.Scenario{Name: "host kept", Caller: admin, WantStatus: http.StatusOK,
			Request: enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/dynamic-endpoints/" + id},
			Check: func(t *testing.T, r enginetest.Response) {
				if h := r.JSON(t)["host"]; h != "obp_mock" {
					t.Fatalf("host %v after a refused change", h)
				}
			}},
	)
}
