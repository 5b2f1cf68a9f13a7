package consent

import (
	"context"
	"encoding/json"
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

// bucket holds the consents: consent id -> Consent (JSON); expiryBucket
// indexes those that can still expire by expiry (expiryKey), for
// ExpireDue; userBucket indexes the consents a customer authorised by
// customer (userKey), for ListForUser.
const (
	bucket       = "consents"
	expiryBucket = "consent_expiry"
	userBucket   = "consent_by_user"
)

// Audit actions of consent changes.
const (
	auditCreate    = "consent.create"
	auditDelete    = "consent.delete"
	auditRevoke    = "consent.revoke"
	auditExpire    = "consent.expire"
	auditAuthorise = "consent.authorise"
	auditReject    = "consent.reject"
	auditAccounts  = "consent.accounts"
)

// Service keeps the consents in a store. Every change is written with its
// audit entry in one transaction and checks the revision it read, and
// forgets the consent's compiled copy (grants) before it returns.
type Service struct {
	store  engine.Store
	audit  *audit.Log
	now    func() time.Time
	grants grants
	// uses are the calls recently made under each consent (NoteUse).
	uses *useLog
	// unattended counts the calls made without the customer (Berlin
	// Group frequencyPerDay).
	unattended unattended
	// profiles, when set (UseProfiles), render the statuses pushed to
	// consents' notification URIs.
	profiles *Registry
}

// NewService returns the consents kept in store, audited in log, timed by
// now (time.Now when nil). It keeps the recent uses of consents in memory
// and stores them in the background until Close.
func NewService(store engine.Store, log *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, audit: log, now: now, uses: newUseLog(store, useLogOptions{})}
}

// Create stores c, a new consent awaiting authorisation: it gets its id
// (unless the caller chose one: NewID), times, revision and first history
// entry here. Each of with runs in the same transaction, so what the
// caller stores with the consent (a challenge) is stored with it or not at
// all.
func (s *Service) Create(ctx context.Context, c *Consent, who audit.Actor, with ...func(tx engine.Tx) error) error {
	now := s.now().UTC().Truncate(time.Second)
	if c.ID == "" {
		c.ID = NewID()
	}
	c.CreatedAt, c.Status, c.Revision = now, "", 0
	if c.UserID != "" { // created by its customer (OBP)
		c.transition(AwaitingAuthorisation, now, "psu", c.UserID, "", who.CorrelationID)
	} else {
		c.transition(AwaitingAuthorisation, now, "tpp", who.ConsumerID, "", who.CorrelationID)
	}
	defer s.grants.forget(c.ID)
	return s.store.Update(ctx, func(tx engine.Tx) error {
		for _, f := range with {
			if err := f(tx); err != nil {
				return err
			}
		}
		if err := kvjson.Put(tx, bucket, c.ID, c); err != nil {
			return err
		}
		if err := s.emitChanges(tx, c, 0, nil, now); err != nil {
			return err
		}
		if c.ExpiresAt != nil {
			if err := tx.Put(expiryBucket, expiryKey(c), []byte{}); err != nil {
				return err
			}
		}
		if c.UserID != "" { // created by its customer (OBP)
			if err := tx.Put(userBucket, userKey(c), []byte{}); err != nil {
				return err
			}
		}
		return s.audit.Append(tx, who, auditCreate, c.ID, c.BankID,
			map[string]any{"profile_id": c.ProfileID, "kind": c.Kind, "permissions": c.Permissions})
	})
}

// NewID is a new consent id, for a caller that must know it before
// Create (an OBP consent's JWT names it).
func NewID() string { return uuid.NewString() }

// Get returns the consent with id, deleted ones included, or
// engine.ErrNotFound. A consent past its expiry is expired, whether or not
// ExpireDue has stored it so yet: expiry holds to the second it is due.
func (s *Service) Get(ctx context.Context, id string) (*Consent, error) {
	var c *Consent
	err := s.store.View(ctx, func(tx engine.Tx) error {
		var err error
		c, err = s.read(tx, id)
		return err
	})
	return c, err
}

// read reads consent id in tx, expired if it is due.
func (s *Service) read(tx engine.Tx, id string) (*Consent, error) {
	c, err := kvjson.Get[Consent](tx, bucket, id)
	if err == nil && c.due(s.now()) {
		c.expire()
	}
	return c, err
}

