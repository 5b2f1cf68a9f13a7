package authz

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
	"github.com/dynapi/dynapi/internal/rolename"
)

// Names of the static roles. Handlers name these in their rules.
const (
	// System roles on system-level dynamic endpoints.
	RoleCanCreateDynamicEndpoint = "CanCreateDynamicEndpoint"
	RoleCanGetDynamicEndpoints   = "CanGetDynamicEndpoints"
	RoleCanUpdateDynamicEndpoint = "CanUpdateDynamicEndpoint"
	RoleCanDeleteDynamicEndpoint = "CanDeleteDynamicEndpoint"

	// Bank roles on bank-level dynamic endpoints.
	RoleCanCreateBankLevelDynamicEndpoint = "CanCreateBankLevelDynamicEndpoint"
	RoleCanGetBankLevelDynamicEndpoints   = "CanGetBankLevelDynamicEndpoints"
	RoleCanUpdateBankLevelDynamicEndpoint = "CanUpdateBankLevelDynamicEndpoint"
	RoleCanDeleteBankLevelDynamicEndpoint = "CanDeleteBankLevelDynamicEndpoint"

	// System roles on system-level dynamic entities.
	RoleCanCreateSystemLevelDynamicEntity     = "CanCreateSystemLevelDynamicEntity"
	RoleCanGetSystemLevelDynamicEntities      = "CanGetSystemLevelDynamicEntities"
	RoleCanUpdateSystemLevelDynamicEntity     = "CanUpdateSystemLevelDynamicEntity"
	RoleCanDeleteSystemLevelDynamicEntity     = "CanDeleteSystemLevelDynamicEntity"
	RoleCanCreateBankLevelDynamicEntity       = "CanCreateBankLevelDynamicEntity"
	RoleCanGetBankLevelDynamicEntities        = "CanGetBankLevelDynamicEntities"
	RoleCanUpdateBankLevelDynamicEntity       = "CanUpdateBankLevelDynamicEntity"
	RoleCanDeleteBankLevelDynamicEntity       = "CanDeleteBankLevelDynamicEntity"
	RoleCanCreateConnectorMethod              = "CanCreateConnectorMethod"
	RoleCanGetConnectorMethods                = "CanGetConnectorMethods"
	RoleCanUpdateConnectorMethod              = "CanUpdateConnectorMethod"
	RoleCanDeleteConnectorMethod              = "CanDeleteConnectorMethod"
	RoleCanCreateMethodRouting                = "CanCreateMethodRouting"
	RoleCanGetMethodRoutings                  = "CanGetMethodRoutings"
	RoleCanUpdateMethodRouting                = "CanUpdateMethodRouting"
	RoleCanDeleteMethodRouting                = "CanDeleteMethodRouting"
	RoleCanCreateEndpointMapping              = "CanCreateEndpointMapping"
	RoleCanGetEndpointMappings                = "CanGetEndpointMappings"
	RoleCanUpdateEndpointMapping              = "CanUpdateEndpointMapping"
	RoleCanDeleteEndpointMapping              = "CanDeleteEndpointMapping"
	RoleCanCreateJsonSchemaValidation         = "CanCreateJsonSchemaValidation"
	RoleCanGetJsonSchemaValidations           = "CanGetJsonSchemaValidations"
	RoleCanUpdateJsonSchemaValidation         = "CanUpdateJsonSchemaValidation"
	RoleCanDeleteJsonSchemaValidation         = "CanDeleteJsonSchemaValidation"
	RoleCanCreateEntitlementAtAnyBank         = "CanCreateEntitlementAtAnyBank"
	RoleCanDeleteEntitlementAtAnyBank         = "CanDeleteEntitlementAtAnyBank"
	RoleCanGetEntitlementsForAnyUserAtAnyBank = "CanGetEntitlementsForAnyUserAtAnyBank"
	RoleCanCreateUser                         = "CanCreateUser"
	RoleCanGetAnyUser                         = "CanGetAnyUser"
	RoleCanLockUser                           = "CanLockUser"
	RoleCanDeleteUser                         = "CanDeleteUser"
	RoleCanCreateConsumer                     = "CanCreateConsumer"
	RoleCanGetConsumers                       = "CanGetConsumers"
	RoleCanEnableConsumers                    = "CanEnableConsumers"
	RoleCanDisableConsumers                   = "CanDisableConsumers"
	RoleCanCreateBank                         = "CanCreateBank"
	RoleCanReadAuditLog                       = "CanReadAuditLog"
	RoleCanGetConsentsAtAnyBank               = "CanGetConsentsAtAnyBank"
	RoleCanRevokeConsentAtAnyBank             = "CanRevokeConsentAtAnyBank"
	RoleCanGetConsentProfiles                 = "CanGetConsentProfiles"
	RoleCanCreateConsentProfile               = "CanCreateConsentProfile"
	RoleCanDeleteConsentProfile               = "CanDeleteConsentProfile"
	RoleCanGetEntitlementRequestsAtAnyBank    = "CanGetEntitlementRequestsAtAnyBank"
	RoleCanDeleteEntitlementRequestsAtAnyBank = "CanDeleteEntitlementRequestsAtAnyBank"

	// Bank roles on entitlements at one bank.
	RoleCanCreateEntitlementAtOneBank = "CanCreateEntitlementAtOneBank"
	RoleCanDeleteEntitlementAtOneBank = "CanDeleteEntitlementAtOneBank"
	RoleCanGetEntitlementsForOneBank  = "CanGetEntitlementsForOneBank"

	// Bank roles on the consents created at one bank.
	RoleCanGetConsentsAtOneBank   = "CanGetConsentsAtOneBank"
	RoleCanRevokeConsentAtOneBank = "CanRevokeConsentAtOneBank"

	// RoleCanResetUserPassword lets an administrator set another user's
	// password (PUT /admin/v1/users/{id}/password).
	RoleCanResetUserPassword = "CanResetUserPassword"

	// System roles on events: the bank's own webhooks, and the deliveries
	// of every subscriber (read, and replay of the dead ones).
	RoleCanManageWebhooks        = "CanManageWebhooks"
	RoleCanGetEventDeliveries    = "CanGetEventDeliveries"
	RoleCanReplayEventDeliveries = "CanReplayEventDeliveries"

	// RoleCanGetMetrics lets a caller scrape the Prometheus metrics (GET
	// /metrics) on the main listener.
	RoleCanGetMetrics = "CanGetMetrics"
	// System roles on the call limits of consumers and users (OBP's
	// names): set (and remove) them, read them.
	RoleCanSetCallLimits  = "CanSetCallLimits"
	RoleCanReadCallLimits = "CanReadCallLimits"
)

