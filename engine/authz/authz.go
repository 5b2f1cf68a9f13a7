// Package authz holds what a user may do: the registry of role names
// (static roles the engine defines, dynamic ones created with a document
// or an entity), entitlements granting a role to a user system wide or at
// one bank, entitlement requests, just-in-time grants, and the checks the
// guard asks (Has, HasAny). All of it is persisted in an engine.Store and
// every change is audited in its own transaction.
//
// The request path never reads the store: Service keeps an immutable
// in-memory view of entitlements and roles, swapped atomically after
// every change, so a guard check is a map lookup without locks.
package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
)

// Buckets. Values are JSON; index keys join parts with sep (NUL), which no
// id, bank id or role name may contain. Their names predate this package
// and are kept so existing stores read on.
const (
	bucketEnts            = "access_entitlements"                 // entitlement id -> Entitlement
	bucketEntsByKey       = "access_entitlements_by_key"          // user sep bank sep role -> entitlement id
	bucketEntsByUser      = "access_entitlements_by_user"         // user sep entitlement id -> ""
	bucketEntsByRole      = "access_entitlements_by_role"         // role sep entitlement id -> ""
	bucketRequests        = "access_entitlement_requests"         // request id -> EntitlementRequest
	bucketRequestsPending = "access_entitlement_requests_pending" // user sep bank sep role -> request id
	bucketRoles           = "access_roles_dynamic"                // role name -> roleRecord
	bucketRolesByOwner    = "access_roles_by_owner"               // owner sep role name -> ""
	sep                   = "\x00"
)

// Role is a name plus whether it is granted at one bank or system wide.
type Role struct {
	Name           string `json:"role_name"`
	RequiresBankID bool   `json:"requires_bank_id"`
	// Dynamic roles are created with a dynamic endpoint or entity and go
	// when it goes.
	Dynamic bool `json:"dynamic"`
}

// Entitlement grants a role to a user, at a bank or (BankID "") system
// wide.
type Entitlement struct {
	ID        string    `json:"entitlement_id"`
	UserID    string    `json:"user_id"`
	BankID    string    `json:"bank_id"`
	RoleName  string    `json:"role_name"`
	CreatedAt time.Time `json:"created_at"`
}

// EntitlementRequest is a user asking for a role.
type EntitlementRequest struct {
	ID        string    `json:"entitlement_request_id"`
	UserID    string    `json:"user_id"`
	BankID    string    `json:"bank_id"`
	RoleName  string    `json:"role_name"`
	Status    string    `json:"status"` // pending, granted, rejected
	CreatedAt time.Time `json:"created_at"`
}

// Options configures New.
type Options struct {
	// Writer runs the transactions, on the store that keeps everything;
	// required.
	Writer *viewtx.Writer
	// Audit is the log every change is recorded in; required.
	Audit *audit.Log
	// Now is the clock, time.Now by default; tests move time.
	Now func() time.Time
	// JustInTimeEntitlements enables GrantJustInTime.
	JustInTimeEntitlements bool
	// JustInTimeRoles are the roles GrantJustInTime may grant: names, or
	// prefixes ending in '*'. None by default, so no role is claimable
	// until an operator lists it.
	JustInTimeRoles []string
}

// Service is the authorisation domain. It is safe for concurrent use.
// Reads on the request path (Has, HasAny, Role) use immutable in-memory
// views behind atomic pointers; every other method reads or writes the
// store.
//
// Grant, Revoke and DecideEntitlementRequest check the actor's
// entitlements themselves, because the rule depends on the bank. Every
// other change is authorised by the caller (the route's guard).
type Service struct {
	w        *viewtx.Writer
	audit    *audit.Log
	now      func() time.Time
	jit      bool
	jitRoles []string

	ents    atomic.Pointer[map[entKey]struct{}]
	static  atomic.Pointer[map[string]Role]
	dynamic atomic.Pointer[map[string]Role]
	roles   atomic.Pointer[roleView]
}

// entKey is an entitlement in the in-memory view: bank "" for system roles.
type entKey struct{ user, bank, role string }

// roleView is every role, by name and sorted.
type roleView struct {
	byName map[string]Role
	sorted []Role
}

