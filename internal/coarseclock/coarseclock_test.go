package coarseclock

import (
	"testing"
	"time"
)

// TestNowFollowsTheSystemClock: the clock is never ahead of the system
// clock, and moves on with it.
func TestNowFollowsTheSystemClock(t *testing.T) {
	first := Now()
	if after := time.Now(); first.After(after) {
		t.Fatalf("coarse %v is ahead of the system clock %v", first, after)
	}
	if lag := time.Since(first); lag > time.Second {
		t.Fatalf("coarse clock lags by %v at its first reading", lag)
	}
	target := first.Add(3 * Resolution)
	for deadline := time.Now().Add(5 * time.Second); !Now().After(target); {
		if time.Now().After(deadline) {
			t.Fatalf("coarse clock stuck at %v", Now())
		}
		time.Sleep(Resolution) // polling the clock's goroutine, not waiting for a result
	}
	if now, sys := Now(), time.Now(); now.After(sys) {
		t.Fatalf("coarse %v is ahead of the system clock %v", now, sys)
	}
}
