package authz

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Entitlement request statuses.
const (
	RequestPending  = "pending"
	RequestGranted  = "granted"
	RequestRejected = "rejected"
)

// grantKey is an entitlement's key in the unique index, and the key of a
// pending request for it.
func grantKey(userID, bankID, role string) string { return userID + sep + bankID + sep + role }

// holdsTx reports whether user holds role at bankID ("" system wide),
// from the store.
func holdsTx(tx engine.Tx, userID, bankID, role string) (bool, error) {
	return kvjson.Exists(tx, bucketEntsByKey, grantKey(userID, bankID, role))
}

// forbidden is the 403 naming the roles any one of which would do.
func forbidden(roles []string, bankID string) error {
	where := ""
	if bankID != "" {
		where = " at bank " + bankID
	}
	e := engine.NewError(http.StatusForbidden, engine.CodeForbidden,
		"missing role: one of "+strings.Join(roles, ", ")+where+" is needed")
	e.MissingRoles = roles
	e.BankID = bankID
	return e
}

// authorizeTx passes when a is the system or holds anyRole system wide or
// (for a bank) oneBankRole at bankID.
func authorizeTx(tx engine.Tx, a audit.Actor, bankID, anyRole, oneBankRole string) error {
	if a.UserID == "" {
		return nil
	}
	ok, err := holdsTx(tx, a.UserID, "", anyRole)
	if err != nil || ok {
		return err
	}
	if bankID == "" {
		return forbidden([]string{anyRole}, "")
	}
	ok, err = holdsTx(tx, a.UserID, bankID, oneBankRole)
	if err != nil || ok {
		return err
	}
	return forbidden([]string{anyRole, oneBankRole}, bankID)
}

// checkRoleTx resolves roleName and checks bankID against its kind.
func (s *Service) checkRoleTx(tx engine.Tx, bankID, roleName string) (Role, error) {
	role, ok, err := s.roleTx(tx, roleName)
	if err != nil {
		return Role{}, err
	}
	if !ok {
		return Role{}, engine.Errorf(http.StatusBadRequest, CodeUnknownRole, "role %q does not exist", roleName)
	}
	if role.RequiresBankID && bankID == "" {
		return Role{}, engine.Errorf(http.StatusBadRequest, CodeBankIDRequired, "role %s is a bank role: a bank_id is required", roleName)
	}
	if !role.RequiresBankID && bankID != "" {
		return Role{}, engine.Errorf(http.StatusBadRequest, CodeBankIDNotAllowed, "role %s is a system role: no bank_id is allowed", roleName)
	}
	return role, nil
}

// Grant gives userID the role roleName at bankID ("" for a system role).
// Errors, in the order checked: unknown role 400 unknown_role, bank role
// without bank 400 bank_id_required, system role with bank 400
// bank_id_not_allowed, actor not authorised 403 forbidden (naming the
// roles that would do: CanCreateEntitlementAtAnyBank, or for a bank role
// also CanCreateEntitlementAtOneBank at that bank; an actor without UserID
// is the system and always allowed), bank missing 404, user missing 404,
// already held 409 entitlement_exists. Audit-logged as
// "entitlement.grant".
func (s *Service) Grant(ctx context.Context, a audit.Actor, userID, bankID, roleName string) (*Entitlement, error) {
	var out *Entitlement
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		var err error
		out, err = s.grantTx(tx, a, userID, bankID, roleName, "entitlement.grant", true)
		return err
	})
	return out, err
}

