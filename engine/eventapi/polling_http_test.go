package eventapi_test

import (
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestEventPolling: a subscription without a callback URL only polls.
// POST /events answers the TPP's SETs not yet acknowledged, maxEvents of
// them with moreAvailable when more wait; ack and setErrs take them away,
// maxEvents 0 only acknowledges; another TPP neither sees nor
// acknowledges them; every answer fits the document.
func TestEventPolling(t *testing.T) {
	t.Parallel()
	inst, doc := newEngine(t)
	alice, bob := newTPP(t, inst, "alice's app"), newTPP(t, inst, "bob's app")
	psu := inst.CreateUser(t, "psu", "Psu-passw0rd-long")
	for _, a := range []app{alice, bob} {
		if r := a.subscribe(t, map[string]any{"Version": "4.0"}); r.Status != http.StatusCreated {
			t.Fatalf("subscribe: %d %s", r.Status, r.Body)
		}
	}
	first, second := authorisedConsent(t, inst, alice, psu.ID), authorisedConsent(t, inst, alice, psu.ID)
	if _, err := inst.Events.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}

	poll := func(t *testing.T, a app, body map[string]any) (sets map[string]string, more bool) {
		t.Helper()
		r := a.poll(t, body)
		if r.Status != http.StatusOK {
			t.Fatalf("poll %v: %d %s", body, r.Status, r.Body)
		}
		enginetest.Fits(t, doc, "CreateEvents", "200", r.Body)
		got := r.JSON(t)
		sets = map[string]string{}
		for jti, set := range got["sets"].(map[string]any) {
			sets[jti] = set.(string)
		}
		return sets, got["moreAvailable"].(bool)
	}
	all, more := poll(t, alice, map[string]any{})
	if len(all) != 2 || more {
		t.Fatalf("%d SETs, moreAvailable %v; want 2, false", len(all), more)
	}
	var rids []string
	for jti, set := range all {
		claims, _ := verifySET(t, inst, set)
		if claims["jti"] != jti || claims["aud"] != alice.key {
			t.Errorf("SET %s: jti %v, aud %v", jti, claims["jti"], claims["aud"])
		}
		rids = append(rids, eventSubject(t, claims, events.UKResourceUpdate)["http://openbanking.org.uk/rid"].(string))
	}
	if !slices.Contains(rids, first) || !slices.Contains(rids, second) {
		t.Errorf("SETs about %v; want %s and %s", rids, first, second)
	}
	jtis := slices.Collect(maps.Keys(all))

	for _, tc := range []struct {
		name string
		who  app
		body map[string]any
		want int
		more bool
	}{
		{"one at a time", alice, map[string]any{"maxEvents": 1, "returnImmediately": false}, 1, true},
		{"another TPP's poll", bob, map[string]any{"ack": jtis}, 0, false},
		{"another TPP's acks change nothing", alice, map[string]any{}, 2, false},
		{"maxEvents 0 only acknowledges", alice, map[string]any{"maxEvents": 0, "ack": jtis[:1]}, 0, false},
		{"the acknowledged one is gone", alice, map[string]any{}, 1, false},
		{"setErrs take it too", alice, map[string]any{"setErrs": map[string]any{jtis[1]: map[string]string{
			"err": "jwtAud", "description": "not for us"}}}, 0, false},
		{"unknown acks are ignored", alice, map[string]any{"ack": []string{"no-such"}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sets, more := poll(t, tc.who, tc.body)
			if len(sets) != tc.want || more != tc.more {
				t.Errorf("%d SETs, moreAvailable %v; want %d, %v", len(sets), more, tc.want, tc.more)
			}
		})
	}
	if r := alice.poll(t, map[string]any{"maxEvents": "many"}); r.Status != http.StatusBadRequest {
		t.Errorf("maxEvents not a number: %d %s", r.Status, r.Body)
	} else {
		enginetest.Fits(t, doc, "CreateEvents", "400", r.Body)
	}
}

// TestReceiverGoneDisables: a receiver answering 410 Gone disables the
// subscription, after which nothing more is pushed to it (its events, the
// new ones too, stay pollable); changing the subscription makes it
// active again.
func TestReceiverGoneDisables(t *testing.T) {
	t.Parallel()
	inst, _ := newEngine(t)
	rcv := newReceiver(t, inst, http.StatusGone, http.StatusAccepted)
	alice := newTPP(t, inst, "alice's app", rcv.URL)
	psu := inst.CreateUser(t, "psu", "Psu-passw0rd-long")
	created := alice.subscribe(t, map[string]any{"Version": "4.0", "CallbackUrl": rcv.URL})
	if created.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", created.Status, created.Body)
	}
	id := created.JSON(t)["Data"].(map[string]any)["EventSubscriptionId"].(string)
	authorisedConsent(t, inst, alice, psu.ID)
	if got := advanceUntil(t, inst, rcv, 1, time.Minute); len(got) != 1 {
		t.Fatalf("%d attempts; want 1", len(got))
	}
	sub, err := inst.Events.Subscription(t.Context(), alice.id, id)
	if err != nil || sub.Status != events.SubscriptionDisabled {
		t.Fatalf("after 410: %+v, %v; want disabled", sub, err)
	}
	authorisedConsent(t, inst, alice, psu.ID)
	if got := advanceUntil(t, inst, rcv, 2, 2*time.Minute); len(got) != 1 {
		t.Errorf("%d attempts after the 410; want none more", len(got)-1)
	}
	if sets := alice.poll(t, map[string]any{}).JSON(t)["sets"].(map[string]any); len(sets) != 2 {
		t.Errorf("%d SETs pollable; want the one refused with 410 and the one made after", len(sets))
	}

	changed := alice.send(t, "PUT", subscriptions+"/"+id, map[string]any{"Data": map[string]any{
		"EventSubscriptionId": id, "Version": "4.0", "CallbackUrl": rcv.URL}})
	if changed.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", changed.Status, changed.Body)
	}
	authorisedConsent(t, inst, alice, psu.ID)
	if got := advanceUntil(t, inst, rcv, 2, time.Minute); len(got) != 2 {
		t.Errorf("%d attempts after enabling again; want 2", len(got))
	}
}

// TestLinkedAccountUpdate: a subscription to the linked-account-update
// type alone gets a SET when the customer changes the accounts an
// authorised consent shares, and none for the authorisation itself.
func TestLinkedAccountUpdate(t *testing.T) {
	t.Parallel()
	inst, _ := newEngine(t)
	alice := newTPP(t, inst, "alice's app")
	psu := inst.CreateUser(t, "psu", "Psu-passw0rd-long")
	if r := alice.subscribe(t, map[string]any{"Version": "4.0", "EventTypes": []string{events.UKLinkedAccountUpdate}}); r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	id := authorisedConsent(t, inst, alice, psu.ID)
	if _, err := inst.Consents.ChangeAccounts(t.Context(), id, psu.ID, []string{"acc-2"}, audit.Actor{UserID: psu.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Events.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	sets := alice.poll(t, map[string]any{}).JSON(t)["sets"].(map[string]any)
	if len(sets) != 1 {
		t.Fatalf("%d SETs; want the accounts' change alone", len(sets))
	}
	for _, set := range sets {
		claims, _ := verifySET(t, inst, set.(string))
		if s := eventSubject(t, claims, events.UKLinkedAccountUpdate); s["http://openbanking.org.uk/rid"] != id {
			t.Errorf("subject %v; want consent %s", s, id)
		}
	}
}
