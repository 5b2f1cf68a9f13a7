package consent

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// grants keeps, in memory, each consent the check has used, compiled for
// it: the consent check runs on every call made under a consent and must
// not read the store each time. An entry is read from the store on first
// use and forgotten by every change the Service writes, before the
// changing call returns; a read racing a change never stores what it read
// over the change (see lookup). Expiry is not cached: the check compares
// the clock on each use.
type grants struct {
	m sync.Map // consent id -> *compiled
}

// compiled is one consent as the check reads it. One whose grant is nil
// is a marker: a read of the consent from the store is under way.
type compiled struct {
	kind, bankID       string
	consumerID, userID string
	status             Status
	expiresAt          time.Time // zero: never
	permissions        map[string]struct{}
	accounts           map[string]struct{}
	// access narrows permissions to some accounts (Consent.Access).
	access map[string]map[string]struct{}
	// recurring and perDay bound the calls made without the customer
	// (Consent.Recurring, FrequencyPerDay).
	recurring bool
	perDay    int
	// grant is what calls under the consent carry (engine.Call.Consent):
	// built once per revision, shared by every call.
	grant *engine.ConsentGrant
	// validFrom and delegation are an OBP consent's start and what it
	// delegates (engine.Principal.Delegation), shared by every call.
	validFrom  time.Time
	delegation *engine.Delegation
	jwtDigests [][sha256.Size]byte
}

// forget drops consent id's entry: it changed.
func (g *grants) forget(id string) { g.m.Delete(id) }

// lookup returns consent id as the check reads it, from memory or, on
// first use, from the store (engine.ErrNotFound when there is none);
// profiles name the standard each consent's profile belongs to. A reader
// leaves a marker before it reads the store and replaces that very marker
// with what it read; a change forgets the marker, so a read that began
// before the change cannot store its stale result.
func (s *Service) lookup(ctx context.Context, id string, profiles profileFinder) (*compiled, error) {
	v, ok := s.grants.m.Load(id)
	if ok && v.(*compiled).grant != nil {
		return v.(*compiled), nil
	}
	if !ok {
		v, _ = s.grants.m.LoadOrStore(id, &compiled{})
		if g := v.(*compiled); g.grant != nil {
			return g, nil
		}
	}
	var c *Consent
	err := s.store.View(ctx, func(tx engine.Tx) error {
		var err error
		c, err = kvjson.Get[Consent](tx, bucket, id)
		return err
	})
	if err != nil {
		s.grants.m.CompareAndDelete(id, v)
		return nil, err
	}
	g := compile(c, profiles)
	if _, blind := profiles.(noProfiles); blind && c.ProfileID != "" {
		// Read without profiles (for an OBP call) but rendered by one:
		// not kept, so that the check of its own kind compiles it with
		// its standard.
		s.grants.m.CompareAndDelete(id, v)
		return g, nil
	}
	s.grants.m.CompareAndSwap(id, v, g)
	return g, nil
}

// compile is c as the check reads it.
func compile(c *Consent, profiles profileFinder) *compiled {
	g := &compiled{kind: c.Kind, bankID: c.BankID, consumerID: c.ConsumerID, userID: c.UserID, status: c.Status,
		permissions: set(c.Permissions), accounts: set(c.Accounts), recurring: c.Recurring, perDay: c.FrequencyPerDay}
	if c.Access != nil {
		g.access = make(map[string]map[string]struct{}, len(c.Access))
		for perm, accounts := range c.Access {
			g.access[perm] = set(accounts)
		}
	}
	if c.ExpiresAt != nil {
		g.expiresAt = *c.ExpiresAt
	}
	g.grant = &engine.ConsentGrant{ID: c.ID, Kind: c.Kind, Status: string(c.Status), UserID: c.UserID,
		ConsumerID: c.ConsumerID, Permissions: slices.Clone(c.Permissions), Accounts: slices.Clone(c.Accounts),
		ExpiresAt: c.ExpiresAt, TransactionFrom: c.TransactionFrom, TransactionTo: c.TransactionTo}
	if p, ok := profiles.Get(c.ProfileID); ok {
		g.grant.Standard, g.grant.Version = p.Standard, p.Version
	}
	if c.Kind == KindOBP {
		compileOBP(c, g)
	}
	return g
}

func set(values []string) map[string]struct{} {
	m := make(map[string]struct{}, len(values))
	for _, v := range values {
		m[v] = struct{}{}
	}
	return m
}

// profileFinder finds a profile by id: the profiles of a Registry now, or
// a fixed set of them.
type profileFinder interface {
	Get(id string) (*Profile, bool)
}
