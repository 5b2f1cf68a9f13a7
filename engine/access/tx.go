package access

import (
	"context"

	"github.com/dynapi/dynapi/engine"
)

// Tx is access control's part of a caller's read-write transaction: what
// is changed through it (dynamic roles, grants, audit entries) commits
// together with the caller's own writes to other buckets, made through the
// embedded engine.Tx, and the in-memory views see it once that
// transaction has committed. A Tx is valid only inside Service.Update's
// callback.
type Tx struct {
	engine.Tx
	s  *Service
	ch *change
}

// Update runs fn in one read-write transaction of the service's store and,
// once it commits, applies the access changes made through tx to the
// in-memory views, in commit order with the service's own changes. A use
// case that changes more than access data (a document with its roles, its
// creator's grants and its audit entry) runs all of it here, so it commits
// whole or not at all. fn must not call the service's other writing
// methods: they wait for this one.
func (s *Service) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return s.update(ctx, func(tx engine.Tx, ch *change) error {
		return fn(&Tx{Tx: tx, s: s, ch: ch})
	})
}

// OnCommit runs fn once the transaction has committed, after the
// in-memory views see the roles and entitlements it grants and before
// they lose those it takes away: a change swaps its snapshot there, so no
// request finds a route served whose roles are not granted yet, or are
// gone already.
func (t *Tx) OnCommit(fn func()) { t.ch.committed = append(t.ch.committed, fn) }

// AddDynamicRoles creates roles owned by owner (for example a dynamic
// endpoint's id), or adds owner to roles that exist already: a role shared
// by several owners stays until its last owner goes. A name that is a
// static role of the same kind is accepted and left alone (static roles
// never go); a name that exists with the other kind (bank vs system) is a
// 409 role_conflict. It is audit-logged as "role.add_dynamic" by a.
func (t *Tx) AddDynamicRoles(a Actor, owner string, roles []Role) error {
	return t.s.addDynamicRoles(t.Tx, t.ch, a, owner, roles)
}

// SetDynamicRoles makes roles exactly the roles owned by owner: it adds
// the new ones like AddDynamicRoles and drops the owner from the others,
// removing those no other owner holds like RemoveDynamicRoles. Roles kept
// across the change keep their entitlements (a replaced document's). It
// returns the roles removed, sorted.
func (t *Tx) SetDynamicRoles(a Actor, owner string, roles []Role) (removed []string, err error) {
	return t.s.setDynamicRoles(t.Tx, t.ch, a, owner, roles)
}

// RemoveDynamicRoles drops owner from every role it owns and removes the
// roles no other owner holds, with every entitlement to them and every
// entitlement request for them. It returns the removed role names, sorted.
// Each removed entitlement is audit-logged as "entitlement.delete" and the
// whole as "role.remove_dynamic", by a.
func (t *Tx) RemoveDynamicRoles(a Actor, owner string) (removed []string, err error) {
	return t.s.setDynamicRoles(t.Tx, t.ch, a, owner, nil)
}

// GrantRoles grants each of roles to userID at bankID ("" for system
// roles), leaving those the user holds already; each grant is audit-logged
// as "entitlement.grant" by a. The caller authorises the change.
func (t *Tx) GrantRoles(a Actor, userID, bankID string, roles []Role) error {
	for _, r := range roles {
		held, err := holdsTx(t.Tx, userID, bankID, r.Name)
		if err != nil {
			return err
		}
		if held {
			continue
		}
		if _, err := t.s.grantTx(t.Tx, t.ch, a, userID, bankID, r.Name, "entitlement.grant", false); err != nil {
			return err
		}
	}
	return nil
}

// Audit appends an entry to the audit log inside the transaction, so it
// commits with the change it records; see Service.AuditTx.
func (t *Tx) Audit(a Actor, action, target, bankID string, details map[string]any) error {
	return t.s.AuditTx(t.Tx, a, action, target, bankID, details)
}

// CreateBank creates bank b in the transaction, as Service.CreateBank does
// in one of its own: with its audit entry and its creator's grant.
func (t *Tx) CreateBank(a Actor, b Bank) (*Bank, error) {
	if err := validBank(b); err != nil {
		return nil, err
	}
	if err := t.s.createBankTx(t.Tx, t.ch, a, &b); err != nil {
		return nil, err
	}
	return &b, nil
}
