package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/egress"
	"github.com/dynapi/dynapi/internal/kvjson"
	"github.com/dynapi/dynapi/internal/textcut"
)

// lease is how long a claimed delivery waits before another run may claim
// it again: longer than any attempt, so only a crash mid-attempt makes it
// due again (and it is attempted again: at least once).
const lease = 2 * time.Minute

// claimBatch is how many rounds of Parallel attempts one claim takes, so
// that the writes that claim and record them are shared.
const claimBatch = 4

// maxErrorBytes bounds a delivery's LastError.
const maxErrorBytes = 512

// deliverDue attempts up to claimBatch deliveries due now, Parallel of
// them at once, and records their outcomes in one transaction. It returns
// how many it attempted. Deliveries of one subject to one receiver go one
// after another, in the order they were made, and one that fails holds
// the later ones back to its own retry (see chains).
func (s *Service) deliverDue(ctx context.Context) (int, error) {
	batch, err := s.claim(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	// An attempt begun finishes and is recorded even when ctx ends (the
	// client's timeout bounds it): shutdown waits for it rather than
	// abandon it to a lease. Those not begun stay due.
	work := context.WithoutCancel(ctx)
	results := make([]outcome, len(batch))
	var wg sync.WaitGroup
	slots := make(chan struct{}, s.o.Parallel)
	for _, chain := range chains(batch) {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			for n, i := range chain {
				if ctx.Err() != nil {
					for _, later := range chain[n:] {
						results[later] = outcome{notBegun: true}
					}
					return
				}
				results[i] = s.attempt(work, batch[i])
				if !results[i].delivered() {
					for _, later := range chain[n+1:] {
						results[later] = outcome{heldBy: i + 1}
					}
					return
				}
			}
		})
	}
	wg.Wait()
	return len(batch), s.record(work, batch, results)
}

// chains groups the indexes of batch by receiver and subject, each group
// in batch's order, which is the order the deliveries are due in (and,
// for those due together, the order they were made: their ids are
// time-ordered).
func chains(batch []*Delivery) [][]int {
	at := make(map[[2]string]int, len(batch))
	var out [][]int
	for i, d := range batch {
		k := [2]string{d.URL, d.Subject}
		if c, ok := at[k]; ok {
			out[c] = append(out[c], i)
			continue
		}
		at[k] = len(out)
		out = append(out, []int{i})
	}
	return out
}

