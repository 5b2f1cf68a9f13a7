package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/fakeclock"
)

// TestSweepForgetsIdleCounters: memory is held for the callers of the
// current windows only; a forgotten counter had nothing left to count.
func TestSweepForgetsIdleCounters(t *testing.T) {
	clock := fakeclock.New()
	s := &Service{now: clock.Now, defaults: [subjects]Limits{
		Consumer: {Calls: [periods]int64{Minute: 1}}, User: {Calls: [periods]int64{Second: 1}}}}
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
