package access

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Buckets. Values are JSON; index keys join parts with sep (NUL), which no
// id, username, bank id or role name may contain.
const (
	bucketUsers           = "access_users"                        // user id -> userRecord
	bucketUsersByName     = "access_users_by_name"                // lower(username) -> user id
	bucketUsersByExternal = "access_users_by_external"            // provider sep subject -> user id
	bucketConsumers       = "access_consumers"                    // consumer id -> consumerRecord
	bucketConsumersByKey  = "access_consumers_by_key"             // key -> consumer id
	bucketBanks           = "access_banks"                        // bank id -> Bank
	bucketEnts            = "access_entitlements"                 // entitlement id -> Entitlement
	bucketEntsByKey       = "access_entitlements_by_key"          // user sep bank sep role -> entitlement id
	bucketEntsByUser      = "access_entitlements_by_user"         // user sep entitlement id -> ""
	bucketEntsByRole      = "access_entitlements_by_role"         // role sep entitlement id -> ""
	bucketRequests        = "access_entitlement_requests"         // request id -> EntitlementRequest
	bucketRequestsPending = "access_entitlement_requests_pending" // user sep bank sep role -> request id
	bucketRoles           = "access_roles_dynamic"                // role name -> roleRecord
	bucketRolesByOwner    = "access_roles_by_owner"               // owner sep role name -> ""
	bucketMeta            = "access_meta"                         // "bootstrap" -> bootstrapMarker
	bucketStanding        = "access_user_standing"                // user id -> standing
	bucketExternalGone    = "access_external_deleted"             // provider sep subject -> deletion time
	sep                   = "\x00"
)

// PasswordPolicy is what a local password must satisfy. Lengths count
// Unicode code points.
type PasswordPolicy struct {
	MinLength     int // default 10
	MaxLength     int // default 256
	RequireUpper  bool
	RequireLower  bool
	RequireDigit  bool
	RequireSymbol bool
}

// ThrottleOptions bounds failed logins. A user is locked out from one
// client address after MaxFailures failures there within Window, for
// Lockout, and stays usable from every other address. An address, and a
// user from all addresses together, are slowed instead: past SlowAfter
// failures within Window each attempt waits Delay, doubled with each
// further failure, at most MaxDelay, before its password is checked.
type ThrottleOptions struct {
	MaxFailures int           // per user and address; default 5
	Window      time.Duration // default 15m
	Lockout     time.Duration // default 15m
	SlowAfter   int           // per address, and per user; default 10
	Delay       time.Duration // default 250ms
	MaxDelay    time.Duration // default 2s
}

// Options configures New.
type Options struct {
	// Store keeps everything; required.
	Store engine.Store
	// Passwords is the policy for local passwords.
	Passwords PasswordPolicy
	// Throttle bounds failed logins.
	Throttle ThrottleOptions
	// Now is the clock, time.Now by default; tests move time.
	Now func() time.Time
	// JustInTimeEntitlements enables GrantJustInTime.
	JustInTimeEntitlements bool
	// JustInTimeRoles are the roles GrantJustInTime may grant: names, or
	// prefixes ending in '*'. None by default, so no role is claimable
	// until an operator lists it.
	JustInTimeRoles []string
	// LoginEventsPerMinute bounds the login events (failures,
	// lockouts, slowdowns, tokens issued and revoked) written to the audit
	// log; past it they are counted, and the next entry written says how
	// many were left out. Default 120.
	LoginEventsPerMinute int
	// PasswordHashing is the argon2id cost of new password hashes;
	// DefaultPasswordHashing when zero. Tests set a cheap one.
	PasswordHashing PasswordHashing

	// sleep overrides how throttled attempts wait; tests record it.
	sleep func(context.Context, time.Duration) error
}

