package identity

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

func TestSessionValid(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	issued := e.clock.Now()
	e.clock.Advance(time.Second)
	steps := []struct {
		name          string
		do            func() error
		before, after bool // a session issued at the start, one issued after the step
	}{
		{"untouched", func() error { return nil }, true, true},
		{"locked", func() error { _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, u.ID, true); return err }, false, false},
		{"unlocked", func() error { _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, u.ID, false); return err }, false, true},
		{"password reset", func() error {
			_, err := e.s.SetPassword(e.ctx(), audit.Actor{}, u.ID, "another passw0rd 1")
			return err
		}, false, true},
		{"password changed", func() error {
			return e.s.ChangePassword(e.ctx(), audit.Actor{UserID: u.ID}, "another passw0rd 1", "a third passw0rd 2")
		}, false, true},
		{"deleted", func() error { return e.deleteUser(audit.Actor{}, u.ID) }, false, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			if got := e.s.SessionValid(u.ID, issued); got != st.before {
				t.Errorf("a session issued before: %v, want %v", got, st.before)
			}
			e.clock.Advance(time.Second)
			if got := e.s.SessionValid(u.ID, e.clock.Now()); got != st.after {
				t.Errorf("a session issued after: %v, want %v", got, st.after)
			}
			e.clock.Advance(time.Second)
		})
	}
	t.Run("survives a restart", func(t *testing.T) {
		if e.reopen().SessionValid(u.ID, e.clock.Now()) {
			t.Fatal("a deleted user's session is valid after a restart")
		}
	})
	if !e.s.SessionValid("someone-else", time.Time{}) {
		t.Error("a user without a standing is refused")
	}
}

