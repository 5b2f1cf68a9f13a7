package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Kinds of subscription.
const (
	// KindUK is a UK Open Banking event subscription: SETs pushed to
	// {URL}/event-notifications when URL is set, and pollable at
	// POST /events until acknowledged.
	KindUK = "uk-ob"
	// KindWebhook is a generic webhook in the Standard Webhooks format.
	KindWebhook = "webhook"
)

// Statuses of a subscription.
const (
	SubscriptionActive = "active"
	// SubscriptionDisabled: the receiver answered 410 Gone, or an admin
	// disabled it; nothing is pushed to it until it is enabled again.
	SubscriptionDisabled = "disabled"
)

// Codes of subscription errors (engine.Error.Code).
const (
	// CodeSubscriptionExists: the consumer already has its one UK event
	// subscription (409).
	CodeSubscriptionExists = "event_subscription_exists"
	// CodeInvalidSubscription: the subscription's fields are not valid
	// (400).
	CodeInvalidSubscription = "invalid_event_subscription"
)

// Bounds on subscriptions.
const (
	MaxEventTypes = 32
	// MaxSubscriptionsPerOwner bounds the webhooks of one consumer, or of
	// the bank's systems together.
	MaxSubscriptionsPerOwner = 20
)

// Subscription is who receives which events, and where.
type Subscription struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// ConsumerID is the TPP that owns it: it receives only events whose
	// ConsumerID is its own. "" for the bank's systems (admin webhooks),
	// which receive every event (of BankID, when set).
	ConsumerID string `json:"consumer_id,omitempty"`
	// Audience is what a UK SET's aud names: the consumer's client id.
	Audience string `json:"audience,omitempty"`
	// BankID narrows an admin webhook to one bank's events.
	BankID string `json:"bank_id,omitempty"`
	// URL receives the deliveries: a webhook's URL, a UK subscription's
	// CallbackUrl ("" for a UK subscription that only polls).
	URL string `json:"url,omitempty"`
	// EventTypes are the types it receives, all when empty: the engine's
	// types or "prefix.*" for webhooks, the standard's event type URNs for
	// UK subscriptions.
	EventTypes []string `json:"event_types,omitempty"`
	// Version is a UK subscription's version of the events API.
	Version string `json:"version,omitempty"`
	// ResourceBase is the base URL of the engine as the TPP called it,
	// which UK SETs name resources under.
	ResourceBase string `json:"resource_base,omitempty"`
	Status       string `json:"status"`
	// DisabledReason says why it is disabled.
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedBy      string    `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Buckets of subscriptions: by id, and one UK subscription per consumer.
const (
	subscriptionsBucket = "event_subscriptions"
	ukByConsumerBucket  = "event_uk_by_consumer"
)

// wants tells whether the subscription receives ev (for a UK
// subscription, the standard's type ukType names it). A disabled
// subscription receives nothing, but for a UK one, whose events are
// pollable without a callback: it only stops pushing them.
func (s *Subscription) wants(ev *Event, ukType string) bool {
	if s.Status != SubscriptionActive && s.Kind != KindUK { // a disabled UK subscription still polls
		return false
	}
	if s.ConsumerID != "" && s.ConsumerID != ev.ConsumerID {
		return false
	}
	if s.BankID != "" && s.BankID != ev.BankID {
		return false
	}
	if s.Kind == KindUK {
		return ukType != "" && (len(s.EventTypes) == 0 || slices.Contains(s.EventTypes, ukType))
	}
	if len(s.EventTypes) == 0 {
		return true
	}
	for _, t := range s.EventTypes {
		if t == ev.Type || t == "*" || (strings.HasSuffix(t, ".*") && strings.HasPrefix(ev.Type, t[:len(t)-1])) {
			return true
		}
	}
	return false
}

// NewSubscription is what a subscriber asks for.
type NewSubscription struct {
	Kind       string
	ConsumerID string
	Audience   string
	BankID     string
	URL        string
	EventTypes []string
	Version    string
	// ResourceBase: see Subscription.ResourceBase.
	ResourceBase string
}

// URLChecker is the registration-time check of a receiver's URL (HTTPS,
// public addresses unless allow-listed): nil when it may be used, else an
// error naming the fault at pointer.
type URLChecker interface {
	CheckURL(ctx context.Context, raw, pointer string) error
}

// Pointers say where a subscriber wrote a subscription's URL and event
// types, for the violations that name them.
type Pointers struct{ URL, EventTypes string }

// Subscribe stores a new subscription after checking its URL and event
// types (faults named at at). A consumer
// has at most one UK subscription (409) and MaxSubscriptionsPerOwner
// webhooks. Audit-logged as "event_subscription.create".
func (s *Service) Subscribe(ctx context.Context, who audit.Actor, n NewSubscription, at Pointers) (*Subscription, error) {
	if err := s.checkFields(ctx, n.Kind, n.URL, n.EventTypes, at); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sub := &Subscription{ID: uuid.NewString(), Kind: n.Kind, ConsumerID: n.ConsumerID, Audience: n.Audience,
		BankID: n.BankID, URL: n.URL, EventTypes: slices.Clone(n.EventTypes), Version: n.Version,
		ResourceBase: strings.TrimSuffix(n.ResourceBase, "/"), Status: SubscriptionActive, CreatedBy: who.UserID,
		CreatedAt: now, UpdatedAt: now}
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		if n.Kind == KindUK {
			if _, err := tx.Get(ukByConsumerBucket, n.ConsumerID); err == nil {
				return engine.NewError(http.StatusConflict, CodeSubscriptionExists,
					"the consumer already has an event subscription; change or delete it")
			} else if !errors.Is(err, engine.ErrNotFound) {
				return err
			}
			if err := tx.Put(ukByConsumerBucket, n.ConsumerID, []byte(sub.ID)); err != nil {
				return err
			}
		} else {
			owned := 0
			if err := tx.Scan(subscriptionsBucket, "", func(_ string, v []byte) error {
				if o, err := kvjson.Decode[Subscription](v); err == nil && o.Kind == KindWebhook && o.ConsumerID == n.ConsumerID {
					owned++
				}
				return nil
			}); err != nil {
				return err
			}
			if owned >= MaxSubscriptionsPerOwner {
				return engine.Errorf(http.StatusConflict, CodeInvalidSubscription,
					"at most %d webhooks per owner; delete one first", MaxSubscriptionsPerOwner)
			}
		}
		if err := kvjson.Put(tx, subscriptionsBucket, sub.ID, sub); err != nil {
			return err
		}
		return s.audit.Append(tx, who, "event_subscription.create", sub.ID, sub.BankID,
			map[string]any{"kind": sub.Kind, "consumer_id": sub.ConsumerID, "url": sub.URL, "event_types": sub.EventTypes})
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// checkFields refuses a URL the URL checker refuses and bad event types.
func (s *Service) checkFields(ctx context.Context, kind, url string, types []string, at Pointers) error {
	var faults []engine.Violation
	if len(types) > MaxEventTypes {
		faults = append(faults, engine.Violation{Location: "body", Pointer: at.EventTypes,
			Code: "max_items", Message: fmt.Sprintf("at most %d event types", MaxEventTypes)})
	}
	for i, t := range types {
		if t == "" || len(t) > 128 {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("%s/%d", at.EventTypes, i),
				Code: "length", Message: "an event type is 1 to 128 bytes"})
		}
	}
	if faults != nil {
		return engine.NewError(http.StatusBadRequest, CodeInvalidSubscription, "the subscription cannot be made", faults...)
	}
	if url == "" {
		if kind == KindWebhook {
			return engine.NewError(http.StatusBadRequest, CodeInvalidSubscription, "a webhook needs a url",
				engine.Violation{Location: "body", Pointer: at.URL, Code: "required", Message: "a webhook has a url"})
		}
		return nil
	}
	return s.urls.CheckURL(ctx, url, at.URL)
}

// Subscription returns the subscription with id when owner may see it
// (owner "*" sees all; else only those whose ConsumerID is owner), else
// engine.ErrNotFound.
func (s *Service) Subscription(ctx context.Context, owner, id string) (*Subscription, error) {
	var sub *Subscription
	err := s.store.View(ctx, func(tx engine.Tx) error {
		var err error
		sub, err = kvjson.Get[Subscription](tx, subscriptionsBucket, id)
		if err == nil && !sees(owner, sub) {
			err = engine.ErrNotFound
		}
		return err
	})
	return sub, err
}

// OwnerAll, as an owner, sees every subscription (admins).
const OwnerAll = "*"

// OwnerBank, as an owner, is the bank's systems: the subscriptions with no
// consumer.
const OwnerBank = ""

// sees tells whether owner may see sub.
func sees(owner string, sub *Subscription) bool { return owner == OwnerAll || sub.ConsumerID == owner }

// Subscriptions lists the subscriptions of kind ("" all kinds) owner sees,
// oldest first.
func (s *Service) Subscriptions(ctx context.Context, owner, kind string) ([]*Subscription, error) {
	var out []*Subscription
	err := s.store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(subscriptionsBucket, "", func(_ string, v []byte) error {
			sub, err := kvjson.Decode[Subscription](v)
			if err != nil {
				return err
			}
			if sees(owner, sub) && (kind == "" || sub.Kind == kind) {
				out = append(out, sub)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b *Subscription) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// SubscriptionChange is what an owner may change: nil fields stay.
type SubscriptionChange struct {
	URL        *string
	EventTypes *[]string
	Version    *string
	// Enable makes a disabled subscription active again.
	Enable bool
}

// ChangeSubscription changes owner's subscription id, checking a new URL
// like Subscribe (faults named at at). Audit-logged as
// "event_subscription.change".
func (s *Service) ChangeSubscription(ctx context.Context, who audit.Actor, owner, id string, ch SubscriptionChange, at Pointers) (*Subscription, error) {
	cur, err := s.Subscription(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	url, types := cur.URL, cur.EventTypes
	if ch.URL != nil {
		url = *ch.URL
	}
	if ch.EventTypes != nil {
		types = *ch.EventTypes
	}
	if err := s.checkFields(ctx, cur.Kind, url, types, at); err != nil {
		return nil, err
	}
	var out *Subscription
	err = s.store.Update(ctx, func(tx engine.Tx) error {
		sub, err := kvjson.Get[Subscription](tx, subscriptionsBucket, id)
		if err != nil || !sees(owner, sub) {
			return cmpNotFound(err)
		}
		sub.URL, sub.EventTypes = url, slices.Clone(types)
		if ch.Version != nil {
			sub.Version = *ch.Version
		}
		if ch.Enable {
			sub.Status, sub.DisabledReason = SubscriptionActive, ""
		}
		sub.UpdatedAt = s.now().UTC()
		out = sub
		if err := kvjson.Put(tx, subscriptionsBucket, id, sub); err != nil {
			return err
		}
		return s.audit.Append(tx, who, "event_subscription.change", id, sub.BankID,
			map[string]any{"url": sub.URL, "event_types": sub.EventTypes, "status": sub.Status})
	})
	return out, err
}

// cmpNotFound is err, or engine.ErrNotFound when there is none (the
// subscription is someone else's).
func cmpNotFound(err error) error {
	if err == nil {
		return engine.ErrNotFound
	}
	return err
}

// Unsubscribe deletes owner's subscription id; its deliveries not yet made
// are cancelled (UK events stay pollable until acknowledged or retention).
// Audit-logged as "event_subscription.delete".
func (s *Service) Unsubscribe(ctx context.Context, who audit.Actor, owner, id string) error {
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		sub, err := kvjson.Get[Subscription](tx, subscriptionsBucket, id)
		if err != nil || !sees(owner, sub) {
			return cmpNotFound(err)
		}
		if err := tx.Delete(subscriptionsBucket, id); err != nil {
			return err
		}
		if sub.Kind == KindUK {
			if err := tx.Delete(ukByConsumerBucket, sub.ConsumerID); err != nil {
				return err
			}
		}
		return s.audit.Append(tx, who, "event_subscription.delete", id, sub.BankID, map[string]any{"kind": sub.Kind})
	})
	if err == nil {
		s.Kick()
	}
	return err
}

// UKSubscription returns the UK subscription of consumerID, or
// engine.ErrNotFound.
func (s *Service) UKSubscription(ctx context.Context, consumerID string) (*Subscription, error) {
	var sub *Subscription
	err := s.store.View(ctx, func(tx engine.Tx) error {
		id, err := tx.Get(ukByConsumerBucket, consumerID)
		if err != nil {
			return err
		}
		sub, err = kvjson.Get[Subscription](tx, subscriptionsBucket, string(id))
		return err
	})
	return sub, err
}
