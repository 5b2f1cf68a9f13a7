package events_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
)

// consentRevoked is a UK consent's revocation, as engine/consent emits it.
func consentRevoked(consumer, id string) *events.Event {
	return &events.Event{Type: events.TypeConsentStatusChanged, Subject: "consents/" + id, ConsumerID: consumer,
		Data:     json.RawMessage(`{"from":"authorised","to":"revoked"}`),
		Resource: &events.Resource{ID: id, Type: "account-access-consent", Path: "/aisp/account-access-consents/" + id, Version: "4.0"}}
}

func TestPollingUKEvents(t *testing.T) {
	h := open(t, "", events.Options{})
	ctx := context.Background()
	if _, err := h.svc.Subscribe(ctx, audit.Actor{ConsumerID: "tpp-1"}, events.NewSubscription{Kind: events.KindUK, ConsumerID: "tpp-1",
		Audience: "key-1", Version: "4.0", ResourceBase: "https://bank.example/"}, events.Pointers{URL: "/Data/CallbackUrl", EventTypes: "/Data/EventTypes"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c-1", "c-2", "c-3"} {
		h.emit(t, consentRevoked("tpp-1", id))
	}
	h.emit(t, consentRevoked("tpp-2", "c-9"))                                                 // another TPP's
	h.emit(t, &events.Event{Type: "order.shipped", Subject: "orders/1", ConsumerID: "tpp-1"}) // not a UK event
	h.drain(t)

	two := 2
	got, err := h.svc.Poll(ctx, "tpp-1", events.Poll{MaxEvents: &two})
	if err != nil || len(got.Sets) != 2 || !got.MoreAvailable {
		t.Fatalf("poll: %+v, %v", got, err)
	}
	var first string
	for jti, set := range got.Sets {
		var claims map[string]any
		if err := json.Unmarshal([]byte(set), &claims); err != nil {
			t.Fatal(err)
		}
		ev := claims["events"].(map[string]any)[events.UKConsentRevoked].(map[string]any)["subject"].(map[string]any)
		if claims["jti"] != jti || claims["aud"] != "key-1" || claims["sub"] != "https://bank.example/aisp/account-access-consents/"+ev["http://openbanking.org.uk/rid"].(string) ||
			ev["http://openbanking.org.uk/rty"] != "account-access-consent" {
			t.Fatalf("SET claims %v", claims)
		}
		first = jti
	}
	zero := 0
	if got, err := h.svc.Poll(ctx, "tpp-2", events.Poll{Ack: []string{first}, MaxEvents: &zero}); err != nil || len(got.Sets) != 0 {
		t.Fatalf("another TPP's ack: %+v, %v", got, err)
	}
	all, err := h.svc.Poll(ctx, "tpp-1", events.Poll{})
	if err != nil || len(all.Sets) != 3 || all.MoreAvailable {
		t.Fatalf("another TPP acknowledged tpp-1's SET: %+v, %v", all, err)
	}
	var rest []string
	for jti := range all.Sets {
		if jti != first {
			rest = append(rest, jti)
		}
	}
	got, err = h.svc.Poll(ctx, "tpp-1", events.Poll{Ack: []string{first},
		SetErrs: map[string]events.SetErr{rest[0]: {Err: "jwtAud", Description: "wrong audience"}}, MaxEvents: &zero})
	if err != nil || len(got.Sets) != 0 {
		t.Fatalf("ack only: %+v, %v", got, err)
	}
	got, err = h.svc.Poll(ctx, "tpp-1", events.Poll{})
	if err != nil || len(got.Sets) != 1 || got.Sets[rest[1]] == "" {
		t.Fatalf("after ack: %+v, %v", got, err)
	}
	refused, err := h.svc.Delivery(ctx, "tpp-1", rest[0])
	if err != nil || refused.Status != events.DeliveryAcknowledged || refused.LastError != "the TPP refused it: jwtAud: wrong audience" {
		t.Fatalf("refused SET %+v: %v", refused, err)
	}
}
