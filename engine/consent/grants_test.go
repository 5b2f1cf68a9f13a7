package consent

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/authtest"
)

// TestGrantsFollowEveryChange: readers keep reading a consent from the
// check's memory while it is authorised and then revoked; once each change
// returns, every later read sees it, whatever reads raced it.
func TestGrantsFollowEveryChange(t *testing.T) {
	store := authtest.OpenStore(t, "")
	s := NewService(store, audit.New(store, nil), nil)
	profiles := Builtin()
	for round := range 20 {
		c := &Consent{Kind: "account-access", ProfileID: "uk-ob-v4.0-ais", ConsumerID: "tpp", Permissions: []string{"ReadAccountsBasic"}}
		if err := s.Create(t.Context(), c, audit.Actor{}); err != nil {
			t.Fatal(err)
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					if _, err := s.lookup(t.Context(), c.ID, profiles); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for _, change := range []struct {
			want Status
			run  func() error
		}{
			{Authorised, func() error {
				_, err := s.Authorise(t.Context(), c.ID, "psu", []string{"acc-1"}, audit.Actor{})
				return err
			}},
			{Revoked, func() error { _, err := s.Revoke(t.Context(), c.ID, "fraud", audit.Actor{}); return err }},
		} {
			if err := change.run(); err != nil {
				t.Fatal(err)
			}
			g, err := s.lookup(t.Context(), c.ID, profiles)
			if err != nil {
				t.Fatal(err)
			}
			if g.status != change.want || g.grant.Status != string(change.want) {
				t.Fatalf("round %d: read %s after the change to %s returned", round, g.status, change.want)
			}
		}
		stop.Store(true)
		wg.Wait()
	}
	if _, err := s.lookup(t.Context(), "no-such-consent", profiles); !notFound(err) {
		t.Errorf("an unknown consent: %v", err)
	}
	if _, kept := s.grants.m.Load("no-such-consent"); kept {
		t.Error("an unknown consent left an entry behind")
	}
}