// Service is the access domain. It is safe for concurrent use. Reads on the
// request path (Has, HasAny, BankExists, ConsumerByKey,
// CheckConsumerSecret, Role) use immutable in-memory views behind atomic
// pointers; every other method reads or writes the store.
//
// Authorisation: Grant, Revoke and DecideEntitlementRequest check the
// actor's entitlements themselves, because the rule depends on the bank.
// Every other change is authorised by the caller (the route's guard) before
// it calls the service.
type Service struct {
	store    engine.Store
	policy   PasswordPolicy
	now      func() time.Time
	jit      bool
	jitRoles []string
	hash     argonParams
	hashSem  chan struct{}
	dummy    string // a hash verified for unknown users, to take the same time
	throttle *throttle
	sleep    func(context.Context, time.Duration) error
	events   *securityLog
	verifies atomic.Int64 // password verifications, for tests

	// Audit is the audit log every change here appends to.
	Audit *audit.Log

	// wmu serialises the service's own writes with the application of
	// their changes to the views, so views advance in commit order, and
	// reload with both.
	wmu       sync.Mutex
	ents      atomic.Pointer[map[entKey]struct{}]
	consumers atomic.Pointer[map[string]*consumerEntry] // by key
	banks     atomic.Pointer[map[string]struct{}]
	static    atomic.Pointer[map[string]Role]
	dynamic   atomic.Pointer[map[string]Role]
	roles     atomic.Pointer[roleView]
	standings atomic.Pointer[sync.Map] // user id -> *standing
}

// entKey is an entitlement in the in-memory view: bank "" for system roles.
type entKey struct{ user, bank, role string }

// consumerEntry is a consumer in the in-memory view.
type consumerEntry struct {
	c    Consumer
	hash [sha256.Size]byte
}

// roleView is every role, by name and sorted.
type roleView struct {
	byName map[string]Role
	sorted []Role
}

