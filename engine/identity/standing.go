package identity

import (
	"context"
	"errors"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// standing is what every authenticator must know of a user on each
// request, kept in memory: a user with a standing is locked, deleted, or
// has had the tokens issued before Since revoked (by a lock, a password
// change or reset). A user without one may use every token it holds.
// Since never moves back, so unlocking a user does not revive the tokens
// the lock ended. Values are immutable once in the view.
type standing struct {
	Locked  bool      `json:"locked,omitempty"`
	Deleted bool      `json:"deleted,omitempty"`
	Since   time.Time `json:"tokens_valid_from"`
}

// SessionValid reports whether a token (a DirectLogin session, an access
// token, an external identity token) issued to userID at issuedAt may
// still be used: the user is neither locked nor deleted, and no lock,
// password change or reset came after issuedAt. It reads an in-memory view
// without locks and allocates nothing, for every authenticated request. A
// token whose issue time is known only to the second (a JWT's iat) is
// refused for the rest of the second of a revocation: safe, at worst a
// retry.
func (s *Service) SessionValid(userID string, issuedAt time.Time) bool {
	v, ok := s.standings.Load().Load(userID)
	if !ok {
		return true
	}
	st := v.(*standing)
	return !st.Locked && !st.Deleted && !issuedAt.Before(st.Since)
}

// standingTx reads a user's standing, nil when it has none.
func standingTx(tx engine.Tx, id string) (*standing, error) {
	st, err := kvjson.Get[standing](tx, bucketStanding, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	return st, err
}

// revokeTokensTx ends every token issued to user id until now, with mod
// applied to its standing (to lock, unlock or delete it).
func (s *Service) revokeTokensTx(tx *viewtx.Tx, id string, mod func(*standing)) error {
	old, err := standingTx(tx, id)
	if err != nil {
		return err
	}
	next := standing{}
	if old != nil {
		next = *old
	}
	next.Since = s.now().UTC()
	if mod != nil {
		mod(&next)
	}
	return s.putStandingTx(tx, id, &next)
}

// putStandingTx stores a standing, applied to the view on commit.
func (s *Service) putStandingTx(tx *viewtx.Tx, id string, st *standing) error {
	if err := kvjson.Put(tx, bucketStanding, id, st); err != nil {
		return err
	}
	s.changed(tx).standings[id] = st
	return nil
}

// standingMarker records in bucketMeta that the users locked before
// standings existed have one.
const standingMarker = "standing"

// markLockedUsers gives every locked user without a standing one, once
// per store: stores from before standings hold locked users whose tokens
// must stay refused.
func (s *Service) markLockedUsers(ctx context.Context) error {
	var done bool
	if err := s.w.View(ctx, func(tx engine.Tx) error {
		var err error
		done, err = kvjson.Exists(tx, bucketMeta, standingMarker)
		return err
	}); err != nil || done {
		return err
	}
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		var locked []string
		err := tx.Scan(bucketUsers, "", func(k string, v []byte) error {
			rec, err := kvjson.Decode[userRecord](v)
			if err == nil && rec.Locked {
				locked = append(locked, k)
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, id := range locked {
			if err := s.revokeTokensTx(tx, id, func(st *standing) { st.Locked = true }); err != nil {
				return err
			}
		}
		return tx.Put(bucketMeta, standingMarker, []byte(`{}`))
	})
}
