package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

// KindOBP is the kind of OBP consents: created by the customer for a
// consumer, accepted by a one-time code, used with a Consent-JWT on the
// banking core's routes. StandardOBP is their standard and ProfileOBP
// their profile: built-in routes, no document.
const (
	KindOBP     = "obp"
	StandardOBP = "obp"
	ProfileOBP  = "obp-consents"
)

// compileOBP adds what a call under OBP consent c reads to g.
func compileOBP(c *Consent, g *compiled) {
	g.grant.Standard = StandardOBP
	if c.ValidFrom != nil {
		g.validFrom = *c.ValidFrom
	}
	g.delegation = &engine.Delegation{Accounts: slices.Clone(c.Views), Roles: slices.Clone(c.Entitlements)}
	for _, d := range c.JWTDigests {
		var sum [sha256.Size]byte
		if b, err := hex.DecodeString(d); err == nil && len(b) == sha256.Size {
			copy(sum[:], b)
			g.jwtDigests = append(g.jwtDigests, sum)
		}
	}
}

// DelegatedUse is an OBP consent as a call under it reads it.
type DelegatedUse struct {
	ConsumerID, UserID string
	Status             Status
	// ValidFrom and ExpiresAt bound when it may be used (zero: unbounded).
	ValidFrom, ExpiresAt time.Time
	// Delegation is what it delegates, shared by every call.
	Delegation *engine.Delegation
	// JWTDigests are the SHA-256 of its Consent-JWTs (shared: never
	// change them).
	JWTDigests [][sha256.Size]byte
}

// noProfiles finds no profile: OBP consents have none to render.
type noProfiles struct{}

func (noProfiles) Get(string) (*Profile, bool) { return nil, false }

// DelegatedUse reads OBP consent id for a call made under it, from memory
// after its first use (engine.ErrNotFound when there is no such OBP
// consent, deleted ones included). Expiry is the caller's to compare.
func (s *Service) DelegatedUse(ctx context.Context, id string) (DelegatedUse, error) {
	g, err := s.lookup(ctx, id, noProfiles{})
	if err != nil {
		return DelegatedUse{}, err
	}
	if g.kind != KindOBP || g.status == Deleted {
		return DelegatedUse{}, engine.ErrNotFound
	}
	return DelegatedUse{ConsumerID: g.consumerID, UserID: g.userID, Status: g.status, ValidFrom: g.validFrom,
		ExpiresAt: g.expiresAt, Delegation: g.delegation, JWTDigests: g.jwtDigests}, nil
}

// Accept records that the customer who created OBP consent id, awaiting
// authorisation, answered its challenge: it is authorised (OBP ACCEPTED)
// from now on, and the Consent-JWT of SHA-256 jwtDigest (hex) is one of
// its own. with runs in the same transaction first (it consumes the
// challenge), so both happen or neither. Any other status is a 409 naming
// it; an unknown consent, or one of another kind, engine.ErrNotFound.
func (s *Service) Accept(ctx context.Context, id, jwtDigest string, who audit.Actor, with func(tx engine.Tx) error) (*Consent, error) {
	return s.update(ctx, id, who, auditAuthorise, func(tx engine.Tx, c *Consent, now time.Time) (map[string]any, error) {
		if c.Kind != KindOBP || !c.Visible() {
			return nil, engine.ErrNotFound
		}
		if c.Status != AwaitingAuthorisation {
			return nil, statusConflict(c, "accepted", AwaitingAuthorisation)
		}
		if err := with(tx); err != nil {
			return nil, err
		}
		c.JWTDigests = append(c.JWTDigests, jwtDigest)
		c.transition(Authorised, now, "psu", c.UserID, "challenge answered", who.CorrelationID)
		return map[string]any{"user_id": c.UserID}, nil
	})
}