var staticSystemRoles = []string{
	RoleCanCreateDynamicEndpoint, RoleCanGetDynamicEndpoints, RoleCanUpdateDynamicEndpoint, RoleCanDeleteDynamicEndpoint,
	RoleCanCreateSystemLevelDynamicEntity, RoleCanGetSystemLevelDynamicEntities, RoleCanUpdateSystemLevelDynamicEntity, RoleCanDeleteSystemLevelDynamicEntity,
	RoleCanCreateConnectorMethod, RoleCanGetConnectorMethods, RoleCanUpdateConnectorMethod, RoleCanDeleteConnectorMethod,
	RoleCanCreateMethodRouting, RoleCanGetMethodRoutings, RoleCanUpdateMethodRouting, RoleCanDeleteMethodRouting,
	RoleCanCreateEndpointMapping, RoleCanGetEndpointMappings, RoleCanUpdateEndpointMapping, RoleCanDeleteEndpointMapping,
	RoleCanCreateJsonSchemaValidation, RoleCanGetJsonSchemaValidations, RoleCanUpdateJsonSchemaValidation, RoleCanDeleteJsonSchemaValidation,
	RoleCanCreateEntitlementAtAnyBank, RoleCanDeleteEntitlementAtAnyBank, RoleCanGetEntitlementsForAnyUserAtAnyBank,
	RoleCanCreateUser, RoleCanGetAnyUser, RoleCanLockUser, RoleCanDeleteUser,
	RoleCanCreateConsumer, RoleCanGetConsumers, RoleCanEnableConsumers, RoleCanDisableConsumers,
	RoleCanCreateBank, RoleCanReadAuditLog,
	RoleCanGetConsentsAtAnyBank, RoleCanRevokeConsentAtAnyBank,
	RoleCanGetConsentProfiles, RoleCanCreateConsentProfile, RoleCanDeleteConsentProfile,
	RoleCanGetEntitlementRequestsAtAnyBank, RoleCanDeleteEntitlementRequestsAtAnyBank,
	RoleCanManageWebhooks, RoleCanGetEventDeliveries, RoleCanReplayEventDeliveries,
	RoleCanGetMetrics, RoleCanSetCallLimits, RoleCanReadCallLimits,
}

