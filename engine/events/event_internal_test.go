package events

import (
	"fmt"
	"math"
	"testing"
)

func TestOutboxKeyOrdersByNumber(t *testing.T) {
	for _, n := range []uint64{0, 1, 9, 10, 12345678901234567890, math.MaxUint64} {
		if got, want := outboxKey(n), fmt.Sprintf("%020d", n); got != want {
			t.Errorf("outboxKey(%d) = %s, want %s", n, got, want)
		}
	}
}
