package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// bucket holds the consents: consent id -> Consent (JSON); expiryBucket
// indexes those that can still expire by expiry (expiryKey), for ExpireDue.
const (
	bucket       = "consents"
	expiryBucket = "consent_expiry"
)

// Audit actions of consent changes.
const (
	auditCreate = "consent.create"
	auditDelete = "consent.delete"
	auditRevoke = "consent.revoke"
	auditExpire = "consent.expire"
)

// Service keeps the consents in a store. Every change is written with its
// audit entry in one transaction and checks the revision it read.
type Service struct {
	store engine.Store
	audit *audit.Log
	now   func() time.Time
}

// NewService returns the consents kept in store, audited in log, timed by
// now (time.Now when nil).
func NewService(store engine.Store, log *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, audit: log, now: now}
}

// Create stores c, a new consent awaiting authorisation: it gets its id,
// times, revision and first history entry here.
func (s *Service) Create(ctx context.Context, c *Consent, who audit.Actor) error {
	now := s.now().UTC().Truncate(time.Second)
	c.ID, c.CreatedAt, c.Status, c.Revision = uuid.NewString(), now, "", 0
	c.transition(AwaitingAuthorisation, now, "tpp", who.ConsumerID, "", who.CorrelationID)
	return s.store.Update(ctx, func(tx engine.Tx) error {
		if err := kvjson.Put(tx, bucket, c.ID, c); err != nil {
			return err
		}
		if c.ExpiresAt != nil {
			if err := tx.Put(expiryBucket, expiryKey(c), []byte{}); err != nil {
				return err
			}
		}
		return s.audit.Append(tx, who, auditCreate, c.ID, c.BankID,
			map[string]any{"profile_id": c.ProfileID, "kind": c.Kind, "permissions": c.Permissions})
	})
}

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
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		expired = 0
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
				c.expire()
				if err := kvjson.Put(tx, bucket, id, c); err != nil {
					return err
				}
				if err := s.audit.Append(tx, audit.Actor{}, auditExpire, id, c.BankID, map[string]any{"expired_at": c.ExpiresAt}); err != nil {
					return err
				}
				expired++
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
		c.transition(Deleted, s.now().UTC().Truncate(time.Second), "tpp", who.ConsumerID, "deleted by the TPP", who.CorrelationID)
		if err := kvjson.Put(tx, bucket, id, c); err != nil {
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
	After                    string
	Limit                    int // at most this many; 0 or less: 100
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
		(f.UserID == "" || c.UserID == f.UserID) && (f.Kind == "" || c.Kind == f.Kind)
}

// Revoke revokes the consent with id on the bank's behalf, for reason: it
// can no longer be used, and its TPP sees it revoked (UK CANC with the
// reason). Only a consent awaiting authorisation or authorised can be
// revoked; any other is a 409 naming its status, an unknown one
// engine.ErrNotFound.
func (s *Service) Revoke(ctx context.Context, id, reason string, who audit.Actor) (*Consent, error) {
	var out *Consent
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		c, err := s.read(tx, id)
		if err != nil {
			return err
		}
		if c.Status != AwaitingAuthorisation && c.Status != Authorised {
			return engine.Errorf(http.StatusConflict, CodeConsentStatus, "consent %s is %s: only a consent awaiting authorisation or authorised can be revoked", id, c.Status)
		}
		if err := unindex(tx, c); err != nil {
			return err
		}
		c.transition(Revoked, s.now().UTC().Truncate(time.Second), "admin", who.UserID, reason, who.CorrelationID)
		c.Reasons = []Reason{{Code: "revoked_by_bank", Description: reason}}
		if err := kvjson.Put(tx, bucket, id, c); err != nil {
			return err
		}
		out = c
		return s.audit.Append(tx, who, auditRevoke, id, c.BankID, map[string]any{"reason": reason, "revision": c.Revision})
	})
	return out, err
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