var staticBankRoles = []string{
	RoleCanCreateBankLevelDynamicEndpoint, RoleCanGetBankLevelDynamicEndpoints, RoleCanUpdateBankLevelDynamicEndpoint, RoleCanDeleteBankLevelDynamicEndpoint,
	RoleCanCreateBankLevelDynamicEntity, RoleCanGetBankLevelDynamicEntities, RoleCanUpdateBankLevelDynamicEntity, RoleCanDeleteBankLevelDynamicEntity,
	RoleCanCreateEntitlementAtOneBank, RoleCanDeleteEntitlementAtOneBank, RoleCanGetEntitlementsForOneBank,
	RoleCanGetConsentsAtOneBank, RoleCanRevokeConsentAtOneBank,
}

// StaticRoles returns the roles the engine itself defines, sorted by name.
// New registers them; RegisterRoles adds more.
func StaticRoles() []Role {
	out := make([]Role, 0, len(staticSystemRoles)+len(staticBankRoles))
	for _, n := range staticSystemRoles {
		out = append(out, Role{Name: n})
	}
	for _, n := range staticBankRoles {
		out = append(out, Role{Name: n, RequiresBankID: true})
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Error codes of this package, in Error.Code next to the engine's own.
const (
	CodeUnknownRole              = "unknown_role"
	CodeBankIDRequired           = "bank_id_required"
	CodeBankIDNotAllowed         = "bank_id_not_allowed"
	CodeEntitlementExists        = "entitlement_exists"
	CodeEntitlementRequestExists = "entitlement_request_exists"
	CodeEntitlementRequestClosed = "entitlement_request_decided"
	CodeRoleConflict             = "role_conflict"
)

// RegisterRoles adds static roles. Call it at start-up, before the service
// serves requests and before access.Service.Bootstrap, which grants the
// super admin every static system role. Registering a role again with the
// same kind is a no-op. It panics on an invalid name or on a name
// registered with the other kind (bank vs system): both are programming
// errors.
func (s *Service) RegisterRoles(roles ...Role) {
	s.w.Apply(func() { s.registerRoles(roles) })
}

// registerRoles is RegisterRoles, in order with the views' changes.
func (s *Service) registerRoles(roles []Role) {
	cur := s.static.Load()
	next := make(map[string]Role, len(*cur)+len(roles))
	for k, v := range *cur {
		next[k] = v
	}
	for _, r := range roles {
		if !rolename.Valid(r.Name) {
			panic("authz: invalid role name " + r.Name)
		}
		if old, ok := next[r.Name]; ok && old.RequiresBankID != r.RequiresBankID {
			panic("authz: role " + r.Name + " registered both as a bank and as a system role")
		}
		next[r.Name] = Role{Name: r.Name, RequiresBankID: r.RequiresBankID}
	}
	s.static.Store(&next)
	s.rebuildRoles(*s.dynamic.Load())
}

// rebuildRoles swaps the combined role view, in order with the views'
// changes.
func (s *Service) rebuildRoles(dynamic map[string]Role) {
	static := *s.static.Load()
	v := &roleView{byName: make(map[string]Role, len(static)+len(dynamic))}
	for n, r := range dynamic {
		v.byName[n] = r
	}
	for n, r := range static { // a static role wins over a dynamic namesake
		v.byName[n] = r
	}
	v.sorted = make([]Role, 0, len(v.byName))
	for _, r := range v.byName {
		v.sorted = append(v.sorted, r)
	}
	slices.SortFunc(v.sorted, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	s.roles.Store(v)
}

// Roles returns every role, static and dynamic, sorted by name.
func (s *Service) Roles() []Role { return slices.Clone(s.roles.Load().sorted) }

// Role returns the role called name.
func (s *Service) Role(name string) (Role, bool) {
	r, ok := s.roles.Load().byName[name]
	return r, ok
}

// roleRecord is a dynamic role as stored, with the owners keeping it.
type roleRecord struct {
	Name           string   `json:"role_name"`
	RequiresBankID bool     `json:"requires_bank_id"`
	Owners         []string `json:"owners"`
}

// roleTx resolves a role inside a transaction: static roles from memory
// (fixed before serving), dynamic ones from the store, so a role removed
// by a committed transaction is never granted even before views refresh.
func (s *Service) roleTx(tx engine.Tx, name string) (Role, bool, error) {
	if r, ok := (*s.static.Load())[name]; ok {
		return r, true, nil
	}
	rec, err := kvjson.Get[roleRecord](tx, bucketRoles, name)
	if errors.Is(err, engine.ErrNotFound) {
		return Role{}, false, nil
	}
	if err != nil {
		return Role{}, false, err
	}
	return Role{Name: rec.Name, RequiresBankID: rec.RequiresBankID, Dynamic: true}, true, nil
}

func validOwner(owner string) error {
	if owner == "" || len(owner) > 512 || strings.ContainsRune(owner, 0) {
		return engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, "a dynamic role owner must be 1 to 512 characters without NUL")
	}
	return nil
}

// normaliseRoles validates roles and removes duplicates.
func normaliseRoles(roles []Role) ([]Role, error) {
	seen := make(map[string]Role, len(roles))
	out := make([]Role, 0, len(roles))
	var faults []engine.Violation
	for i, r := range roles {
		ptr := "/" + strconv.Itoa(i) + "/role_name"
		if !rolename.Valid(r.Name) {
			faults = append(faults, engine.Violation{Location: "body", Pointer: ptr, Code: "pattern",
				Message: rolename.Rule})
			continue
		}
		if old, ok := seen[r.Name]; ok {
			if old.RequiresBankID != r.RequiresBankID {
				faults = append(faults, engine.Violation{Location: "body", Pointer: ptr, Code: "conflict",
					Message: "role " + r.Name + " is listed both as a bank and as a system role"})
			}
			continue
		}
		r = Role{Name: r.Name, RequiresBankID: r.RequiresBankID, Dynamic: true}
		seen[r.Name] = r
		out = append(out, r)
	}
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "invalid dynamic roles", faults...)
	}
	return out, nil
}

