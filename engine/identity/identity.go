// Package identity holds who a caller is: users and their passwords
// (argon2id), consumer applications and their secrets, the authentication
// of credentials with throttling of failed logins, the standing of users
// whose sessions a lock, a deletion or a password change ended, and the
// first start's super admin and consumer. All of it is persisted in an
// engine.Store and every change is audited in its own transaction.
//
// The request path never reads the store: Service keeps immutable
// in-memory views of enabled consumers and of users' standings, swapped
// atomically after every change, so ConsumerByKey and SessionValid are map
// lookups without locks.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Buckets. Values are JSON; index keys join parts with sep (NUL), which no
// id, username or consumer key may contain. Their names predate this
// package and are kept so existing stores read on.
const (
	bucketUsers           = "access_users"             // user id -> userRecord
	bucketUsersByName     = "access_users_by_name"     // lower(username) -> user id
	bucketUsersByExternal = "access_users_by_external" // provider sep subject -> user id
	bucketConsumers       = "access_consumers"         // consumer id -> consumerRecord
	bucketConsumersByKey  = "access_consumers_by_key"  // key -> consumer id
	bucketMeta            = "access_meta"              // "bootstrap" -> bootstrapMarker
	bucketStanding        = "access_user_standing"     // user id -> standing
	bucketExternalGone    = "access_external_deleted"  // provider sep subject -> deletion time
	sep                   = "\x00"
)

// Error codes of this package, in Error.Code next to the engine's own.
const (
	CodeUsernameTaken     = "username_taken"
	CodeConsumerKeyExists = "consumer_key_exists"
)

// User is a person or system that logs in. PasswordHash never leaves this
// package in a response.
type User struct {
	ID           string    `json:"user_id"`
	Username     string    `json:"username"`
	Email        string    `json:"email,omitempty"`
	Provider     string    `json:"provider"` // "local", or the issuer of an external identity
	Locked       bool      `json:"locked"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
}

// Consumer is a client application. Its secret is shown once at creation
// and kept only as a hash.
type Consumer struct {
	ID         string    `json:"consumer_id"`
	Key        string    `json:"consumer_key"`
	Name       string    `json:"name"`
	Enabled    bool      `json:"enabled"`
	CreatedBy  string    `json:"created_by_user_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	SecretHash string    `json:"-"`
	// RedirectURIs are the URIs the consumer may have its customers sent
	// back to after an authorisation, matched exactly.
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// CallbackURLs are the URLs the consumer receives event notifications
	// at (a UK event subscription's CallbackUrl is one of them), matched
	// exactly; a Berlin Group TPP-Notification-URI has the scheme, host
	// and port of one.
	CallbackURLs []string `json:"callback_urls,omitempty"`
	// AuthorizationPolicy is how its authorization requests reach the
	// bank: PolicyPARPKCE or PolicyFAPI1RequestObject.
	AuthorizationPolicy string `json:"authorization_policy"`
	// JWKS is the JWK Set of the public keys its request objects are
	// signed with, as registered.
	JWKS json.RawMessage `json:"jwks,omitempty"`
}

// Principal is an authenticated caller; the type lives in the kernel so
// connectors can read it without importing this package.
type Principal = engine.Principal

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
	// Writer runs the transactions, on the store that keeps everything;
	// required.
	Writer *viewtx.Writer
	// Audit is the log every change is recorded in; required.
	Audit *audit.Log
	// Passwords is the policy for local passwords.
	Passwords PasswordPolicy
	// Throttle bounds failed logins.
	Throttle ThrottleOptions
	// Now is the clock, time.Now by default; tests move time.
	Now func() time.Time
	// LoginEventsPerMinute bounds the login events (failures,
	// lockouts, slowdowns, tokens issued and revoked) written to the audit
	// log; past it they are counted, and the next entry written says how
	// many were left out. Default 120.
	LoginEventsPerMinute int
	// PasswordHashing is the argon2id cost of new password hashes;
	// DefaultPasswordHashing when zero. Tests set a cheap one.
	PasswordHashing PasswordHashing
	// Logins records failed logins and lockouts; nil records nothing.
	Logins *metrics.Logins

	// sleep overrides how throttled attempts wait; tests record it.
	sleep func(context.Context, time.Duration) error
}

