package engine_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// TestChangesInCommitOrder: changes committed one at a time by many
// goroutines reach every subscriber in the order they were committed,
// each once, and each before the Deliver that follows its commit returns.
func TestChangesInCommitOrder(t *testing.T) {
	var cs engine.Changes
	var got [2][]string
	var delivered sync.Map // id -> true
	for i := range got {
		cs.Subscribe(func(c engine.Change) {
			got[i] = append(got[i], c.ID)
			delivered.Store(c.ID, true)
		})
	}
	var commit sync.Mutex // the store's one writer at a time
	var order []string
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				id := strconv.Itoa(g) + "-" + strconv.Itoa(n)
				commit.Lock()
				order = append(order, id)
				cs.Committed(engine.Change{Kind: engine.ChangeDocument, Action: "create", ID: id})
				commit.Unlock()
				cs.Deliver()
				if _, ok := delivered.Load(id); !ok {
					t.Errorf("change %s not delivered when Deliver returned", id)
				}
			}
		})
	}
	wg.Wait()
	for i, ids := range got {
		if len(ids) != len(order) {
			t.Fatalf("subscriber %d got %d changes, want %d", i, len(ids), len(order))
		}
		for j := range ids {
			if ids[j] != order[j] {
				t.Fatalf("subscriber %d: change %d is %s, committed was %s", i, j, ids[j], order[j])
			}
		}
	}
}