// due tells whether c, still usable or awaiting authorisation, is past its
// expiry at now.
func (c *Consent) due(now time.Time) bool {
	return c.ExpiresAt != nil && !now.Before(*c.ExpiresAt) && (c.Status == AwaitingAuthorisation || c.Status == Authorised)
}

// expire moves c to Expired at its expiry, by the system.
func (c *Consent) expire() { c.transition(Expired, *c.ExpiresAt, "system", "", "expired", "") }

// ExpireDue stores as expired every consent past its expiry at now (at
// most maxScan at a time, the earliest first), each with its audit entry,
// and tells how many it expired. The engine runs it every minute; reads
// see a due consent expired before that anyway (Get).
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	now := s.now()
	expired := 0
	var changed []string
	defer func() {
		for _, id := range changed {
			s.grants.forget(id)
		}
	}()
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		expired, changed = 0, changed[:0]
		var keys []string
		err := tx.ScanFrom(expiryBucket, "", func(key string, _ []byte) error {
			if key > expiryStamp(now)+"/~" || len(keys) == maxScan {
				return engine.ErrStop
			}
			keys = append(keys, key)
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range keys {
			_, id, _ := strings.Cut(key, "/")
			c, err := kvjson.Get[Consent](tx, bucket, id)
			if err != nil && !notFound(err) {
				return err
			}
			if err == nil && c.due(now) {
				since := len(c.History)
				c.expire()
				if err := kvjson.Put(tx, bucket, id, c); err != nil {
					return err
				}
				if err := s.emitChanges(tx, c, since, c.Accounts, now); err != nil {
					return err
				}
				if err := s.audit.Append(tx, audit.Actor{}, auditExpire, id, c.BankID, map[string]any{"expired_at": c.ExpiresAt}); err != nil {
					return err
				}
				expired++
				changed = append(changed, id)
			}
			if err := tx.Delete(expiryBucket, key); err != nil {
				return err
			}
		}
		return nil
	})
	return expired, err
}

// expiryKey is c's key in expiryBucket: its expiry (expiryStamp), then
// its id. The key of every consent due at t or before sorts before
// expiryStamp(t)+"/~" ('~' sorts after every character of an id).
func expiryKey(c *Consent) string { return expiryStamp(*c.ExpiresAt) + "/" + c.ID }

// expiryStamp writes t so that byte order is time order.
func expiryStamp(t time.Time) string { return t.UTC().Format("20060102T150405.000000000") }

// Delete marks the consent with id deleted by its TPP, if it is still at
// revision rev: it stays stored for the audit trail and is answered as
// unknown from then on. A consent changed since is a 409.
func (s *Service) Delete(ctx context.Context, id string, rev uint64, who audit.Actor) error {
	defer s.grants.forget(id)
	return s.store.Update(ctx, func(tx engine.Tx) error {
		c, err := kvjson.Get[Consent](tx, bucket, id)
		if err != nil {
			return err
		}
		if c.Revision != rev {
			return errChanged
		}
		if err := unindex(tx, c); err != nil {
			return err
		}
		since, now := len(c.History), s.now().UTC().Truncate(time.Second)
		c.transition(Deleted, now, "tpp", who.ConsumerID, "deleted by the TPP", who.CorrelationID)
		if err := kvjson.Put(tx, bucket, id, c); err != nil {
			return err
		}
		if err := s.emitChanges(tx, c, since, c.Accounts, now); err != nil {
			return err
		}
		return s.audit.Append(tx, who, auditDelete, id, c.BankID, map[string]any{"revision": c.Revision})
	})
}

// Filter selects consents to list: each field set must match; After is
// the last consent id of the previous page.
type Filter struct {
	Status                   Status
	ConsumerID, UserID, Kind string
	// BankID selects the consents created at that bank.
	BankID string
	After  string
	Limit  int // at most this many; 0 or less: 100
}

// maxScan bounds the consents one List reads, matching or not, so a
// filter that matches few of many consents answers in bounded time: the
// page then ends early, with the cursor where the scan stopped.
const maxScan = 10_000