func TestSessionValidAllocatesNothing(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	if _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, u.ID, true); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if n := testing.AllocsPerRun(100, func() {
		e.s.SessionValid(u.ID, now)
		e.s.SessionValid("other", now)
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestLockedBeforeStandings: a store from before standings keeps its locked
// users' tokens refused.
func TestLockedBeforeStandings(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	if _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, u.ID, true); err != nil {
		t.Fatal(err)
	}
	err := e.store.Update(e.ctx(), func(tx engine.Tx) error {
		if err := tx.Delete(bucketStanding, u.ID); err != nil {
			return err
		}
		return tx.Delete(bucketMeta, standingMarker)
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.reopen().SessionValid(u.ID, e.clock.Now().Add(-time.Hour)) {
		t.Fatal("a user locked before standings existed has valid sessions")
	}
}

func TestDeleteUserDisablesConsumers(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	mine, _, err := e.s.CreateConsumer(e.ctx(), audit.Actor{UserID: u.ID}, "alice's app")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.s.CreateConsumer(e.ctx(), audit.Actor{}, "someone else's app")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.deleteUser(audit.Actor{}, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.ConsumerByKey(mine.Key); ok {
		t.Error("the deleted user's consumer is enabled")
	}
	if _, ok := e.s.ConsumerByKey(other.Key); !ok {
		t.Error("another consumer was disabled")
	}
	if !slices.Contains(e.actions(), "consumer.disable") {
		t.Error("not audited")
	}
}

func TestExternalUserDeletedComesBack(t *testing.T) {
	e := newEnv(t)
	old, err := e.s.ExternalUser(e.ctx(), "https://idp", "s1", "dave", "")
	if err != nil {
		t.Fatal(err)
	}
	tokenBefore := e.clock.Now()
	e.clock.Advance(time.Second)
	if err := e.deleteUser(audit.Actor{}, old.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	again, err := e.s.ExternalUser(e.ctx(), "https://idp", "s1", "dave", "")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == old.ID {
		t.Fatal("the deleted user came back")
	}
	if e.s.SessionValid(again.ID, tokenBefore) {
		t.Error("a token issued before the deletion is valid for the identity's new user")
	}
	if !e.s.SessionValid(again.ID, e.clock.Now()) {
		t.Error("a token issued after the deletion is refused")
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	ext, err := e.s.ExternalUser(e.ctx(), "https://idp", "s1", "dave", "")
	if err != nil {
		t.Fatal(err)
	}
	a := audit.Actor{UserID: u.ID, Address: "10.0.0.1"}
	tests := []struct {
		name, current, next string
		actor               audit.Actor
		status              int
		pointers            []string
	}{
		{"wrong current", "wrong password 1", "a new passw0rd 22", a, 400, []string{"/current_password"}},
		{"missing current, weak new", "", "short", a, 400, []string{"/current_password", "/new_password"}},
		{"external user", "x", "a new passw0rd 22", audit.Actor{UserID: ext.ID}, 409, nil},
		{"unknown user", "x", "a new passw0rd 22", audit.Actor{UserID: "nope"}, 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.s.ChangePassword(e.ctx(), tc.actor, tc.current, tc.next)
			got := engine.AsError(err)
			if got.Status != tc.status {
				t.Fatalf("%v, want %d", err, tc.status)
			}
			var pointers []string
			for _, v := range got.Violations {
				pointers = append(pointers, v.Pointer)
			}
			slices.Sort(pointers)
			if !slices.Equal(pointers, tc.pointers) {
				t.Errorf("violations at %v, want %v", pointers, tc.pointers)
			}
		})
	}
	if err := e.s.ChangePassword(e.ctx(), a, goodPassword, "a new passw0rd 22"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckPassword(e.ctx(), "alice", "a new passw0rd 22", ""); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	if !slices.Contains(e.actions(), "user.password_change") {
		t.Error("not audited")
	}
}

func TestSecurityEvents(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.LoginEventsPerMinute = 3
		o.Throttle = ThrottleOptions{MaxFailures: 100}
	})
	u := e.user("alice")
	ctx := WithCorrelationID(e.ctx(), "corr-1")
	for _, pw := range []string{"Guess-One-1", "Guess-Two-2"} {
		_, _ = e.s.CheckPassword(ctx, "alice", pw, "10.0.0.9")
	}
	_, _ = e.s.CheckPassword(ctx, "Secret-As-Username", "Guess-Three-3", "10.0.0.9")
	for range 5 { // over the budget: counted, not written
		_, _ = e.s.CheckPassword(ctx, "alice", "Guess-Four-4", "10.0.0.9")
	}
	entries := func() []audit.Entry {
		t.Helper()
		list, _, err := e.log.List(e.ctx(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []audit.Entry
		for _, a := range list {
			if strings.HasPrefix(a.Action, "login.") {
				out = append(out, a)
			}
		}
		return out
	}
	got := entries()
	if len(got) != 3 {
		t.Fatalf("%d login events written, want the budget of 3", len(got))
	}
	want := []struct{ user, reason string }{{u.ID, ReasonWrongPassword}, {u.ID, ReasonWrongPassword}, {"", ReasonUnknownUser}}
	for i, w := range want {
		g := got[i]
		if g.Action != ActionLoginFailure || g.UserID != w.user || g.Details["reason"] != w.reason ||
			g.Address != "10.0.0.9" || g.CorrelationID != "corr-1" {
			t.Errorf("event %d: %+v, want %+v", i, g, w)
		}
	}
	e.clock.Advance(time.Minute)
	_, _ = e.s.CheckPassword(ctx, "alice", "Guess-Five-5", "10.0.0.9")
	got = entries()
	if n := got[len(got)-1].Details["events_left_out"]; n != float64(5) {
		t.Errorf("the next event says %v were left out, want 5", n)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Guess", "Secret-As-Username", "secret-as-username"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("an event holds %q: %s", secret, b)
		}
	}
	if e := engine.AsError(e.s.ClearLoginFailures(e.ctx(), audit.Actor{}, "nope")); e.Status != http.StatusNotFound {
		t.Errorf("clearing an unknown user: %v", e)
	}
}