// New returns a service on opts.Store with the static roles registered,
// loading the in-memory views from the store.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("access: Options.Store is required")
	}
	p := opts.Passwords
	if p.MinLength <= 0 {
		p.MinLength = 10
	}
	if p.MaxLength <= 0 {
		p.MaxLength = 256
	}
	if p.MaxLength < p.MinLength {
		return nil, fmt.Errorf("access: password MaxLength %d is below MinLength %d", p.MaxLength, p.MinLength)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	hp, err := opts.PasswordHashing.params()
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:    opts.Store,
		policy:   p,
		now:      now,
		jit:      opts.JustInTimeEntitlements,
		jitRoles: slices.Clone(opts.JustInTimeRoles),
		hash:     hp,
		hashSem:  make(chan struct{}, hashSlots(hp, runtime.GOMAXPROCS(0))),
		dummy:    dummyHash(hp),
		throttle: newThrottle(opts.Throttle),
		sleep:    opts.sleep,
		events:   newSecurityLog(opts.LoginEventsPerMinute),
		Audit:    audit.New(opts.Store, now),
	}
	if s.sleep == nil {
		s.sleep = sleep
	}
	empty := map[string]Role{}
	s.static.Store(&empty)
	emptyDyn := map[string]Role{}
	s.dynamic.Store(&emptyDyn)
	s.RegisterRoles(StaticRoles()...)
	s.RegisterRoles(Role{Name: RoleCanResetUserPassword})
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	if err := s.markLockedUsers(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// reload rebuilds every in-memory view from the store and swaps it in, at
// start; the service's own methods and Update keep the views current.
func (s *Service) reload(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ents := map[entKey]struct{}{}
	consumers := map[string]*consumerEntry{}
	banks := map[string]struct{}{}
	dynamic := map[string]Role{}
	standings := &sync.Map{}
	err := s.store.View(ctx, func(tx engine.Tx) error {
		err := tx.Scan(bucketEntsByKey, "", func(k string, _ []byte) error {
			parts := strings.SplitN(k, sep, 3)
			if len(parts) != 3 {
				return fmt.Errorf("access: malformed entitlement key %q", k)
			}
			ents[entKey{parts[0], parts[1], parts[2]}] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(bucketConsumers, "", func(_ string, v []byte) error {
			var rec consumerRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			e, err := rec.entry()
			if err != nil {
				return err
			}
			consumers[rec.Key] = e
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(bucketBanks, "", func(k string, _ []byte) error {
			banks[k] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(bucketStanding, "", func(k string, v []byte) error {
			st, err := kvjson.Decode[standing](v)
			if err != nil {
				return err
			}
			standings.Store(k, st)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan(bucketRoles, "", func(k string, v []byte) error {
			r, err := decodeRoleRecord(v)
			if err != nil {
				return err
			}
			dynamic[k] = r
			return nil
		})
	})
	if err != nil {
		return engine.Internal(fmt.Errorf("access: load views: %w", err))
	}
	s.ents.Store(&ents)
	s.consumers.Store(&consumers)
	s.banks.Store(&banks)
	s.dynamic.Store(&dynamic)
	s.standings.Store(standings)
	s.rebuildRoles(dynamic)
	return nil
}

// entOp adds or removes one entitlement from the view.
type entOp struct {
	key entKey
	add bool
}

// change collects what a transaction did to the viewed data, applied to
// the views once it commits.
type change struct {
	ents      []entOp          // in commit order
	consumers []*consumerEntry // upserts, by key
	banks     []string
	rolesAdd  []Role
	rolesDel  []string
	standings map[string]*standing // by user id
	committed []func()             // run once what it grants is seen, before what it takes goes
}

// update runs fn in one store transaction and, once it commits, applies
// its change to the views.
func (s *Service) update(ctx context.Context, fn func(tx engine.Tx, ch *change) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var ch change
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		ch = change{}
		return fn(tx, &ch)
	})
	if err != nil {
		return wrapErr(err)
	}
	s.apply(&ch)
	return nil
}

// apply swaps in views with ch applied; s.wmu is held. Each view is copied,
// never modified, since readers hold the old one without locks. What ch
// grants (entitlements, roles) is seen first, then its commit hooks run,
// then what it takes away goes: a document swapped in by a hook finds its
// new roles granted, and one swapped out by a hook no longer answers when
// its roles go. The views end as if ch's operations applied in order.
func (s *Service) apply(ch *change) {
	final := make(map[entKey]bool, len(ch.ents)) // key -> added
	for _, op := range ch.ents {
		final[op.key] = op.add
	}
	s.applyEnts(final, true)
	s.applyRoles(ch.rolesAdd, nil)
	if len(ch.consumers) > 0 {
		old := *s.consumers.Load()
		next := make(map[string]*consumerEntry, len(old)+len(ch.consumers))
		for k, v := range old {
			next[k] = v
		}
		for _, e := range ch.consumers {
			next[e.c.Key] = e
		}
		s.consumers.Store(&next)
	}
	if len(ch.banks) > 0 {
		old := *s.banks.Load()
		next := make(map[string]struct{}, len(old)+len(ch.banks))
		for k := range old {
			next[k] = struct{}{}
		}
		for _, b := range ch.banks {
			next[b] = struct{}{}
		}
		s.banks.Store(&next)
	}
	for id, st := range ch.standings {
		s.standings.Load().Store(id, st)
	}
	for _, fn := range ch.committed {
		fn()
	}
	s.applyEnts(final, false)
	added := make(map[string]bool, len(ch.rolesAdd))
	for _, r := range ch.rolesAdd {
		added[r.Name] = true
	}
	s.applyRoles(nil, slices.DeleteFunc(slices.Clone(ch.rolesDel), func(n string) bool { return added[n] }))
}

// applyEnts swaps in the entitlement view with the keys final adds (add)
// or removes (!add); s.wmu is held.
func (s *Service) applyEnts(final map[entKey]bool, add bool) {
	var keys []entKey
	for k, a := range final {
		if a == add {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	old := *s.ents.Load()
	next := make(map[entKey]struct{}, len(old)+len(keys))
	for k := range old {
		next[k] = struct{}{}
	}
	for _, k := range keys {
		if add {
			next[k] = struct{}{}
		} else {
			delete(next, k)
		}
	}
	s.ents.Store(&next)
}

// applyRoles swaps in the dynamic role view with add added and del
// removed; s.wmu is held.
func (s *Service) applyRoles(add []Role, del []string) {
	if len(add)+len(del) == 0 {
		return
	}
	old := *s.dynamic.Load()
	next := make(map[string]Role, len(old)+len(add))
	for k, v := range old {
		next[k] = v
	}
	for _, n := range del {
		delete(next, n)
	}
	for _, r := range add {
		next[r.Name] = r
	}
	s.dynamic.Store(&next)
	s.rebuildRoles(next)
}

// wrapErr returns err as an *engine.Error: as is when it is one, else an
// internal error keeping err as its cause (so errors.Is still sees
// context.Canceled and store sentinels).
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return e
	}
	return engine.Internal(err)
}

// view runs fn in a read transaction, wrapping errors like wrapErr.
func (s *Service) view(ctx context.Context, fn func(tx engine.Tx) error) error {
	return wrapErr(s.store.View(ctx, fn))
}

func itoa(i int) string { return strconv.Itoa(i) }

// sha256Hex is the stored form of a consumer secret.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
