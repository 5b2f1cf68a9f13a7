package endpoints_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/router"
	"github.com/dynapi/dynapi/internal/authtest"
)

func oneOperation(mount, id string) []byte {
	return fmt.Appendf(nil, `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"%s"}],
	  "paths":{"/balance":{"get":{"operationId":"%s","responses":{"200":{"description":"ok"}}}}}}`, mount, id)
}

// TestConcurrentCreates races documents through Create, which loads them
// outside the change lock: every role name and route conflict is still
// decided against the snapshot current when each one is swapped in.
func TestConcurrentCreates(t *testing.T) {
	bolt := authtest.OpenStore(t, "")
	m := newManager(t, bolt)
	const n = 8

	t.Run("the same operationId gets a role per document", func(t *testing.T) {
		eps := make([]*endpoints.Endpoint, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ep, err := m.Create(context.Background(), endpoints.CreateInput{Source: oneOperation(fmt.Sprintf("/m%d", i), "getBalance")})
				if err != nil {
					t.Error(err)
				}
				eps[i] = ep
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, ep := range eps {
			if ep == nil {
				t.FailNow()
			}
			role := ep.RoleOf(ep.Doc.Operations[0])
			if seen[role] {
				t.Fatalf("two documents share role %s", role)
			}
			seen[role] = true
		}
		if !seen["CanGetDynamicEndpoint_getBalance"] {
			t.Fatalf("no document got the predictable name: %v", seen)
		}
	})

	t.Run("of documents serving the same route one wins", func(t *testing.T) {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = m.Create(context.Background(), endpoints.CreateInput{Source: oneOperation("/same", fmt.Sprintf("op%d", i))})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			var e *engine.Error
			switch {
			case err == nil:
				won++
			case !errors.As(err, &e) || e.Status != http.StatusConflict || e.Code != engine.CodeRouteConflict:
				t.Fatalf("a loser's error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d documents serve GET /same/balance", won)
		}
		var p router.Params
		if _, ok, _ := m.Snapshot().Routes.Match("GET", "/same/balance", &p); !ok {
			t.Fatal("the winner is not served")
		}
	})
}