// AddDynamicRolesTx creates roles owned by owner (for example a dynamic
// endpoint's id), or adds owner to roles that exist already: a role shared
// by several owners stays until its last owner goes. A name that is a
// static role of the same kind is accepted and left alone (static roles
// never go); a name that exists with the other kind (bank vs system) is a
// 409 role_conflict. It is audit-logged as "role.add_dynamic" by a.
func (s *Service) AddDynamicRolesTx(tx *viewtx.Tx, a audit.Actor, owner string, roles []Role) error {
	if err := validOwner(owner); err != nil {
		return err
	}
	roles, err := normaliseRoles(roles)
	if err != nil {
		return err
	}
	static := *s.static.Load()
	var added []string
	for _, r := range roles {
		if st, ok := static[r.Name]; ok {
			if st.RequiresBankID != r.RequiresBankID {
				return roleConflict(r.Name, st.RequiresBankID)
			}
			continue
		}
		rec, err := kvjson.Get[roleRecord](tx, bucketRoles, r.Name)
		switch {
		case errors.Is(err, engine.ErrNotFound):
			rec = &roleRecord{Name: r.Name, RequiresBankID: r.RequiresBankID}
			s.changed(tx).rolesAdd = append(s.changed(tx).rolesAdd, r)
		case err != nil:
			return err
		case rec.RequiresBankID != r.RequiresBankID:
			return roleConflict(r.Name, rec.RequiresBankID)
		}
		i, found := slices.BinarySearch(rec.Owners, owner)
		if found {
			continue
		}
		rec.Owners = slices.Insert(rec.Owners, i, owner)
		added = append(added, r.Name)
		if err := kvjson.Put(tx, bucketRoles, r.Name, rec); err != nil {
			return err
		}
		if err := tx.Put(bucketRolesByOwner, owner+sep+r.Name, nil); err != nil {
			return err
		}
	}
	if len(added) == 0 {
		return nil
	}
	return s.audit.Append(tx, a, "role.add_dynamic", owner, "", map[string]any{"roles": added})
}

