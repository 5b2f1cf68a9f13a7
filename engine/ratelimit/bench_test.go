package ratelimit

import (
	"context"
	"github.com/dynapi/dynapi/engine"
	"testing"
)

// BenchmarkAllow is the policy alone on its default clock: a call whose
// consumer and user have no limit, one whose consumer is limited in the
// four periods of fixed length, and one whose user is too.
func BenchmarkAllow(b *testing.B) {
	high := Limits{Calls: [periods]int64{1e9, 1e9, 1e9, 1e9}}
	s := newService(Options{})
	s.swap([subjects]map[string]*own{{"limited": ownLimits(high, new(counter))},
		{"limited-user": ownLimits(high, new(counter))}})
	for _, tc := range []struct {
		name             string
		consumer, userID string
	}{
		{"none", "free", "free-user"},
		{"consumer", "limited", "free-user"},
		{"consumer and user", "limited", "limited-user"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			call := &engine.Call{Principal: &engine.Principal{ConsumerID: tc.consumer, UserID: tc.userID}}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Allow(context.Background(), call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
