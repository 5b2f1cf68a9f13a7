package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/fakeclock"
)

// TestSweepForgetsIdleCounters: memory is held for the callers of the
// current windows only; a forgotten counter had nothing left to count.
func TestSweepForgetsIdleCounters(t *testing.T) {
	clock := fakeclock.New()
	s := newService(Options{Now: clock.Now, Defaults: Config{
		Consumer: Limits{Calls: [periods]int64{Minute: 1}}, User: Limits{Calls: [periods]int64{Second: 1}}}})
	s.swap([subjects]map[string]*own{{}, {}})
	for _, id := range []string{"a", "b", "c"} {
		call := &engine.Call{Principal: &engine.Principal{ConsumerID: "app-" + id, UserID: "user-" + id}}
		if err := s.Allow(context.Background(), call); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Sweep(); n != 0 {
		t.Errorf("swept %d counters in use", n)
	}
	clock.Advance(time.Second)
	if n := s.Sweep(); n != 3 {
		t.Errorf("swept %d once the users' second ended, want their 3", n)
	}
	clock.Advance(time.Minute)
	if n := s.Sweep(); n != 3 {
		t.Errorf("swept %d once the consumers' minute ended, want their 3", n)
	}
	again := &engine.Call{Principal: &engine.Principal{ConsumerID: "app-a", UserID: "user-a"}}
	if err := s.Allow(context.Background(), again); err != nil {
		t.Errorf("a caller whose counter was forgotten: %v", err)
	}
}

// TestConcurrentCallsCountExactly: calls made at once by many goroutines
// are each counted once: exactly the limit of them is let through, and a
// refusal by the user's limit gives the consumer's count back.
func TestConcurrentCallsCountExactly(t *testing.T) {
	clock := fakeclock.New()
	s := newService(Options{Now: clock.Now})
	s.swap([subjects]map[string]*own{
		{"app": ownLimits(Limits{Calls: [periods]int64{Second: 100, Hour: 1000}}, new(counter))},
		{"user": ownLimits(Limits{Calls: [periods]int64{Second: 60}}, new(counter))},
	})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			call := &engine.Call{Principal: &engine.Principal{ConsumerID: "app", UserID: "user"}}
			for range 50 {
				if s.Allow(context.Background(), call) == nil {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 60 {
		t.Errorf("%d of 400 calls let through, want the user's 60", got)
	}
	app := s.view.Load().set[Consumer]["app"].counter
	if got := app.used(Second, clock.Now()); got != 60 {
		t.Errorf("the consumer counts %d calls this second, want the 60 let through", got)
	}
}
