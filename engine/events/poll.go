package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
	"github.com/dynapi/dynapi/internal/textcut"
)

// Bounds of aggregated polling.
const (
	// DefaultMaxEvents is how many SETs a poll returns when it does not
	// say; MaxPollEvents the most it may ask for.
	DefaultMaxEvents = 20
	MaxPollEvents    = 100
	// MaxAcks bounds the ack and setErrs entries of one poll.
	MaxAcks = 500
)

// Poll is one UK aggregated poll (POST /events) of a consumer.
type Poll struct {
	// MaxEvents is how many SETs to return: nil for DefaultMaxEvents, 0
	// to only acknowledge.
	MaxEvents *int
	// Ack are the jtis the TPP took.
	Ack []string
	// SetErrs are the jtis the TPP could not take, with why.
	SetErrs map[string]SetErr
}

// SetErr is a TPP's reason for refusing a SET (RFC 8936 error codes).
type SetErr struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

// PollResult is what a poll answers: SETs by jti, and whether more are
// waiting.
type PollResult struct {
	Sets          map[string]string
	MoreAvailable bool
}

// Poll acknowledges what the consumer acknowledged or refused (ids that
// are not its own are ignored, as the standard's polling is), then
// returns its oldest SETs not yet taken.
func (s *Service) Poll(ctx context.Context, consumerID string, p Poll) (*PollResult, error) {
	if len(p.Ack)+len(p.SetErrs) > MaxAcks {
		return nil, engine.Errorf(400, engine.CodeValidationFailed, "at most %d acknowledgements per poll", MaxAcks)
	}
	limit := DefaultMaxEvents
	if p.MaxEvents != nil {
		limit = min(max(*p.MaxEvents, 0), MaxPollEvents)
	}
	if len(p.Ack) > 0 || len(p.SetErrs) > 0 {
		if err := s.acknowledge(ctx, consumerID, p); err != nil {
			return nil, err
		}
	}
	out := &PollResult{Sets: map[string]string{}}
	if limit == 0 {
		return out, nil
	}
	err := s.store.View(ctx, func(tx engine.Tx) error {
		clear(out.Sets)
		out.MoreAvailable = false
		return tx.Scan(pollBucket, consumerID+"/", func(k string, _ []byte) error {
			if len(out.Sets) == limit {
				out.MoreAvailable = true
				return engine.ErrStop
			}
			id := strings.TrimPrefix(k, consumerID+"/")
			v, err := tx.Get(deliveriesBucket, id)
			if err != nil {
				return err
			}
			d, err := kvjson.Decode[Delivery](v)
			if err != nil {
				return err
			}
			out.Sets[d.ID] = d.Payload
			return nil
		})
	})
	return out, err
}

// acknowledge marks the consumer's SETs named in p taken.
func (s *Service) acknowledge(ctx context.Context, consumerID string, p Poll) error {
	return s.store.Update(ctx, func(tx engine.Tx) error {
		now := s.now().UTC()
		take := func(id, reason string) error {
			d, prev, err := load(tx, id)
			if errors.Is(err, engine.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			if d.Channel != ChannelUK || d.ConsumerID != consumerID || !d.pollable() {
				return nil
			}
			d.Status, d.NextAttemptAt, d.UpdatedAt = DeliveryAcknowledged, nil, now
			if reason != "" {
				d.LastError = reason
			}
			return save(tx, d, prev)
		}
		for _, id := range p.Ack {
			if err := take(id, ""); err != nil {
				return err
			}
		}
		for id, e := range p.SetErrs {
			if err := take(id, textcut.Bytes(fmt.Sprintf("the TPP refused it: %s: %s", e.Err, e.Description), maxErrorBytes)); err != nil {
				return err
			}
		}
		return nil
	})
}
