package ratelimit

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/coarseclock"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Subject is who a limit is set on: a consumer app or a user.
type Subject int

// The subjects of limits.
const (
	Consumer Subject = iota
	User
	subjects // how many there are
)

// String names s: "consumer" or "user".
func (s Subject) String() string { return [subjects]string{"consumer", "user"}[s] }

// bucket holds the limits set: "consumer/<id>" or "user/<id>" -> stored.
const bucket = "call_limits"

// storeKey is the key of subject s with id in bucket.
func storeKey(s Subject, id string) string { return s.String() + "/" + id }

// Options configure a Service.
type Options struct {
	Store engine.Store
	// Audit records every change of the limits set.
	Audit *audit.Log
	// Defaults are the limits of consumers and users without their own.
	Defaults Config
	// Now is the clock of the windows; coarseclock.Now when nil (read on
	// every limited call, where time.Now would cost a noticeable share of
	// a small request; it lags by at most a few milliseconds).
	Now func() time.Time
}

// Service keeps the limits set on consumers and users and counts their
// calls against them. It is an engine.Policy: Allow refuses a call over a
// limit. It is safe for concurrent use.
type Service struct {
	store    engine.Store
	audit    *audit.Log
	now      func() time.Time
	defaults [subjects]Limits
	// defaulted[s] is whether s's default limits anything (read on every
	// call: cheaper than comparing the limits).
	defaulted [subjects]bool
	// view is the limits set, swapped whole after each change commits
	// (under mu), never changed in place.
	view     atomic.Pointer[view]
	mu       sync.Mutex
	counters [subjects]sync.Map // id -> *counter
}

var _ engine.Policy = (*Service)(nil)

// own is the limits set on one consumer or user, whether they limit
// anything, and the counter of its calls against them (found with its
// limits: no second lookup).
type own struct {
	limits  Limits
	limited bool
	counter *counter
}

// ownLimits is l as set on a consumer or user, counted by c.
func ownLimits(l Limits, c *counter) *own { return &own{limits: l, limited: l.Limited(), counter: c} }

// view is the limits set on consumers and users, by subject and id.
type view struct {
	set [subjects]map[string]*own
	// active[s] is whether any limit is set on a subject of kind s or its
	// default limits anything: when not, its calls have nothing to count.
	active [subjects]bool
}

// swap makes set the limits set.
func (s *Service) swap(set [subjects]map[string]*own) {
	v := &view{set: set}
	for subj := range subjects {
		v.active[subj] = len(set[subj]) > 0 || s.defaulted[subj]
	}
	s.view.Store(v)
}