// Service is the identity domain. It is safe for concurrent use. Reads on
// the request path (ConsumerByKey, CheckConsumerSecret, SessionValid) use
// immutable in-memory views behind atomic pointers; every other method
// reads or writes the store. Authorisation of a change is the caller's.
type Service struct {
	w        *viewtx.Writer
	audit    *audit.Log
	policy   PasswordPolicy
	now      func() time.Time
	hash     argonParams
	hashSem  chan struct{}
	dummy    string // a hash verified for unknown users, to take the same time
	throttle *throttle
	sleep    func(context.Context, time.Duration) error
	events   *securityLog
	verifies atomic.Int64 // password verifications, for tests
	logins   *metrics.Logins

	consumers atomic.Pointer[map[string]*consumerEntry] // by key
	standings atomic.Pointer[sync.Map]                  // user id -> *standing
	// revision counts the changes to the views (Revision).
	revision atomic.Uint64
}

// Revision changes whenever a consumer or a user's standing changes, once
// the change is visible: a check of them made at one revision holds for
// as long as Revision still returns it, so callers on the request path
// can check once per revision instead of once per request.
func (s *Service) Revision() uint64 { return s.revision.Load() }

// consumerEntry is a consumer in the in-memory view.
type consumerEntry struct {
	c    Consumer
	hash [sha256.Size]byte
}

// New returns a service on opts.Writer, loading the in-memory views from
// the store.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Writer == nil || opts.Audit == nil {
		return nil, errors.New("identity: Options.Writer and Options.Audit are required")
	}
	p := opts.Passwords
	if p.MinLength <= 0 {
		p.MinLength = 10
	}
	if p.MaxLength <= 0 {
		p.MaxLength = 256
	}
	if p.MaxLength < p.MinLength {
		return nil, fmt.Errorf("identity: password MaxLength %d is below MinLength %d", p.MaxLength, p.MinLength)
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
		w:        opts.Writer,
		audit:    opts.Audit,
		policy:   p,
		now:      now,
		hash:     hp,
		hashSem:  make(chan struct{}, hashSlots(hp, runtime.GOMAXPROCS(0))),
		dummy:    dummyHash(hp),
		throttle: newThrottle(opts.Throttle),
		sleep:    opts.sleep,
		events:   newSecurityLog(opts.LoginEventsPerMinute),
		logins:   opts.Logins,
	}
	if s.sleep == nil {
		s.sleep = sleep
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	if err := s.markLockedUsers(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// load builds the in-memory views from the store, at start; the
// service's own methods keep them current.
func (s *Service) load(ctx context.Context) error {
	consumers := map[string]*consumerEntry{}
	standings := &sync.Map{}
	err := s.w.View(ctx, func(tx engine.Tx) error {
		err := tx.Scan(bucketConsumers, "", func(_ string, v []byte) error {
			rec, err := kvjson.Decode[consumerRecord](v)
			if err != nil {
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
		return tx.Scan(bucketStanding, "", func(k string, v []byte) error {
			st, err := kvjson.Decode[standing](v)
			if err != nil {
				return err
			}
			standings.Store(k, st)
			return nil
		})
	})
	if err != nil {
		return engine.Internal(fmt.Errorf("identity: load views: %w", err))
	}
	s.consumers.Store(&consumers)
	s.standings.Store(standings)
	s.revision.Add(1)
	return nil
}

// change is what a transaction did to the viewed data, applied to the
// views once it commits.
type change struct {
	consumers []*consumerEntry     // upserts, in commit order
	standings map[string]*standing // by user id
}

// changed returns tx's change to this service's views, applied once tx
// commits.
func (s *Service) changed(tx *viewtx.Tx) *change {
	return viewtx.Local(tx, s, func() *change {
		ch := &change{standings: map[string]*standing{}}
		tx.Reveal(func() { s.apply(ch) })
		return ch
	})
}

// apply swaps in views with ch applied. Each view is copied, never
// modified, since readers hold the old one without locks.
func (s *Service) apply(ch *change) {
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
	for id, st := range ch.standings {
		s.standings.Load().Store(id, st)
	}
	s.revision.Add(1)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// sha256Hex is the stored form of a consumer secret.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
