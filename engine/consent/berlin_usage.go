package consent

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// CodeConsentUsageExceeded: the consent's calls without the customer are
// used up for the day (or, for a consent that is not recurring, for good)
// (429; Berlin Group ACCESS_EXCEEDED).
const CodeConsentUsageExceeded = "consent_usage_exceeded"

// usageBucket holds the count of each day's calls without the customer:
// unattendedKey -> count (decimal).
const usageBucket = "consent_usage"

// unattended counts, per consent, day, operation and account, the calls
// a TPP makes without the customer (no PSU-IP-Address). A call reserves
// its place before it is made, so concurrent calls never overshoot (a
// compare-and-swap on the count in memory), and gives it back when its
// answer is not a success. Every change of a count is stored in the same
// step, in its own transaction (the store's group commit batches
// concurrent ones), so a restart counts on from what was stored: it never
// allows more calls than the limit, and at worst forgets a place given
// back by a call cut off by the crash. Counts of past days are dropped
// from memory when a new day is first counted; they stay stored and are
// not read again.
type unattended struct {
	counts sync.Map // consent/day/operation/account -> *usageCount
	day    atomic.Pointer[string]
}

// usageCount is one count; it is read from the store on first use (once).
type usageCount struct {
	once sync.Once
	err  error
	n    atomic.Int64
}

// count is the count under key, read from the store on its first use.
func (s *Service) count(ctx context.Context, key string) (*usageCount, error) {
	v, _ := s.unattended.counts.LoadOrStore(key, &usageCount{})
	c := v.(*usageCount)
	c.once.Do(func() {
		c.err = s.store.View(ctx, func(tx engine.Tx) error {
			raw, err := tx.Get(usageBucket, key)
			if errors.Is(err, engine.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(string(raw), 10, 64)
			c.n.Store(n)
			return err
		})
	})
	if c.err != nil {
		s.unattended.counts.CompareAndDelete(key, c)
		return nil, c.err
	}
	return c, nil
}

// forgetOtherDays drops from memory the daily counts of days other than
// day, the first time day is counted: they are never needed again.
func (s *Service) forgetOtherDays(day string) {
	if last := s.unattended.day.Load(); last != nil && *last == day {
		return
	}
	s.unattended.day.Store(&day)
	s.unattended.counts.Range(func(key, _ any) bool {
		_, rest, _ := strings.Cut(key.(string), "/")
		if d, _, _ := strings.Cut(rest, "/"); d != day && d != "all" {
			s.unattended.counts.Delete(key)
		}
		return true
	})
}

// reserve takes a place under key if fewer than limit are taken, and
// stores the count; false when none is left.
func (s *Service) reserve(ctx context.Context, key string, limit int64) (bool, error) {
	c, err := s.count(ctx, key)
	if err != nil {
		return false, err
	}
	for {
		n := c.n.Load()
		if n >= limit {
			return false, nil
		}
		if c.n.CompareAndSwap(n, n+1) {
			break
		}
	}
	if err := s.storeCount(ctx, key, c); err != nil {
		c.n.Add(-1)
		return false, err
	}
	return true, nil
}

// release gives back a place taken under key.
func (s *Service) release(ctx context.Context, key string) {
	if c, err := s.count(ctx, key); err == nil {
		c.n.Add(-1)
		_ = s.storeCount(context.WithoutCancel(ctx), key, c) // best effort: at worst one place stays taken
	}
}

// storeCount stores count c under key as it is when the transaction runs:
// transactions run one at a time, so the last one stored is the latest.
func (s *Service) storeCount(ctx context.Context, key string, c *usageCount) error {
	return s.store.Update(ctx, func(tx engine.Tx) error {
		return tx.Put(usageBucket, key, []byte(strconv.FormatInt(c.n.Load(), 10)))
	})
}

// countedInvoker answers an operation bound to use under a Berlin Group
// consent through inner, counting the calls made without the customer
// (no PSU-IP-Address) against the consent's frequencyPerDay: per consent,
// day (in zone), operation and account; a consent that is not recurring
// allows one such call in all. Over the limit, the call is a 429 with
// Retry-After to the next day. Calls with PSU-IP-Address are not counted
// and cost nothing more.
type countedInvoker struct {
	inner    engine.Invoker
	svc      *Service
	profiles profileFinder
	op       string
	account  int // position of the account path parameter, -1 for none
	zone     *time.Location
}

// Invoke implements engine.Invoker.
func (ci *countedInvoker) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	if call.Consent == nil || header(call, headerPSUIP) != "" {
		return ci.inner.Invoke(ctx, call)
	}
	g, err := ci.svc.lookup(ctx, call.Consent.ID, ci.profiles)
	if err != nil {
		return nil, err
	}
	if g.perDay <= 0 {
		return ci.inner.Invoke(ctx, call)
	}
	now := ci.svc.now().In(ci.zone)
	day := "all"
	if g.recurring {
		day = now.Format(time.DateOnly)
		ci.svc.forgetOtherDays(day)
	}
	account := ""
	if ci.account >= 0 && call.Path != nil && ci.account < call.Path.Len() {
		account = call.Path.Value(ci.account)
	}
	key := call.Consent.ID + "/" + day + "/" + ci.op + "/" + account
	ok, err := ci.svc.reserve(ctx, key, int64(g.perDay))
	if err != nil {
		return nil, err
	}
	if !ok {
		e := berlinRefusal(http.StatusTooManyRequests, CodeConsentUsageExceeded, "header", "/"+headerPSUIP,
			"consent "+call.Consent.ID+" allows "+strconv.Itoa(g.perDay)+" calls of "+ci.op+" without the customer")
		if g.recurring {
			y, m, d := now.Date()
			e.RetryAfter = time.Date(y, m, d+1, 0, 0, 0, 0, ci.zone).Sub(now)
			e.Message += " a day; the count starts again at midnight"
		} else {
			e.Message += " in all: the consent is not recurring"
		}
		return nil, e
	}
	reply, err := ci.inner.Invoke(ctx, call)
	if err != nil || reply.Status < 200 || reply.Status > 299 {
		ci.svc.release(ctx, key)
	}
	return reply, err
}