// List returns the consents matching f in id order, deleted ones included
// (they are kept for the record), and the After of the next page ("" at
// the end). A page may hold fewer than f.Limit consents and still have a
// next one, when the scan reached maxScan first.
func (s *Service) List(ctx context.Context, f Filter) ([]*Consent, string, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []*Consent
	next, scanned, now := "", 0, s.now()
	err := s.store.View(ctx, func(tx engine.Tx) error {
		return tx.ScanFrom(bucket, f.After, func(key string, v []byte) error {
			if key == f.After {
				return nil
			}
			if len(out) == f.Limit || scanned == maxScan {
				return engine.ErrStop
			}
			scanned++
			next = key
			var c Consent
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("consent %s: %w", key, err)
			}
			if c.due(now) {
				c.expire()
			}
			if f.matches(&c) {
				out = append(out, &c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) < f.Limit && scanned < maxScan {
		next = "" // the scan reached the end
	}
	return out, next, nil
}

func (f Filter) matches(c *Consent) bool {
	return (f.Status == "" || c.Status == f.Status) && (f.ConsumerID == "" || c.ConsumerID == f.ConsumerID) &&
		(f.UserID == "" || c.UserID == f.UserID) && (f.Kind == "" || c.Kind == f.Kind) && (f.BankID == "" || c.BankID == f.BankID)
}

// Revoke revokes the consent with id on the bank's behalf, for reason: it
// can no longer be used, and its TPP sees it revoked (UK CANC with the
// reason). Only a consent awaiting authorisation or authorised can be
// revoked; any other is a 409 naming its status, an unknown one
// engine.ErrNotFound.
func (s *Service) Revoke(ctx context.Context, id, reason string, who audit.Actor) (*Consent, error) {
	return s.revoke(ctx, id, revocation{actor: "admin", actorID: who.UserID, code: ReasonRevokedByBank, reason: reason}, who)
}

// Canonical reasons of a revocation (Reason.Code); a profile's
// reason_codes map them to its standard's status reason codes.
const (
	ReasonRevokedByBank = "revoked_by_bank"
	ReasonRevokedByPSU  = "revoked_by_psu"
)

// revocation is who revokes a consent and why. A customer (owner set)
// revokes only a consent they authorised: any other is unknown to them.
type revocation struct {
	actor, actorID, owner string
	code, reason          string
}

// revoke is Revoke and RevokeByCustomer: one audited change, consent.revoke.
func (s *Service) revoke(ctx context.Context, id string, r revocation, who audit.Actor) (*Consent, error) {
	return s.update(ctx, id, who, auditRevoke, func(_ engine.Tx, c *Consent, now time.Time) (map[string]any, error) {
		if r.owner != "" && (c.UserID != r.owner || !c.Visible()) {
			return nil, engine.ErrNotFound
		}
		if c.Status != AwaitingAuthorisation && c.Status != Authorised {
			return nil, statusConflict(c, "revoked", AwaitingAuthorisation, Authorised)
		}
		c.transition(Revoked, now, r.actor, r.actorID, r.reason, who.CorrelationID)
		c.Reasons = []Reason{{Code: r.code, Description: r.reason}}
		return map[string]any{"reason": r.reason, "reason_code": r.code}, nil
	})
}

// Authorise records the customer userID's authorisation of the consent
// with id, awaiting it, for the accounts they chose (at least one): from
// now on the consent's TPP may use it. A consent in any other status is a
// 409 naming it, an unknown one engine.ErrNotFound. Whether the customer
// may share those accounts is the caller's to check, before. Each of with
// runs in the same transaction once the consent is authorised, so what
// the caller records of the authorisation (its code, say) is stored with
// it or not at all: an error of one undoes everything.
func (s *Service) Authorise(ctx context.Context, id, userID string, accounts []string, who audit.Actor,
	with ...func(tx engine.Tx) error) (*Consent, error) {
	return s.AuthoriseAccess(ctx, id, userID, accounts, nil, who, with...)
}

// AuthoriseAccess is Authorise with each permission narrowed to some of
// the accounts (Consent.Access; nil narrows none). Authorising a recurring
// consent of a standard whose customers hold one at a time per TPP (Berlin
// Group) expires the customer's other ones, in the same transaction
// (supersede).
func (s *Service) AuthoriseAccess(ctx context.Context, id, userID string, accounts []string, access map[string][]string,
	who audit.Actor, with ...func(tx engine.Tx) error) (*Consent, error) {
	var superseded []string
	defer func() {
		for _, old := range superseded {
			s.grants.forget(old)
		}
	}()
	if userID == "" || len(accounts) == 0 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"a consent is authorised by a customer for at least one account")
	}
	return s.update(ctx, id, who, auditAuthorise, func(tx engine.Tx, c *Consent, now time.Time) (map[string]any, error) {
		if c.Status != AwaitingAuthorisation {
			return nil, statusConflict(c, "authorised", AwaitingAuthorisation)
		}
		for _, f := range with {
			if err := f(tx); err != nil {
				return nil, err
			}
		}
		c.UserID, c.Accounts, c.Access, c.Reasons = userID, slices.Clone(accounts), access, nil
		c.transition(Authorised, now, "psu", userID, "", who.CorrelationID)
		details := map[string]any{"user_id": userID, "accounts": accounts}
		if access != nil {
			details["access"] = access
		}
		superseded = superseded[:0]
		var err error
		superseded, err = s.supersede(tx, c, now, who, superseded)
		return details, err
	})
}

// Reject records that the consent with id, awaiting authorisation, was
// refused, for reason: by the customer (userID set), or by the
// authorisation itself (a failed challenge; userID ""). Any other status
// is a 409 naming it, an unknown consent engine.ErrNotFound.
func (s *Service) Reject(ctx context.Context, id, userID, reason string, who audit.Actor) (*Consent, error) {
	return s.update(ctx, id, who, auditReject, func(_ engine.Tx, c *Consent, now time.Time) (map[string]any, error) {
		if c.Status != AwaitingAuthorisation {
			return nil, statusConflict(c, "rejected", AwaitingAuthorisation)
		}
		actor := "system"
		if userID != "" {
			actor = "psu"
		}
		c.transition(Rejected, now, actor, userID, reason, who.CorrelationID)
		return map[string]any{"user_id": userID, "reason": reason}, nil
	})
}

// update changes the consent with id in one transaction: change reads it
// (expired if it is due) and moves it with transition, or refuses, and
// may write more in the transaction (tx); update
// then keeps the expiry index and the customer's index in step, stores the
// consent and appends the audit entry action with change's details and the
// new revision, and forgets the consent's compiled copy before it returns.
// It returns the consent as stored.
func (s *Service) update(ctx context.Context, id string, who audit.Actor, action string,
	change func(tx engine.Tx, c *Consent, now time.Time) (map[string]any, error)) (*Consent, error) {
	var out *Consent
	defer s.grants.forget(id)
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		c, err := kvjson.Get[Consent](tx, bucket, id)
		if err != nil {
			return err
		}
		indexed := c.ExpiresAt != nil && (c.Status == AwaitingAuthorisation || c.Status == Authorised)
		customer, since, accounts := c.UserID, len(c.History), slices.Clone(c.Accounts)
		if c.due(s.now()) {
			c.expire()
		}
		now := s.now().UTC().Truncate(time.Second)
		details, err := change(tx, c, now)
		if err != nil {
			return err
		}
		if err := s.emitChanges(tx, c, since, accounts, now); err != nil {
			return err
		}
		if stays := c.Status == AwaitingAuthorisation || c.Status == Authorised; indexed && !stays {
			if err := unindex(tx, c); err != nil {
				return err
			}
		}
		if customer == "" && c.UserID != "" {
			if err := tx.Put(userBucket, userKey(c), []byte{}); err != nil {
				return err
			}
		}
		if err := kvjson.Put(tx, bucket, id, c); err != nil {
			return err
		}
		if details == nil {
			details = map[string]any{}
		}
		details["revision"] = c.Revision
		out = c
		return s.audit.Append(tx, who, action, id, c.BankID, details)
	})
	return out, err
}

// statusConflict is the 409 for a consent whose status does not allow
// what was asked (becoming verb), naming the statuses that would.
func statusConflict(c *Consent, verb string, allowed ...Status) error {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return engine.Errorf(http.StatusConflict, CodeConsentStatus, "consent %s is %s: only a consent %s can be %s",
		c.ID, c.Status, strings.Join(names, " or "), verb)
}

// unindex removes c from expiryBucket: it is leaving the statuses that
// expire.
func unindex(tx engine.Tx, c *Consent) error {
	if c.ExpiresAt == nil {
		return nil
	}
	return tx.Delete(expiryBucket, expiryKey(c))
}

// errChanged: the consent changed between reading and writing it.
var errChanged = engine.NewError(http.StatusConflict, engine.CodeConflict,
	"the consent changed while it was being changed; read it again")

// notFound tells whether err says the consent does not exist.
func notFound(err error) bool { return errors.Is(err, engine.ErrNotFound) }
