package access

import (
	"context"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/viewtx"
)

// Tx is access control's part of a caller's read-write transaction: what
// is changed through it (dynamic roles, grants, audit entries) commits
// together with the caller's own writes to other buckets, made through the
// embedded engine.Tx, and the in-memory views see it once that
// transaction has committed. A Tx is valid only inside Service.Update's
// callback.
type Tx struct {
	engine.Tx
	vt *viewtx.Tx
	s  *Service
}

// Update runs fn in one read-write transaction of the service's store and,
// once it commits, applies the access changes made through tx to the
// in-memory views, in commit order with every other change of access
// control. A use case that changes more than access data (a document with
// its roles, its creator's grants and its audit entry) runs all of it
// here, so it commits whole or not at all. fn must not call the services'
// other writing methods: they wait for this one.
func (s *Service) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return s.w.Update(ctx, func(vt *viewtx.Tx) error {
		return fn(&Tx{Tx: vt, vt: vt, s: s})
	})
}

// OnCommit runs fn once the transaction has committed, after the
// in-memory views see the roles and entitlements it grants and before
// they lose those it takes away: a change swaps its snapshot there, so no
// request finds a route served whose roles are not granted yet, or are
// gone already.
func (t *Tx) OnCommit(fn func()) { t.vt.OnCommit(fn) }

// AddDynamicRoles creates roles owned by owner; see
// authz.Service.AddDynamicRolesTx.
func (t *Tx) AddDynamicRoles(a audit.Actor, owner string, roles []authz.Role) error {
	return t.s.Authz.AddDynamicRolesTx(t.vt, a, owner, roles)
}

// SetDynamicRoles makes roles exactly the roles owned by owner; see
// authz.Service.SetDynamicRolesTx. It returns the roles removed, sorted.
func (t *Tx) SetDynamicRoles(a audit.Actor, owner string, roles []authz.Role) (removed []string, err error) {
	return t.s.Authz.SetDynamicRolesTx(t.vt, a, owner, roles)
}

// RemoveDynamicRoles drops owner from every role it owns and removes the
// roles no other owner holds, with every entitlement to them and every
// entitlement request for them. It returns the removed role names, sorted.
// Each removed entitlement is audit-logged as "entitlement.delete" and the
// whole as "role.remove_dynamic", by a.
func (t *Tx) RemoveDynamicRoles(a audit.Actor, owner string) (removed []string, err error) {
	return t.s.Authz.SetDynamicRolesTx(t.vt, a, owner, nil)
}

// GrantRoles grants each of roles to userID at bankID ("" for system
// roles), leaving those the user holds already; each grant is audit-logged
// as "entitlement.grant" by a. The caller authorises the change.
func (t *Tx) GrantRoles(a audit.Actor, userID, bankID string, roles []authz.Role) error {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	_, err := t.s.Authz.GrantRolesTx(t.vt, a, userID, bankID, names)
	return err
}

// Audit appends an entry to the audit log inside the transaction, so it
// commits with the change it records; see audit.Log.Append.
func (t *Tx) Audit(a audit.Actor, action, target, bankID string, details map[string]any) error {
	return t.s.Audit.Append(t.vt, a, action, target, bankID, details)
}

// CreateBank creates bank b in the transaction, as Service.CreateBank does
// in one of its own: with its audit entry and its creator's grant.
func (t *Tx) CreateBank(a audit.Actor, b banks.Bank) (*banks.Bank, error) {
	return t.s.createBankTx(t.vt, a, b)
}