// New returns the service of the limits stored in o.Store.
func New(ctx context.Context, o Options) (*Service, error) {
	s := newService(o)
	set := [subjects]map[string]*own{{}, {}}
	err := o.Store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(key string, v []byte) error {
			kind, id, _ := strings.Cut(key, "/")
			rec, err := kvjson.Decode[stored](v)
			if err != nil {
				return err
			}
			for subj := range subjects {
				if subj.String() == kind {
					set[subj][id] = ownLimits(rec.limits(), new(counter))
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.swap(set)
	return s, nil
}

// newService is the service of o with no limits set yet (swap sets them).
func newService(o Options) *Service {
	if o.Now == nil {
		o.Now = coarseclock.Now
	}
	return &Service{store: o.Store, audit: o.Audit, now: o.Now, defaults: [subjects]Limits{o.Defaults.Consumer, o.Defaults.User},
		defaulted: [subjects]bool{o.Defaults.Consumer.Limited(), o.Defaults.User.Limited()}}
}

// Limits returns the limits in force for subject s with id: its own
// when set (own true), else the default.
func (s *Service) Limits(subj Subject, id string) (l Limits, own bool) {
	if o, ok := s.view.Load().set[subj][id]; ok {
		return o.limits, true
	}
	return s.defaults[subj], false
}

// Set stores l as the limits of subject s with id, in place of the
// default or of those set before, audited as "call_limits.set". The
// caller has checked that the consumer or user exists.
func (s *Service) Set(ctx context.Context, a audit.Actor, subj Subject, id string, l Limits) error {
	rec := storedOf(&l)
	return s.change(ctx, subj, id, &l, func(tx engine.Tx) error {
		if err := kvjson.Put(tx, bucket, storeKey(subj, id), rec); err != nil {
			return err
		}
		details := map[string]any{"subject": subj.String(), "calls": rec.Calls}
		if rec.From != nil {
			details["from_date"] = rec.From
		}
		if rec.To != nil {
			details["to_date"] = rec.To
		}
		return s.audit.Append(tx, a, "call_limits.set", id, "", details)
	})
}

// Delete removes the limits set on subject s with id, which then has the
// default again, audited as "call_limits.delete"; none set is a 404.
func (s *Service) Delete(ctx context.Context, a audit.Actor, subj Subject, id string) error {
	return s.change(ctx, subj, id, nil, func(tx engine.Tx) error {
		if _, err := tx.Get(bucket, storeKey(subj, id)); errors.Is(err, engine.ErrNotFound) {
			return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no call limits are set on %s %q", subj, id)
		} else if err != nil {
			return err
		}
		if err := tx.Delete(bucket, storeKey(subj, id)); err != nil {
			return err
		}
		return s.audit.Append(tx, a, "call_limits.delete", id, "", map[string]any{"subject": subj.String()})
	})
}

// change runs write in a transaction and, once it committed, makes l (nil:
// none) the limits of subject s with id. Changes run one at a time, so the
// limits in force follow the order of their commits.
func (s *Service) change(ctx context.Context, subj Subject, id string, l *Limits, write func(tx engine.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.Update(ctx, write); err != nil {
		return engine.Surface(err)
	}
	next := s.view.Load().set
	next[subj] = maps.Clone(next[subj])
	switch prev, ok := next[subj][id]; {
	case l == nil:
		delete(next[subj], id)
	case ok:
		// The calls counted so far still count.
		next[subj][id] = ownLimits(*l, prev.counter)
	default:
		next[subj][id] = ownLimits(*l, new(counter))
	}
	s.swap(next)
	return nil
}

// Allow implements engine.Policy: an authenticated call counts against its
// consumer's limits and its user's, and is refused with a 429 when it
// would pass one of them. Calls without a principal are not limited here.
func (s *Service) Allow(_ context.Context, call *engine.Call) error {
	p, v := call.Principal, s.view.Load()
	if p == nil || !v.active[Consumer] && !v.active[User] {
		return nil
	}
	var consumer, user *own
	if v.active[Consumer] {
		consumer = v.set[Consumer][p.ConsumerID]
	}
	if v.active[User] {
		user = v.set[User][p.UserID]
	}
	if consumer == nil && user == nil && !s.defaulted[Consumer] && !s.defaulted[User] {
		return nil
	}
	now := s.now()
	cl, cc := s.inForce(Consumer, p.ConsumerID, consumer, now)
	if cl != nil {
		if period, ok := cc.take(cl, now); !ok {
			return refusal(Consumer, cl, period, now)
		}
	}
	if ul, uc := s.inForce(User, p.UserID, user, now); ul != nil {
		if period, ok := uc.take(ul, now); !ok {
			if cl != nil {
				cc.giveBack(cl, periods, now)
			}
			return refusal(User, ul, period, now)
		}
	}
	return nil
}

// inForce is the limits a call at now by subject s with id counts
// against, and the counter it counts in: its own (o, when set) while they
// apply, else the default; nil for none, or for no id (a consumer's own
// token has no user).
func (s *Service) inForce(subj Subject, id string, o *own, now time.Time) (*Limits, *counter) {
	switch {
	case id == "":
		return nil, nil
	case o != nil && o.limits.appliesAt(now):
		if !o.limited {
			return nil, nil
		}
		return &o.limits, o.counter
	case !s.defaulted[subj]:
		return nil, nil
	}
	return &s.defaults[subj], s.counterOf(subj, id)
}

// counterOf is the counter of subject s with id, made on its first call.
func (s *Service) counterOf(subj Subject, id string) *counter {
	m := &s.counters[subj]
	if c, ok := m.Load(id); ok {
		return c.(*counter)
	}
	c, _ := m.LoadOrStore(strings.Clone(id), new(counter))
	return c.(*counter)
}

// Sweep forgets the counters of the default limits whose windows have all
// ended, returning how many it forgot: memory is held only for the
// consumers and users with limits of their own and those who called within
// the default's longest limited period. Run it every minute or so.
func (s *Service) Sweep() int {
	now, n := s.now(), 0
	for subj := range subjects {
		s.counters[subj].Range(func(id, c any) bool {
			if c.(*counter).idle(now) && s.counters[subj].CompareAndDelete(id, c) {
				n++
			}
			return true
		})
	}
	return n
}