// claim takes up to claimBatch times Parallel due deliveries, moving each one's next
// attempt a lease ahead, in one transaction. A delivery whose subscription
// is gone or disabled is cancelled (a UK event stays pollable); one whose
// receiver's breaker is open waits for it to close, without counting an
// attempt.
func (s *Service) claim(ctx context.Context) ([]*Delivery, error) {
	if due, err := s.firstKeyBefore(ctx, dueBucket, dueKey(s.now(), "~")); err != nil || !due {
		return nil, err
	}
	var out []*Delivery
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		out = out[:0]
		now := s.now().UTC()
		end := dueKey(now, "~")
		var ids []string
		if err := tx.Scan(dueBucket, "", func(k string, _ []byte) error {
			if k > end || len(ids) == claimBatch*s.o.Parallel {
				return engine.ErrStop
			}
			ids = append(ids, k[21:])
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			d, prev, err := load(tx, id)
			if err != nil {
				return err
			}
			if gone, err := s.followSubscription(tx, d); err != nil {
				return err
			} else if gone != "" {
				d.Status, d.NextAttemptAt, d.LastError, d.UpdatedAt = DeliveryCancelled, nil, gone, now
				if d.Channel == ChannelUK {
					d.Status = DeliveryPending // pollable still, no longer pushed
				}
				if err := save(tx, d, prev); err != nil {
					return err
				}
				continue
			}
			next := now.Add(lease)
			if until := s.breaker.openUntil(host(d.URL), now); !until.IsZero() {
				next = until
			} else {
				out = append(out, d)
			}
			d.NextAttemptAt = &next
			if err := save(tx, d, prev); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// followSubscription points d at its subscription's URL as it is now (a
// receiver that moved gets its retries at the new address), or says why
// the subscription no longer takes it ("" when it does).
func (s *Service) followSubscription(tx engine.Tx, d *Delivery) (string, error) {
	if d.SubscriptionID == "" {
		return "", nil
	}
	sub, err := kvjson.Get[Subscription](tx, subscriptionsBucket, d.SubscriptionID)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return "the subscription was deleted", nil
	case err != nil:
		return "", err
	case sub.Status != SubscriptionActive:
		return "the subscription is disabled: " + sub.DisabledReason, nil
	case sub.URL == "":
		return "the subscription has no callback any more", nil
	case d.Channel == ChannelUK:
		d.URL = strings.TrimSuffix(sub.URL, "/") + ukNotificationPath
	default:
		d.URL = sub.URL
	}
	return "", nil
}

// outcome is what one attempt came to.
type outcome struct {
	at       time.Time
	resp     *egress.Result
	err      error
	duration time.Duration
	// heldBy, when not 0, says the delivery was not attempted: the one
	// at index heldBy-1 of its batch, earlier in its chain, failed.
	heldBy int
	// notBegun says the delivery was not attempted: the worker was
	// stopping. It is due again at once.
	notBegun bool
}

// delivered tells whether the receiver took the delivery.
func (o outcome) delivered() bool {
	return o.err == nil && o.resp != nil && o.resp.Status >= 200 && o.resp.Status < 300
}

// attempt sends d once.
func (s *Service) attempt(ctx context.Context, d *Delivery) outcome {
	h := http.Header{}
	h.Set("Content-Type", d.ContentType)
	now := s.now().UTC()
	switch d.Channel {
	case ChannelWebhook:
		ts := strconv.FormatInt(now.Unix(), 10)
		h.Set("webhook-id", d.ID)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", s.o.Keys.Sign(d.ID, ts, []byte(d.Payload)))
	case ChannelUK:
		h.Set("x-fapi-interaction-id", uuid.NewString())
	}
	start := time.Now()
	resp, err := s.o.Poster.Post(ctx, d.URL, h, []byte(d.Payload))
	o := outcome{at: now, resp: resp, err: err, duration: time.Since(start)}
	s.Metrics.observe(o)
	return o
}

// record stores the outcomes of a batch's attempts in one transaction.
func (s *Service) record(ctx context.Context, batch []*Delivery, results []outcome) error {
	var disable []string
	// retryAt[i]: when batch[i] is due again, nil when it is done with.
	retryAt := make([]*time.Time, len(batch))
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		disable = disable[:0]
		clear(retryAt)
		for i, sent := range batch {
			d, prev, err := load(tx, sent.ID)
			if errors.Is(err, engine.ErrNotFound) {
				continue // swept or acknowledged and removed meanwhile
			} else if err != nil {
				return err
			}
			if d.Status != DeliveryPending {
				continue // acknowledged by polling meanwhile
			}
			if o := results[i]; o.heldBy != 0 || o.notBegun {
				// Not attempted: due with the one that held it back (or
				// at once if that one is done with, or none did): due keys
				// of one time sort by id, so they go again in order.
				next := s.now().UTC()
				if o.heldBy != 0 && retryAt[o.heldBy-1] != nil {
					next = *retryAt[o.heldBy-1]
				}
				d.NextAttemptAt = &next
			} else if gone := s.apply(d, results[i]); gone {
				disable = append(disable, d.SubscriptionID)
			}
			if d.Status == DeliveryPending {
				retryAt[i] = d.NextAttemptAt
			}
			if err := save(tx, d, prev); err != nil {
				return err
			}
		}
		for _, id := range disable {
			if err := s.disable(tx, id, "the receiver answered 410 Gone"); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// apply moves d on by the outcome of an attempt; it tells whether the
// receiver is gone (410), which disables the subscription.
func (s *Service) apply(d *Delivery, o outcome) (gone bool) {
	at := o.at
	d.Attempts++
	d.LastAttemptAt, d.UpdatedAt = &at, at
	d.LastStatus, d.LastError = 0, ""
	if o.resp != nil {
		d.LastStatus = o.resp.Status
	}
	h := host(d.URL)
	switch {
	case o.err != nil:
		d.LastError = textcut.Bytes(o.err.Error(), maxErrorBytes)
	case o.resp.Status >= 200 && o.resp.Status < 300:
		s.breaker.succeeded(h)
		d.Status, d.NextAttemptAt = DeliveryDelivered, nil
		s.Metrics.delivered.Add(1)
		return false
	case o.resp.Status == http.StatusGone && d.SubscriptionID != "":
		d.Status, d.NextAttemptAt, d.LastError = DeliveryCancelled, nil, "the receiver answered 410 Gone: the subscription is disabled"
		if d.Channel == ChannelUK {
			d.Status = DeliveryPending
		}
		s.Metrics.gone.Add(1)
		return true
	default:
		d.LastError = fmt.Sprintf("the receiver answered %d", o.resp.Status)
	}
	s.breaker.failed(h, at)
	delay, ok := s.nextDelay(d, o)
	if !ok {
		d.Status, d.NextAttemptAt = DeliveryDead, nil // a UK event stays pollable
		s.Metrics.dead.Add(1)
		return false
	}
	next := at.Add(delay)
	d.NextAttemptAt = &next
	s.Metrics.retried.Add(1)
	return false
}

// nextDelay is the wait before d's next attempt, with jitter, at least the
// receiver's Retry-After on 429 and 503; false when there is none (the
// schedule or MaxAge is spent).
func (s *Service) nextDelay(d *Delivery, o outcome) (time.Duration, bool) {
	if d.Attempts > len(s.o.Schedule) {
		return 0, false
	}
	base := s.o.Schedule[d.Attempts-1]
	delay := base + time.Duration(float64(base)*JitterFraction*s.o.Jitter())
	if o.resp != nil && (o.resp.Status == http.StatusTooManyRequests || o.resp.Status == http.StatusServiceUnavailable) {
		delay = max(delay, o.resp.RetryAfter)
	}
	if o.at.Add(delay).Sub(d.ScheduledAt) > s.o.MaxAge {
		return 0, false
	}
	return delay, true
}

// disable marks subscription id disabled for reason.
func (s *Service) disable(tx engine.Tx, id, reason string) error {
	sub, err := kvjson.Get[Subscription](tx, subscriptionsBucket, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	sub.Status, sub.DisabledReason, sub.UpdatedAt = SubscriptionDisabled, reason, s.now().UTC()
	return kvjson.Put(tx, subscriptionsBucket, id, sub)
}

// host is the host (and port) of a URL, the unit the breaker counts.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// firstKeyBefore tells, in a read transaction, whether bucket has a key
// at or before end ("" for any key): the worker writes only when there is
// work, since every write transaction costs a sync.
func (s *Service) firstKeyBefore(ctx context.Context, bucket, end string) (bool, error) {
	found := false
	err := s.store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(k string, _ []byte) error {
			found = end == "" || k <= end
			return engine.ErrStop
		})
	})
	return found, err
}