// grantTx is Grant inside tx, authorising a when authorize is set.
func (s *Service) grantTx(tx *viewtx.Tx, a audit.Actor, userID, bankID, roleName, action string, authorize bool) (*Entitlement, error) {
	if _, err := s.checkRoleTx(tx, bankID, roleName); err != nil {
		return nil, err
	}
	if authorize {
		if err := authorizeTx(tx, a, bankID, RoleCanCreateEntitlementAtAnyBank, RoleCanCreateEntitlementAtOneBank); err != nil {
			return nil, err
		}
	}
	if bankID != "" {
		if err := banks.RequireTx(tx, bankID); err != nil {
			return nil, err
		}
	}
	if err := identity.RequireUser(tx, userID); err != nil {
		return nil, err
	}
	key := grantKey(userID, bankID, roleName)
	held, err := kvjson.Exists(tx, bucketEntsByKey, key)
	if err != nil {
		return nil, err
	}
	if held {
		where := "system wide"
		if bankID != "" {
			where = "at bank " + bankID
		}
		return nil, engine.Errorf(http.StatusConflict, CodeEntitlementExists, "the user holds %s %s already", roleName, where)
	}
	e := &Entitlement{ID: uuid.NewString(), UserID: userID, BankID: bankID, RoleName: roleName, CreatedAt: s.now().UTC()}
	if err := kvjson.Put(tx, bucketEnts, e.ID, e); err != nil {
		return nil, err
	}
	for _, idx := range [...][3]string{
		{bucketEntsByKey, key, e.ID},
		{bucketEntsByUser, userID + sep + e.ID, ""},
		{bucketEntsByRole, roleName + sep + e.ID, ""},
	} {
		if err := tx.Put(idx[0], idx[1], []byte(idx[2])); err != nil {
			return nil, err
		}
	}
	s.changed(tx).ents = append(s.changed(tx).ents, entOp{key: entKey{userID, bankID, roleName}, add: true})
	err = s.audit.Append(tx, a, action, e.ID, bankID, map[string]any{"user_id": userID, "role_name": roleName})
	return e, err
}

// deleteEntitlementTx removes e and its indexes, audit-logged as action.
func (s *Service) deleteEntitlementTx(tx *viewtx.Tx, a audit.Actor, e *Entitlement, action, reason string) error {
	for _, k := range [...][2]string{
		{bucketEnts, e.ID},
		{bucketEntsByKey, grantKey(e.UserID, e.BankID, e.RoleName)},
		{bucketEntsByUser, e.UserID + sep + e.ID},
		{bucketEntsByRole, e.RoleName + sep + e.ID},
	} {
		if err := tx.Delete(k[0], k[1]); err != nil {
			return err
		}
	}
	s.changed(tx).ents = append(s.changed(tx).ents, entOp{key: entKey{e.UserID, e.BankID, e.RoleName}})
	details := map[string]any{"user_id": e.UserID, "role_name": e.RoleName}
	if reason != "" {
		details["reason"] = reason
	}
	return s.audit.Append(tx, a, action, e.ID, e.BankID, details)
}

func entitlementNotFound(id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "entitlement %q not found", id)
}

// Revoke deletes an entitlement: a 404 when missing, a 403 unless the actor
// is the system or holds CanDeleteEntitlementAtAnyBank or, for a bank
// entitlement, CanDeleteEntitlementAtOneBank at its bank. Audit-logged as
// "entitlement.revoke".
func (s *Service) Revoke(ctx context.Context, a audit.Actor, entitlementID string) error {
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		e, err := kvjson.Get[Entitlement](tx, bucketEnts, entitlementID)
		if errors.Is(err, engine.ErrNotFound) {
			return entitlementNotFound(entitlementID)
		}
		if err != nil {
			return err
		}
		if err := authorizeTx(tx, a, e.BankID, RoleCanDeleteEntitlementAtAnyBank, RoleCanDeleteEntitlementAtOneBank); err != nil {
			return err
		}
		return s.deleteEntitlementTx(tx, a, e, "entitlement.revoke", "")
	})
}

// Entitlement returns the entitlement with id, or a 404.
func (s *Service) Entitlement(ctx context.Context, id string) (*Entitlement, error) {
	var out *Entitlement
	err := s.w.View(ctx, func(tx engine.Tx) error {
		e, err := kvjson.Get[Entitlement](tx, bucketEnts, id)
		if errors.Is(err, engine.ErrNotFound) {
			return entitlementNotFound(id)
		}
		out = e
		return err
	})
	return out, err
}

