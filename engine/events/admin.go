package events

import (
	"context"
	"net/http"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// CodeNotReplayable: only a dead or cancelled delivery can be replayed
// (409).
const CodeNotReplayable = "event_delivery_not_replayable"

// MaxListDeliveries bounds a page of deliveries.
const MaxListDeliveries = 200

// DeliveryFilter narrows a list of deliveries.
type DeliveryFilter struct {
	// Owner: OwnerAll, OwnerBank or a consumer id; only its deliveries.
	Owner          string
	Status         string
	SubscriptionID string
	// After is the last id of the previous page; Limit the page's size.
	After string
	Limit int
}

// Deliveries lists deliveries oldest first, and the cursor of the next
// page ("" when this is the last).
func (s *Service) Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error) {
	limit := min(max(f.Limit, 1), MaxListDeliveries)
	if f.Limit <= 0 {
		limit = 50
	}
	var out []*Delivery
	var next string
	bucket, prefix := deliveriesBucket, ""
	switch {
	case f.SubscriptionID != "":
		bucket, prefix = bySubscriptionBucket, f.SubscriptionID+"/"
	case f.Status == DeliveryDead:
		bucket = deadBucket
	}
	err := s.store.View(ctx, func(tx engine.Tx) error {
		out, next = out[:0], ""
		from := prefix
		if f.After != "" {
			from = prefix + f.After + "\x00"
		}
		return tx.ScanFrom(bucket, from, func(k string, v []byte) error {
			if !strings.HasPrefix(k, prefix) {
				return engine.ErrStop
			}
			if bucket != deliveriesBucket {
				var err error
				if v, err = tx.Get(deliveriesBucket, strings.TrimPrefix(k, prefix)); err != nil {
					return err
				}
			}
			d, err := kvjson.Decode[Delivery](v)
			if err != nil {
				return err
			}
			if (f.Owner != OwnerAll && d.ConsumerID != f.Owner) || (f.Status != "" && d.Status != f.Status) {
				return nil
			}
			if len(out) == limit {
				next = out[len(out)-1].ID
				return engine.ErrStop
			}
			out = append(out, d)
			return nil
		})
	})
	return out, next, err
}

// Delivery returns the delivery with id when owner may see it, else
// engine.ErrNotFound.
func (s *Service) Delivery(ctx context.Context, owner, id string) (*Delivery, error) {
	var d *Delivery
	err := s.store.View(ctx, func(tx engine.Tx) error {
		var err error
		d, _, err = load(tx, id)
		if err == nil && owner != OwnerAll && d.ConsumerID != owner {
			err = engine.ErrNotFound
		}
		return err
	})
	return d, err
}

// Replay starts a dead or cancelled delivery's schedule again, due at
// once, with the same id (receivers that took it before skip it).
// Audit-logged as "event_delivery.replay".
func (s *Service) Replay(ctx context.Context, who audit.Actor, id string) (*Delivery, error) {
	var out *Delivery
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		d, prev, err := load(tx, id)
		if err != nil {
			return err
		}
		if (d.Status != DeliveryDead && d.Status != DeliveryCancelled) || d.URL == "" {
			return engine.Errorf(http.StatusConflict, CodeNotReplayable,
				"delivery %s is %s: only a dead or cancelled delivery with a URL can be replayed", id, d.Status)
		}
		now := s.now().UTC()
		d.Status, d.Attempts, d.NextAttemptAt, d.ScheduledAt, d.UpdatedAt = DeliveryPending, 0, &now, now, now
		if err := save(tx, d, prev); err != nil {
			return err
		}
		out = d
		return s.audit.Append(tx, who, "event_delivery.replay", id, d.BankID, map[string]any{"subscription_id": d.SubscriptionID})
	})
	if err != nil {
		return nil, err
	}
	s.Metrics.replayed.Add(1)
	s.Kick()
	return out, nil
}

// Sweep deletes deliveries older than Retention that are finished (UK
// events with them: they are no longer pollable). It returns how many it
// deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.o.Retention)
	n := 0
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		n = 0
		var old []*Delivery
		if err := tx.Scan(deliveriesBucket, "", func(_ string, v []byte) error {
			d, err := kvjson.Decode[Delivery](v)
			if err != nil {
				return err
			}
			if !d.CreatedAt.Before(cutoff) || len(old) == 1000 {
				return engine.ErrStop // ids are time ordered (UUIDv7)
			}
			if d.Status != DeliveryPending || d.NextAttemptAt == nil {
				old = append(old, d)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, d := range old {
			if err := remove(tx, d); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