func roleConflict(name string, bank bool) error {
	kind := "a system role"
	if bank {
		kind = "a bank role"
	}
	return engine.Errorf(http.StatusConflict, CodeRoleConflict, "role %s exists already as %s", name, kind)
}

// SetDynamicRolesTx makes roles exactly the roles owned by owner: it adds
// the new ones like AddDynamicRolesTx and drops the owner from the others,
// removing those no other owner holds, with every entitlement to them and
// every entitlement request for them. Roles kept across the change keep
// their entitlements (a replaced document's). nil roles removes all the
// owner's. It returns the roles removed, sorted. Each removed entitlement
// is audit-logged as "entitlement.delete" and the removal as
// "role.remove_dynamic", by a.
func (s *Service) SetDynamicRolesTx(tx *viewtx.Tx, a audit.Actor, owner string, roles []Role) ([]string, error) {
	if err := validOwner(owner); err != nil {
		return nil, err
	}
	roles, err := normaliseRoles(roles)
	if err != nil {
		return nil, err
	}
	keep := make(map[string]bool, len(roles))
	for _, r := range roles {
		keep[r.Name] = true
	}
	var drop []string
	err = tx.Scan(bucketRolesByOwner, owner+sep, func(k string, _ []byte) error {
		if name := k[len(owner)+1:]; !keep[name] {
			drop = append(drop, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var removed []string
	var entsRemoved int
	for _, name := range drop {
		if err := tx.Delete(bucketRolesByOwner, owner+sep+name); err != nil {
			return nil, err
		}
		rec, err := kvjson.Get[roleRecord](tx, bucketRoles, name)
		if errors.Is(err, engine.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if i, found := slices.BinarySearch(rec.Owners, owner); found {
			rec.Owners = slices.Delete(rec.Owners, i, i+1)
		}
		if len(rec.Owners) > 0 {
			if err := kvjson.Put(tx, bucketRoles, name, rec); err != nil {
				return nil, err
			}
			continue
		}
		if err := tx.Delete(bucketRoles, name); err != nil {
			return nil, err
		}
		s.changed(tx).rolesDel = append(s.changed(tx).rolesDel, name)
		if _, isStatic := (*s.static.Load())[name]; isStatic {
			// Registered as static since: the role stays, and so do
			// its entitlements.
			continue
		}
		n, err := s.deleteRoleEntitlements(tx, a, name)
		if err != nil {
			return nil, err
		}
		entsRemoved += n
		removed = append(removed, name)
	}
	slices.Sort(removed)
	if len(roles) > 0 {
		if err := s.AddDynamicRolesTx(tx, a, owner, roles); err != nil {
			return nil, err
		}
	}
	if len(drop) > 0 {
		err := s.audit.Append(tx, a, "role.remove_dynamic", owner, "", map[string]any{
			"roles_released": drop, "roles_removed": removed, "entitlements_removed": entsRemoved})
		if err != nil {
			return nil, err
		}
	}
	return removed, nil
}

// deleteRoleEntitlements removes every entitlement to and every
// entitlement request for role.
func (s *Service) deleteRoleEntitlements(tx *viewtx.Tx, a audit.Actor, role string) (int, error) {
	var ids []string
	err := tx.Scan(bucketEntsByRole, role+sep, func(k string, _ []byte) error {
		ids = append(ids, k[len(role)+1:])
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		e, err := kvjson.Get[Entitlement](tx, bucketEnts, id)
		if errors.Is(err, engine.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if err := s.deleteEntitlementTx(tx, a, e, "entitlement.delete", "role removed"); err != nil {
			return 0, err
		}
	}
	err = s.deleteRequestsTx(tx, func(r *EntitlementRequest) bool { return r.RoleName == role })
	return len(ids), err
}

// decodeRoleRecord decodes a stored dynamic role, for load.
func decodeRoleRecord(v []byte) (Role, error) {
	var rec roleRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return Role{}, err
	}
	return Role{Name: rec.Name, RequiresBankID: rec.RequiresBankID, Dynamic: true}, nil
}