func sortEntitlements(list []*Entitlement) {
	slices.SortFunc(list, func(a, b *Entitlement) int {
		if c := strings.Compare(a.BankID, b.BankID); c != 0 {
			return c
		}
		if c := strings.Compare(a.RoleName, b.RoleName); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
}

// EntitlementsOf returns a user's entitlements, system ones first, then by
// bank and role; a 404 when the user does not exist.
func (s *Service) EntitlementsOf(ctx context.Context, userID string) ([]*Entitlement, error) {
	var out []*Entitlement
	err := s.w.View(ctx, func(tx engine.Tx) error {
		out = nil
		if err := identity.RequireUser(tx, userID); err != nil {
			return err
		}
		return tx.Scan(bucketEntsByUser, userID+sep, func(k string, _ []byte) error {
			e, err := kvjson.Get[Entitlement](tx, bucketEnts, k[len(userID)+1:])
			if errors.Is(err, engine.ErrNotFound) {
				return nil
			}
			if err == nil {
				out = append(out, e)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	sortEntitlements(out)
	return out, nil
}

// EntitlementsAtBank returns every entitlement at bankID ("" for the
// system-wide ones), by role and user.
func (s *Service) EntitlementsAtBank(ctx context.Context, bankID string) ([]*Entitlement, error) {
	var out []*Entitlement
	err := s.w.View(ctx, func(tx engine.Tx) error {
		out = nil
		return tx.Scan(bucketEnts, "", func(_ string, v []byte) error {
			e, err := kvjson.Decode[Entitlement](v)
			if err == nil && e.BankID == bankID {
				out = append(out, e)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	sortEntitlements(out)
	return out, nil
}

// Has reports whether userID holds roleName at bankID, from the in-memory
// view: without locks and without allocating. A system role counts at
// every bank (bankID is then ignored); a bank role never matches bankID "".
func (s *Service) Has(userID, bankID, roleName string) bool {
	m := *s.ents.Load()
	if _, ok := m[entKey{userID, bankID, roleName}]; ok {
		return true
	}
	if bankID == "" {
		return false
	}
	// System roles are only ever granted with bank "", bank roles never.
	_, ok := m[entKey{userID, "", roleName}]
	return ok
}

// HasAny reports whether userID holds any of roleNames: bank roles at
// bankID, system roles system wide (bankID ignored). Like Has it takes no
// lock and allocates nothing.
func (s *Service) HasAny(userID, bankID string, roleNames []string) bool {
	m := *s.ents.Load()
	for _, r := range roleNames {
		if _, ok := m[entKey{userID, bankID, r}]; ok {
			return true
		}
		if bankID != "" {
			if _, ok := m[entKey{userID, "", r}]; ok {
				return true
			}
		}
	}
	return false
}

// GrantJustInTime implements OBP's create_just_in_time_entitlements. The
// guard calls it when a user lacks every role a route needs, passing in
// roleNames those of the needed roles that the user's identity token
// claims (the caller intersects the two; this method trusts it). When
// Options.JustInTimeEntitlements is off it does nothing and returns false.
// Otherwise it returns true at once if the user holds one of roleNames
// already (bank roles at bankID, system roles system wide), and else grants
// the first of roleNames that exists and fits bankID - a bank role when
// bankID names an existing bank, or a system role, granted system wide -
// audit-logged by the system as "entitlement.grant_just_in_time". Only
// roles of Options.JustInTimeRoles are ever granted; the others in
// roleNames are ignored. false with a nil error means none fitted. An
// unknown user is a 404.
func (s *Service) GrantJustInTime(ctx context.Context, userID, bankID string, roleNames []string) (granted bool, err error) {
	roleNames = s.claimable(roleNames)
	if !s.jit || len(roleNames) == 0 {
		return false, nil
	}
	if s.HasAny(userID, bankID, roleNames) {
		return true, nil
	}
	err = s.w.Update(ctx, func(tx *viewtx.Tx) error {
		granted = false
		if err := identity.RequireUser(tx, userID); err != nil {
			return err
		}
		bankOK := false
		if bankID != "" {
			ok, err := banks.ExistsTx(tx, bankID)
			if err != nil {
				return err
			}
			bankOK = ok
		}
		for _, name := range roleNames {
			role, ok, err := s.roleTx(tx, name)
			if err != nil {
				return err
			}
			if !ok || role.RequiresBankID && !bankOK {
				continue
			}
			at := ""
			if role.RequiresBankID {
				at = bankID
			}
			held, err := holdsTx(tx, userID, at, name)
			if err != nil {
				return err
			}
			if !held {
				if _, err := s.grantTx(tx, audit.Actor{}, userID, at, name, "entitlement.grant_just_in_time", false); err != nil {
					return err
				}
			}
			granted = true
			return nil
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return granted, nil
}

// claimable returns those of roleNames that Options.JustInTimeRoles lists,
// by name or by a prefix ending in '*'.
func (s *Service) claimable(roleNames []string) []string {
	var out []string
	for _, name := range roleNames {
		for _, allowed := range s.jitRoles {
			prefix, wildcard := strings.CutSuffix(allowed, "*")
			if name == allowed || wildcard && strings.HasPrefix(name, prefix) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// RequestEntitlement records that a.UserID asks for roleName at bankID.
// The role and bank are checked like Grant's (400s, 404); a 409
// entitlement_exists when the user holds the role already, a 409
// entitlement_request_exists when a request for it is pending.
// Audit-logged as "entitlement_request.create".
func (s *Service) RequestEntitlement(ctx context.Context, a audit.Actor, bankID, roleName string) (*EntitlementRequest, error) {
	if a.UserID == "" {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, "an entitlement request is made by a user")
	}
	var out *EntitlementRequest
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		if _, err := s.checkRoleTx(tx, bankID, roleName); err != nil {
			return err
		}
		if bankID != "" {
			if err := banks.RequireTx(tx, bankID); err != nil {
				return err
			}
		}
		if err := identity.RequireUser(tx, a.UserID); err != nil {
			return err
		}
		key := grantKey(a.UserID, bankID, roleName)
		if held, err := kvjson.Exists(tx, bucketEntsByKey, key); err != nil || held {
			if held {
				err = engine.Errorf(http.StatusConflict, CodeEntitlementExists, "you hold %s already", roleName)
			}
			return err
		}
		if asked, err := kvjson.Exists(tx, bucketRequestsPending, key); err != nil || asked {
			if asked {
				err = engine.Errorf(http.StatusConflict, CodeEntitlementRequestExists, "you asked for %s already", roleName)
			}
			return err
		}
		r := &EntitlementRequest{ID: uuid.NewString(), UserID: a.UserID, BankID: bankID, RoleName: roleName,
			Status: RequestPending, CreatedAt: s.now().UTC()}
		if err := kvjson.Put(tx, bucketRequests, r.ID, r); err != nil {
			return err
		}
		if err := tx.Put(bucketRequestsPending, key, []byte(r.ID)); err != nil {
			return err
		}
		out = r
		return s.audit.Append(tx, a, "entitlement_request.create", r.ID, bankID, map[string]any{"role_name": roleName})
	})
	return out, err
}

// EntitlementRequests returns the requests with status ("" for all),
// oldest first; an unknown status is a 400.
func (s *Service) EntitlementRequests(ctx context.Context, status string) ([]*EntitlementRequest, error) {
	switch status {
	case "", RequestPending, RequestGranted, RequestRejected:
	default:
		return nil, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest,
			"status is one of %s, %s, %s", RequestPending, RequestGranted, RequestRejected)
	}
	return s.requests(ctx, func(r *EntitlementRequest) bool { return status == "" || r.Status == status })
}

// EntitlementRequestsOf returns a user's requests, oldest first.
func (s *Service) EntitlementRequestsOf(ctx context.Context, userID string) ([]*EntitlementRequest, error) {
	return s.requests(ctx, func(r *EntitlementRequest) bool { return r.UserID == userID })
}

func (s *Service) requests(ctx context.Context, keep func(*EntitlementRequest) bool) ([]*EntitlementRequest, error) {
	var out []*EntitlementRequest
	err := s.w.View(ctx, func(tx engine.Tx) error {
		out = nil
		return tx.Scan(bucketRequests, "", func(_ string, v []byte) error {
			r, err := kvjson.Decode[EntitlementRequest](v)
			if err == nil && keep(r) {
				out = append(out, r)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *EntitlementRequest) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func requestNotFound(id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "entitlement request %q not found", id)
}

// DecideEntitlementRequest grants or rejects a pending request: a 404 when
// missing, a 409 entitlement_request_decided when decided already.
// Granting goes through Grant's checks and authorisation (a role held
// meanwhile just closes the request); rejecting needs the same
// authorisation or CanDeleteEntitlementRequestsAtAnyBank. Audit-logged as
// "entitlement_request.grant" (with "entitlement.grant") or
// "entitlement_request.reject".
func (s *Service) DecideEntitlementRequest(ctx context.Context, a audit.Actor, id string, grant bool) (*EntitlementRequest, error) {
	var out *EntitlementRequest
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		r, err := kvjson.Get[EntitlementRequest](tx, bucketRequests, id)
		if errors.Is(err, engine.ErrNotFound) {
			return requestNotFound(id)
		}
		if err != nil {
			return err
		}
		if r.Status != RequestPending {
			return engine.Errorf(http.StatusConflict, CodeEntitlementRequestClosed, "the request is %s already", r.Status)
		}
		details := map[string]any{"user_id": r.UserID, "role_name": r.RoleName}
		action := "entitlement_request.reject"
		if grant {
			action = "entitlement_request.grant"
			_, err := s.grantTx(tx, a, r.UserID, r.BankID, r.RoleName, "entitlement.grant", true)
			var e *engine.Error
			if errors.As(err, &e) && e.Code == CodeEntitlementExists {
				err = nil
			}
			if err != nil {
				return err
			}
			r.Status = RequestGranted
		} else {
			err := authorizeTx(tx, a, r.BankID, RoleCanCreateEntitlementAtAnyBank, RoleCanCreateEntitlementAtOneBank)
			if err != nil {
				if ok, err2 := holdsTx(tx, a.UserID, "", RoleCanDeleteEntitlementRequestsAtAnyBank); err2 != nil || !ok {
					if err2 != nil {
						return err2
					}
					roles := []string{RoleCanDeleteEntitlementRequestsAtAnyBank, RoleCanCreateEntitlementAtAnyBank}
					if r.BankID != "" {
						roles = append(roles, RoleCanCreateEntitlementAtOneBank)
					}
					return forbidden(roles, r.BankID)
				}
			}
			r.Status = RequestRejected
		}
		if err := kvjson.Put(tx, bucketRequests, r.ID, r); err != nil {
			return err
		}
		if err := tx.Delete(bucketRequestsPending, grantKey(r.UserID, r.BankID, r.RoleName)); err != nil {
			return err
		}
		out = r
		return s.audit.Append(tx, a, action, r.ID, r.BankID, details)
	})
	return out, err
}

// DeleteEntitlementRequest deletes a request, whatever its status; a 404
// when missing. Authorisation (CanDeleteEntitlementRequestsAtAnyBank) is
// the caller's. Audit-logged as "entitlement_request.delete".
func (s *Service) DeleteEntitlementRequest(ctx context.Context, a audit.Actor, id string) error {
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		r, err := kvjson.Get[EntitlementRequest](tx, bucketRequests, id)
		if errors.Is(err, engine.ErrNotFound) {
			return requestNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := s.deleteRequestTx(tx, r); err != nil {
			return err
		}
		return s.audit.Append(tx, a, "entitlement_request.delete", r.ID, r.BankID,
			map[string]any{"user_id": r.UserID, "role_name": r.RoleName})
	})
}

func (s *Service) deleteRequestTx(tx engine.Tx, r *EntitlementRequest) error {
	if err := tx.Delete(bucketRequests, r.ID); err != nil {
		return err
	}
	if r.Status != RequestPending {
		return nil
	}
	return tx.Delete(bucketRequestsPending, grantKey(r.UserID, r.BankID, r.RoleName))
}

// deleteRequestsTx deletes every request matching match.
func (s *Service) deleteRequestsTx(tx engine.Tx, match func(*EntitlementRequest) bool) error {
	var drop []*EntitlementRequest
	err := tx.Scan(bucketRequests, "", func(_ string, v []byte) error {
		r, err := kvjson.Decode[EntitlementRequest](v)
		if err == nil && match(r) {
			drop = append(drop, r)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range drop {
		if err := s.deleteRequestTx(tx, r); err != nil {
			return err
		}
	}
	return nil
}
