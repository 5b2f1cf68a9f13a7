package metrics_test

import (
	"bytes"
	"strconv"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine/metrics"
)

// TestRouteCountsConcurrentRequests: requests recorded at once from many
// goroutines, with more method and status pairs than a route keeps in its
// array, are each counted once, under their own labels; a method outside
// the known ones and a status outside 100-599 are labelled "other".
func TestRouteCountsConcurrentRequests(t *testing.T) {
	set := metrics.New()
	route := set.OperationRoute("getThing")
	const workers, each = 8, 250
	statuses := make([]int, 20) // more pairs than the route's 16 slots
	for i := range statuses {
		statuses[i] = 200 + i
	}
	want := map[int]float64{}
	for w := range workers {
		for i := range each {
			want[statuses[(w+i)%len(statuses)]]++
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				route.Observe("GET", statuses[(w+i)%len(statuses)], metrics.Clock())
			}
		})
	}
	wg.Wait()
	route.Observe("BREW", 999, metrics.Clock())

	var out bytes.Buffer
	if err := set.Write(&out); err != nil {
		t.Fatal(err)
	}
	got := parse(t, out.Bytes())
	for _, status := range statuses {
		labels := map[string]string{"route": "getThing", "method": "GET", "status": strconv.Itoa(status)}
		if v, ok := got.value("dynapi_http_requests_total", labels); !ok || v != want[status] {
			t.Errorf("status %d: %v requests counted (%v), want %v", status, v, ok, want[status])
		}
		if v, _ := got.value("dynapi_http_request_duration_seconds", labels); v != want[status] {
			t.Errorf("status %d: the histogram counts %v, want %v", status, v, want[status])
		}
	}
	if v, ok := got.value("dynapi_http_requests_total", map[string]string{"route": "getThing", "method": "other", "status": "other"}); !ok || v != 1 {
		t.Errorf("unknown method and status: %v (%v), want 1", v, ok)
	}
}
