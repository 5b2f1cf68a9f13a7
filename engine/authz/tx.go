package authz

import (
	"context"
	"errors"
	"slices"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// The methods ending in Tx change authorisation data inside a caller's
// transaction, so that a use case's roles and grants commit together with
// its own writes and its audit entry; the in-memory views see them once
// the transaction has committed. The caller authorises the change.

// GrantRolesTx grants each of roles to userID at bankID ("" for system
// roles), leaving those the user holds already; each grant is audit-logged
// as "entitlement.grant" by a.
func (s *Service) GrantRolesTx(tx *viewtx.Tx, a audit.Actor, userID, bankID string, roles []string) (granted int, err error) {
	for _, r := range roles {
		held, err := holdsTx(tx, userID, bankID, r)
		if err != nil {
			return granted, err
		}
		if held {
			continue
		}
		if _, err := s.grantTx(tx, a, userID, bankID, r, "entitlement.grant", false); err != nil {
			return granted, err
		}
		granted++
	}
	return granted, nil
}

// DeleteUserGrantsTx deletes every entitlement of userID, audit-logged as
// "entitlement.delete" by a, and every entitlement request it made.
func (s *Service) DeleteUserGrantsTx(tx *viewtx.Tx, a audit.Actor, userID string) error {
	var ents []string
	err := tx.Scan(bucketEntsByUser, userID+sep, func(k string, _ []byte) error {
		ents = append(ents, k[len(userID)+1:])
		return nil
	})
	if err != nil {
		return err
	}
	for _, eid := range ents {
		e, err := kvjson.Get[Entitlement](tx, bucketEnts, eid)
		if errors.Is(err, engine.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.deleteEntitlementTx(tx, a, e, "entitlement.delete", "user deleted"); err != nil {
			return err
		}
	}
	return s.deleteRequestsTx(tx, func(r *EntitlementRequest) bool { return r.UserID == userID })
}

// SystemRoleNames returns the registered static system roles, sorted: the
// roles of the super admin.
func (s *Service) SystemRoleNames() []string {
	var out []string
	for n, r := range *s.static.Load() {
		if !r.RequiresBankID {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// GrantMissingSystemRoles grants userID, when it still exists, the static
// system roles registered since it was last granted them (the super admin
// after an upgrade), audit-logged by the system. It writes nothing when
// none is missing.
func (s *Service) GrantMissingSystemRoles(ctx context.Context, userID string) error {
	var missing []string
	for _, r := range s.SystemRoleNames() {
		if !s.Has(userID, "", r) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		if ok, err := identity.UserExists(tx, userID); err != nil || !ok {
			return err // the user was deleted: nothing to grant
		}
		_, err := s.GrantRolesTx(tx, audit.Actor{}, userID, "", missing)
		return err
	})
}
