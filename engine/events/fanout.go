package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// UK Open Banking event types (the events API's EventTypes and a SET's
// events member).
const (
	UKResourceUpdate           = "urn:uk:org:openbanking:events:resource-update"
	UKConsentRevoked           = "urn:uk:org:openbanking:events:consent-authorization-revoked"
	UKLinkedAccountUpdate      = "urn:uk:org:openbanking:events:account-access-consent-linked-account-update"
	ukClaimPrefix              = "http://openbanking.org.uk/"
	fanOutBatch                = 512
	contentTypeJSON            = "application/json"
	contentTypeJWT             = "application/jwt"
	ukNotificationPath         = "/event-notifications"
	consentStatusRevoked       = "revoked"
	ukNotificationTypeExplicit = "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty"
)

// UKEventTypes are the UK event types the engine sends.
var UKEventTypes = []string{UKResourceUpdate, UKConsentRevoked, UKLinkedAccountUpdate}

// ukType is the UK event type ev is sent as, "" when it is not one: the
// change of a standard resource's status (revoking a consent is its own
// type), or of the accounts a consent reaches.
func ukType(ev *Event) string {
	if ev.Resource == nil {
		return ""
	}
	switch ev.Type {
	case TypeConsentAccountsChanged:
		return UKLinkedAccountUpdate
	case TypeConsentStatusChanged:
		var change struct {
			To string `json:"to"`
		}
		if json.Unmarshal(ev.Data, &change) == nil && change.To == consentStatusRevoked {
			return UKConsentRevoked
		}
		return UKResourceUpdate
	case TypePaymentStatusChanged:
		return UKResourceUpdate
	}
	return ""
}

// fanOut turns up to fanOutBatch outbox rows into deliveries, one per
// subscription that wants each event and one to its Notify URL, and
// deletes the rows, all in one transaction. It returns how many rows it
// took.
func (s *Service) fanOut(ctx context.Context) (int, error) {
	if found, err := s.firstKeyBefore(ctx, outboxBucket, ""); err != nil || !found {
		return 0, err
	}
	var made []*Delivery
	n := 0
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		made, n = made[:0], 0
		var keys []string
		var evs []*Event
		if err := tx.Scan(outboxBucket, "", func(k string, v []byte) error {
			ev, err := kvjson.Decode[Event](v)
			if err != nil {
				return fmt.Errorf("events: outbox row %s: %w", k, err)
			}
			keys, evs = append(keys, k), append(evs, ev)
			if len(keys) == fanOutBatch {
				return engine.ErrStop
			}
			return nil
		}); err != nil || len(keys) == 0 {
			return err
		}
		subs, err := s.activeSubscriptions(tx)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		for i, ev := range evs {
			ds, err := s.deliveriesOf(ev, subs, now)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if err := save(tx, d, nil); err != nil {
					return err
				}
			}
			if err := tx.Delete(outboxBucket, keys[i]); err != nil {
				return err
			}
			made = append(made, ds...)
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.Metrics.eventsFannedOut.Add(uint64(n))
	s.Metrics.deliveriesMade.Add(uint64(len(made)))
	return n, nil
}

// activeSubscriptions reads the subscriptions that receive anything: the
// active ones and every UK one (polled even when its pushes are disabled).
func (s *Service) activeSubscriptions(tx engine.Tx) ([]*Subscription, error) {
	var subs []*Subscription
	err := tx.Scan(subscriptionsBucket, "", func(_ string, v []byte) error {
		sub, err := kvjson.Decode[Subscription](v)
		if err != nil {
			return err
		}
		if sub.Status == SubscriptionActive || sub.Kind == KindUK {
			subs = append(subs, sub)
		}
		return nil
	})
	return subs, err
}

// deliveriesOf makes ev's deliveries.
func (s *Service) deliveriesOf(ev *Event, subs []*Subscription, now time.Time) ([]*Delivery, error) {
	uk := ukType(ev)
	var out []*Delivery
	for _, sub := range subs {
		if !sub.wants(ev, uk) {
			continue
		}
		d := s.newDelivery(ev, now)
		d.SubscriptionID, d.ConsumerID = sub.ID, sub.ConsumerID
		var err error
		if sub.Kind == KindUK {
			err = s.renderSET(d, ev, sub, uk, now)
		} else {
			d.Channel, d.URL, d.ContentType = ChannelWebhook, sub.URL, contentTypeJSON
			d.Payload, err = webhookBody(ev)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if ev.Notify != "" && len(ev.NotifyBody) > 0 {
		d := s.newDelivery(ev, now)
		d.Channel, d.ConsumerID, d.URL, d.ContentType, d.Payload = ChannelNotify, ev.ConsumerID, ev.Notify, contentTypeJSON, string(ev.NotifyBody)
		out = append(out, d)
	}
	return out, nil
}

// newDelivery starts a delivery of ev, due at once.
func (s *Service) newDelivery(ev *Event, now time.Time) *Delivery {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	due := now
	return &Delivery{ID: id.String(), EventID: ev.ID, EventType: ev.Type, Subject: ev.Subject, BankID: ev.BankID,
		Status: DeliveryPending, NextAttemptAt: &due, CreatedAt: now, ScheduledAt: now, UpdatedAt: now}
}

// renderSET makes d the UK SET of ev for sub: pushed to the callback when
// sub has one and is active, pollable either way.
func (s *Service) renderSET(d *Delivery, ev *Event, sub *Subscription, uk string, now time.Time) error {
	d.Channel, d.ContentType = ChannelUK, contentTypeJWT
	if sub.URL != "" && sub.Status == SubscriptionActive {
		d.URL = strings.TrimSuffix(sub.URL, "/") + ukNotificationPath
	} else {
		d.NextAttemptAt = nil
	}
	r := ev.Resource
	link := sub.ResourceBase + r.Path
	txn := ev.CorrelationID
	if txn == "" {
		txn = ev.ID
	}
	claims := map[string]any{
		"iat": now.Unix(), "jti": d.ID, "aud": sub.Audience, "sub": link, "txn": txn, "toe": ev.OccurredAt.Unix(),
		"events": map[string]any{uk: map[string]any{"subject": map[string]any{
			"subject_type":        ukNotificationTypeExplicit,
			ukClaimPrefix + "rid": r.ID,
			ukClaimPrefix + "rty": r.Type,
			ukClaimPrefix + "rlk": []map[string]string{{"version": r.Version, "link": link}},
		}}},
	}
	set, err := s.o.Signer.SignEvent(claims)
	if err != nil {
		return fmt.Errorf("events: sign SET: %w", err)
	}
	d.Payload = set
	return nil
}

// webhookBody is ev in the Standard Webhooks payload shape: type,
// timestamp and data, with the event's id, subject, sequence, bank, the
// TPP it concerns and the correlation id of the request that made it.
func webhookBody(ev *Event) (string, error) {
	b, err := json.Marshal(struct {
		Type          string          `json:"type"`
		Timestamp     time.Time       `json:"timestamp"`
		ID            string          `json:"id"`
		Subject       string          `json:"subject"`
		Seq           uint64          `json:"seq"`
		BankID        string          `json:"bank_id,omitempty"`
		ConsumerID    string          `json:"consumer_id,omitempty"`
		CorrelationID string          `json:"correlation_id,omitempty"`
		Data          json.RawMessage `json:"data,omitempty"`
	}{ev.Type, ev.OccurredAt, ev.ID, ev.Subject, ev.Seq, ev.BankID, ev.ConsumerID, ev.CorrelationID, ev.Data})
	return string(b), err
}