// New returns a service on opts.Writer with the static roles registered,
// loading the in-memory views from the store.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Writer == nil || opts.Audit == nil {
		return nil, errors.New("authz: Options.Writer and Options.Audit are required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{w: opts.Writer, audit: opts.Audit, now: now, jit: opts.JustInTimeEntitlements,
		jitRoles: slices.Clone(opts.JustInTimeRoles)}
	empty := map[string]Role{}
	s.static.Store(&empty)
	emptyDyn := map[string]Role{}
	s.dynamic.Store(&emptyDyn)
	s.RegisterRoles(StaticRoles()...)
	s.RegisterRoles(Role{Name: RoleCanResetUserPassword})
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// load builds the in-memory views from the store, at start; the service's
// own methods keep them current.
func (s *Service) load(ctx context.Context) error {
	ents := map[entKey]struct{}{}
	dynamic := map[string]Role{}
	err := s.w.View(ctx, func(tx engine.Tx) error {
		err := tx.Scan(bucketEntsByKey, "", func(k string, _ []byte) error {
			parts := strings.SplitN(k, sep, 3)
			if len(parts) != 3 {
				return fmt.Errorf("authz: malformed entitlement key %q", k)
			}
			ents[entKey{parts[0], parts[1], parts[2]}] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan(bucketRoles, "", func(k string, v []byte) error {
			r, err := decodeRoleRecord(v)
			if err != nil {
				return err
			}
			dynamic[k] = r
			return nil
		})
	})
	if err != nil {
		return engine.Internal(fmt.Errorf("authz: load views: %w", err))
	}
	s.w.Apply(func() {
		s.ents.Store(&ents)
		s.dynamic.Store(&dynamic)
		s.rebuildRoles(dynamic)
	})
	return nil
}

// entOp adds or removes one entitlement from the view.
type entOp struct {
	key entKey
	add bool
}

// change collects what a transaction did to the viewed data, applied to
// the views once it commits.
type change struct {
	ents     []entOp // in commit order
	rolesAdd []Role
	rolesDel []string
	final    map[entKey]bool // ents folded, once committed: key -> added
}

// changed returns tx's change to this service's views. What it grants
// (entitlements, roles) is seen before tx's commit hooks run, what it
// takes away after: a document swapped in by a hook finds its new roles
// granted, and one swapped out by a hook no longer answers when its roles
// go. The views end as if the change's operations applied in order.
func (s *Service) changed(tx *viewtx.Tx) *change {
	return viewtx.Local(tx, s, func() *change {
		ch := &change{}
		tx.Reveal(func() { s.reveal(ch) })
		tx.Retract(func() { s.retract(ch) })
		return ch
	})
}

// reveal applies what ch grants.
func (s *Service) reveal(ch *change) {
	ch.final = make(map[entKey]bool, len(ch.ents))
	for _, op := range ch.ents {
		ch.final[op.key] = op.add
	}
	s.applyEnts(ch.final, true)
	s.applyRoles(ch.rolesAdd, nil)
}

// retract applies what ch takes away.
func (s *Service) retract(ch *change) {
	s.applyEnts(ch.final, false)
	added := make(map[string]bool, len(ch.rolesAdd))
	for _, r := range ch.rolesAdd {
		added[r.Name] = true
	}
	s.applyRoles(nil, slices.DeleteFunc(slices.Clone(ch.rolesDel), func(n string) bool { return added[n] }))
}

// applyEnts swaps in the entitlement view with the keys final adds (add)
// or removes (!add). Each view is copied, never modified, since readers
// hold the old one without locks.
func (s *Service) applyEnts(final map[entKey]bool, add bool) {
	var keys []entKey
	for k, a := range final {
		if a == add {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	old := *s.ents.Load()
	next := make(map[entKey]struct{}, len(old)+len(keys))
	for k := range old {
		next[k] = struct{}{}
	}
	for _, k := range keys {
		if add {
			next[k] = struct{}{}
		} else {
			delete(next, k)
		}
	}
	s.ents.Store(&next)
}

// applyRoles swaps in the dynamic role view with add added and del
// removed.
func (s *Service) applyRoles(add []Role, del []string) {
	if len(add)+len(del) == 0 {
		return
	}
	old := *s.dynamic.Load()
	next := make(map[string]Role, len(old)+len(add))
	for k, v := range old {
		next[k] = v
	}
	for _, n := range del {
		delete(next, n)
	}
	for _, r := range add {
		next[r.Name] = r
	}
	s.dynamic.Store(&next)
	s.rebuildRoles(next)
}
