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
	// Now is the clock of the windows; time.Now when nil.
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
	// set is the limits set, by subject and id; swapped whole after each
	// change commits (under mu), never changed in place.
	set      atomic.Pointer[[subjects]map[string]*Limits]
	mu       sync.Mutex
	counters [subjects]sync.Map // id -> *counter
}

var _ engine.Policy = (*Service)(nil)

// New returns the service of the limits stored in o.Store.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{store: o.Store, audit: o.Audit, now: o.Now, defaults: [subjects]Limits{o.Defaults.Consumer, o.Defaults.User}}
	set := [subjects]map[string]*Limits{{}, {}}
	err := o.Store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(key string, v []byte) error {
			kind, id, _ := strings.Cut(key, "/")
			rec, err := kvjson.Decode[stored](v)
			if err != nil {
				return err
			}
			for subj := range subjects {
				if subj.String() == kind {
					set[subj][id] = rec.limits()
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.set.Store(&set)
	return s, nil
}

// Limits returns the limits in force for subject s with id: its own
// when set (own true), else the default.
func (s *Service) Limits(subj Subject, id string) (l Limits, own bool) {
	if set, ok := s.set.Load()[subj][id]; ok {
		return *set, true
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
	next := *s.set.Load()
	next[subj] = maps.Clone(next[subj])
	if l == nil {
		delete(next[subj], id)
	} else {
		next[subj][id] = l
	}
	s.set.Store(&next)
	return nil
}

// Allow implements engine.Policy: an authenticated call counts against its
// consumer's limits and its user's, and is refused with a 429 when it
// would pass one of them. Calls without a principal are not limited here.
func (s *Service) Allow(_ context.Context, call *engine.Call) error {
	p := call.Principal
	if p == nil {
		return nil
	}
	set := s.set.Load()
	consumer, ownConsumer := set[Consumer][p.ConsumerID]
	user, ownUser := set[User][p.UserID]
	if !ownConsumer && !ownUser && !s.defaults[Consumer].Limited() && !s.defaults[User].Limited() {
		return nil
	}
	now := s.now()
	cl := s.inForce(Consumer, p.ConsumerID, consumer, ownConsumer, now)
	ul := s.inForce(User, p.UserID, user, ownUser, now)
	var counted *counter
	if cl != nil {
		counted = s.counterOf(Consumer, p.ConsumerID)
		if period, ok := counted.take(cl, now); !ok {
			return refusal(Consumer, cl, period, now)
		}
	}
	if ul != nil {
		if period, ok := s.counterOf(User, p.UserID).take(ul, now); !ok {
			if counted != nil {
				counted.giveBack(cl, periods, now)
			}
			return refusal(User, ul, period, now)
		}
	}
	return nil
}

// inForce is the limits a call at now by subject s with id counts
// against: its own (set, when own) while they apply, else the default; nil
// for none, or for no id (a consumer's own token has no user).
func (s *Service) inForce(subj Subject, id string, set *Limits, own bool, now time.Time) *Limits {
	l := &s.defaults[subj]
	if own && set.appliesAt(now) {
		l = set
	}
	if id == "" || !l.Limited() {
		return nil
	}
	return l
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

// Sweep forgets the counters whose windows have all ended, returning how
// many it forgot: memory is held only for consumers and users who called
// within their longest limited period. Run it every minute or so.
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
