package engine_test

import (
	"context"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// TestEmptyHooksAllocateNothing holds the pipeline's promise that the hook
// lists cost a request nothing while they are empty.
func TestEmptyHooksAllocateNothing(t *testing.T) {
	var hooks engine.Hooks
	ctx, call, reply := context.Background(), &engine.Call{OperationID: "op"}, &engine.Reply{Status: 200}
	allocs := testing.AllocsPerRun(100, func() {
		if err := hooks.Allow(ctx, call); err != nil {
			t.Fatal(err)
		}
		if got, err := hooks.Filter(ctx, call, reply); err != nil || got != reply {
			t.Fatalf("filter: %v, %v", got, err)
		}
	})
	if allocs != 0 {
		t.Errorf("empty hooks allocate %v times per call, want 0", allocs)
	}
}

// BenchmarkHooks measures a call through the hook lists, empty and with
// one policy and one filter that pass.
func BenchmarkHooks(b *testing.B) {
	pass := engine.PolicyFunc(func(context.Context, *engine.Call) error { return nil })
	same := engine.ResponseFilterFunc(func(_ context.Context, _ *engine.Call, r *engine.Reply) (*engine.Reply, error) { return r, nil })
	for _, bc := range []struct {
		name  string
		hooks engine.Hooks
	}{
		{"empty", engine.Hooks{}},
		{"one each", engine.Hooks{Policies: []engine.Policy{pass}, Filters: []engine.ResponseFilter{same}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx, call, reply := context.Background(), &engine.Call{OperationID: "op"}, &engine.Reply{Status: 200}
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.hooks.Allow(ctx, call); err != nil {
					b.Fatal(err)
				}
				if _, err := bc.hooks.Filter(ctx, call, reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
