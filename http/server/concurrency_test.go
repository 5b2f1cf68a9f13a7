package server_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// TestHotSwapUnderLoad serves requests while documents are added and
// removed. A route that stays must answer every time; a route that comes and
// goes answers 200 or 404, never anything else; management calls from
// several goroutines at once all succeed.
func TestHotSwapUnderLoad(t *testing.T) {
	inst := enginetest.New(t)
	stable := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml"))
	churn := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore-expanded.yaml"))
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", stable)

	const writers, rounds, readers = 3, 6, 4
	var stop atomic.Bool
	var served, failures atomic.Int64
	var readersDone sync.WaitGroup
	for range readers {
		readersDone.Add(1)
		go func() {
			defer readersDone.Done()
			for !stop.Load() {
				if r := inst.Admin().Get(t, "/v1/pets/7"); r.Status != 200 {
					failures.Add(1)
					t.Errorf("stable route answered %d: %s", r.Status, r.Body)
				}
				r := inst.Admin().Get(t, "/churn0/pets")
				if r.Status != 200 && r.Status != 404 {
					failures.Add(1)
					t.Errorf("churning route answered %d: %s", r.Status, r.Body)
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
				r := inst.Admin().Post(t, path, churn)
				if r.Status != http.StatusCreated {
					t.Errorf("create: %d %s", r.Status, r.Body)
					return
				}
				id := r.JSON(t)["dynamic_endpoint_id"].(string)
				if r := inst.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+id); r.Status != 204 {
					t.Errorf("delete: %d %s", r.Status, r.Body)
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
	list := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)
	if n := len(list["dynamic_endpoints"].([]any)); n != 1 {
		t.Fatalf("%d endpoints left, want the stable one", n)
	}
}
