package regexgen

import (
	"math/rand/v2"
	"testing"
)

// TestSumMatchesNaive compares the interval-wise sumset with the definition.
func TestSumMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		n := r.IntN(300)
		w := newWalker(n)
		a, b := newLenSet(n), newLenSet(n)
		for i := 0; i <= n; i++ {
			if r.IntN(4) == 0 {
				a.add(i)
			}
			if r.IntN(3) == 0 || i > n/2 && r.IntN(2) == 0 {
				b.add(i)
			}
		}
		got := w.sum(a, b)
		want := newLenSet(n)
		for x := 0; x <= n; x++ {
			for y := 0; x+y <= n; y++ {
				if a.has(x) && b.has(y) {
					want.add(x + y)
				}
			}
		}
		if !got.equal(want) {
			t.Fatalf("n=%d: sum differs", n)
		}
	}
}
