package dynapi_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// TestHotSwapUnderLoad serves requests while documents are added and
// removed. A route that stays must answer every time; a route that comes and
// goes answers 200 or 404, never anything else; management calls from
// several goroutines at once all succeed.
func TestHotSwapUnderLoad(t *testing.T) {
	inst := open(t, "")
	stable := readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore.yaml"))
	churn := readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore-expanded.yaml"))
	mustCreate(t, inst, "/admin/v1/dynamic-endpoints", stable)

	const writers, rounds, readers = 3, 6, 4
	var stop atomic.Bool
	var served, failures atomic.Int64
	var readersDone sync.WaitGroup
	for range readers {
		readersDone.Add(1)
		go func() {
			defer readersDone.Done()
			for !stop.Load() {
				if r := do(t, inst, request{method: "GET", path: "/v1/pets/7"}); r.status != 200 {
					failures.Add(1)
					t.Errorf("stable route answered %d: %s", r.status, r.body)
				}
				r := do(t, inst, request{method: "GET", path: "/churn0/pets"})
				if r.status != 200 && r.status != 404 {
					failures.Add(1)
					t.Errorf("churning route answered %d: %s", r.status, r.body)
				}
				served.Add(2)
			}
		}()
	}
	var writersDone sync.WaitGroup
	for w := range writers {
		writersDone.Add(1)
		go func() {
			defer writersDone.Done()
			for range rounds {
				path := fmt.Sprintf("/admin/v1/dynamic-endpoints?mount=/churn%d", w)
				r := postDocument(t, inst, path, churn, "")
				if r.status != http.StatusCreated {
					t.Errorf("create: %d %s", r.status, r.body)
					return
				}
				id := r.json(t)["dynamic_endpoint_id"].(string)
				if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/dynamic-endpoints/" + id}); r.status != 204 {
					t.Errorf("delete: %d %s", r.status, r.body)
				}
			}
		}()
	}
	writersDone.Wait()
	stop.Store(true)
	readersDone.Wait()
	if failures.Load() > 0 || served.Load() == 0 {
		t.Fatalf("%d failures in %d requests", failures.Load(), served.Load())
	}
	list := do(t, inst, request{method: "GET", path: "/admin/v1/dynamic-endpoints"}).json(t)
	if n := len(list["dynamic_endpoints"].([]any)); n != 1 {
		t.Fatalf("%d endpoints left, want the stable one", n)
	}
}
