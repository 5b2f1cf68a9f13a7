package consent

import (
	"slices"
	"testing"
)

// TestForgetOtherDays: when a new day is first counted, the counts of
// other days leave memory; counts in all (consents that are not
// recurring) stay.
func TestForgetOtherDays(t *testing.T) {
	s := &Service{}
	for _, key := range []string{"c1/2030-01-01/getBalances/a", "c1/2030-01-02/getBalances/a", "c2/all/getBalances/a"} {
		s.unattended.counts.Store(key, &usageCount{})
	}
	s.forgetOtherDays("2030-01-02")
	var kept []string
	s.unattended.counts.Range(func(key, _ any) bool {
		kept = append(kept, key.(string))
		return true
	})
	slices.Sort(kept)
	if want := []string{"c1/2030-01-02/getBalances/a", "c2/all/getBalances/a"}; !slices.Equal(kept, want) {
		t.Fatalf("kept %v, want %v", kept, want)
	}
}
