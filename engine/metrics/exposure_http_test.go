package metrics_test

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// TestMetricsOnTheirOwnListener: with Metrics.Addr the metrics are served
// on a listener of their own, without credentials, and the main listener
// does not serve /metrics, even to the super admin.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Metrics.Addr = "127.0.0.1:0" }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- inst.ServeMetrics(ln) }()
	if r := inst.Admin().Get(t, "/healthz"); r.Status != http.StatusOK {
		t.Fatalf("healthz: %d", r.Status)
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics on the metrics listener: %d %v", resp.StatusCode, err)
	}
	got := parse(t, body)
	if v, ok := got.value("dynapi_http_requests_total", map[string]string{"route": "GET /healthz", "status": "200"}); !ok || v != 1 {
		t.Fatalf("healthz requests %v (%v), want 1", v, ok)
	}
	if r := inst.Admin().Get(t, "/metrics"); r.Status != http.StatusNotFound {
		t.Fatalf("GET /metrics on the main listener: %d %s, want 404", r.Status, r.Body)
	}
	inst.Close(t)
	if err := <-served; err != nil {
		t.Fatalf("the metrics listener ended with %v", err)
	}
}

// TestMetricsOff: with metrics off nothing is recorded, /metrics is a 404
// and the engine serves as before; an address to serve them on is then a
// configuration error.
func TestMetricsOff(t *testing.T) {
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Metrics.Disabled = true }))
	if inst.Metrics != nil {
		t.Fatal("metrics are off but the instance has a metrics set")
	}
	admin := inst.Admin()
	if r := admin.Get(t, "/metrics"); r.Status != http.StatusNotFound {
		t.Fatalf("GET /metrics: %d %s, want 404", r.Status, r.Body)
	}
	admin.MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/bench", enginetest.ReadFile(t, testpaths.Shared("bench", "accounts.yaml")))
	if r := admin.Get(t, "/bench/hello"); r.Status != http.StatusOK {
		t.Fatalf("mock GET: %d %s", r.Status, r.Body)
	}
	if err := inst.ServeMetrics(nil); err == nil {
		t.Fatal("ServeMetrics with metrics off did not fail")
	}
	_, err := enginetest.Start(t, enginetest.Configure(func(c *dynapi.Config) {
		c.Metrics = dynapi.MetricsConfig{Disabled: true, Addr: "127.0.0.1:9"}
	}))
	if err == nil {
		t.Fatal("metrics off with a metrics address started")
	}
}

// TestMetricsOfDeletedDocument: a deleted document's request series go
// with the snapshot that served it; the other routes' stay.
func TestMetricsOfDeletedDocument(t *testing.T) {
	inst := enginetest.New(t)
	admin := inst.Admin()
	created := admin.MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument("/gone", "soonGone"))
	if r := admin.Get(t, "/gone/soonGone"); r.Status != http.StatusOK {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	series := map[string]string{"route": "soonGone", "method": "GET", "status": "200"}
	if _, ok := scrape(t, admin).value("dynapi_http_requests_total", series); !ok {
		t.Fatal("no series of the document's operation")
	}
	if r := admin.Delete(t, "/admin/v1/dynamic-endpoints/"+created["dynamic_endpoint_id"].(string)); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	got := scrape(t, admin)
	if _, ok := got.value("dynapi_http_requests_total", series); ok {
		t.Error("the deleted document's series are still exported")
	}
	if _, ok := got.value("dynapi_http_requests_total", map[string]string{"route": "POST /admin/v1/dynamic-endpoints"}); !ok {
		t.Error("a fixed route's series went too")
	}
}
