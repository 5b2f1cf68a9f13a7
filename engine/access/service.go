package access

import (
	"context"
	"errors"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/viewtx"
)

// Options configures New.
type Options struct {
	// Store keeps everything; required.
	Store engine.Store
	// Passwords is the policy for local passwords.
	Passwords identity.PasswordPolicy
	// Throttle bounds failed logins.
	Throttle identity.ThrottleOptions
	// Now is the clock, time.Now by default; tests move time.
	Now func() time.Time
	// JustInTimeEntitlements enables authz.Service.GrantJustInTime.
	JustInTimeEntitlements bool
	// JustInTimeRoles are the roles GrantJustInTime may grant: names, or
	// prefixes ending in '*'. None by default, so no role is claimable
	// until an operator lists it.
	JustInTimeRoles []string
	// LoginEventsPerMinute bounds the login events written to the audit
	// log; see identity.Options. Default 120.
	LoginEventsPerMinute int
	// PasswordHashing is the argon2id cost of new password hashes;
	// identity.DefaultPasswordHashing when zero. Tests set a cheap one.
	PasswordHashing identity.PasswordHashing
	// Logins records failed logins and lockouts; nil records nothing.
	Logins *metrics.Logins
}

// Service is access control over one store: its parts, and the changes
// that span them. It is safe for concurrent use.
type Service struct {
	// Identity holds users, consumers and the authentication of their
	// credentials.
	Identity *identity.Service
	// Authz holds roles and entitlements and answers the guard's checks.
	Authz *authz.Service
	// Banks holds the banks.
	Banks *banks.Service
	// Audit is the audit log every change appends to.
	Audit *audit.Log

	w *viewtx.Writer
}

// New returns access control on opts.Store with the static roles
// registered, loading every part's in-memory views from the store.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("access: Options.Store is required")
	}
	w := viewtx.NewWriter(opts.Store)
	log := audit.New(opts.Store, opts.Now)
	s := &Service{Audit: log, w: w}
	var err error
	if s.Banks, err = banks.New(ctx, w, log, opts.Now); err != nil {
		return nil, err
	}
	s.Identity, err = identity.New(ctx, identity.Options{Writer: w, Audit: log, Passwords: opts.Passwords,
		Throttle: opts.Throttle, Now: opts.Now, LoginEventsPerMinute: opts.LoginEventsPerMinute,
		PasswordHashing: opts.PasswordHashing, Logins: opts.Logins})
	if err != nil {
		return nil, err
	}
	s.Authz, err = authz.New(ctx, authz.Options{Writer: w, Audit: log, Now: opts.Now,
		JustInTimeEntitlements: opts.JustInTimeEntitlements, JustInTimeRoles: opts.JustInTimeRoles})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DeleteUser deletes a user with its entitlements and entitlement
// requests; a 404 when missing. In the same transaction the consumers it
// created are disabled and every session and token issued to it ends (see
// identity.Service.DeleteUserTx). Audit-logged as "user.delete", each
// entitlement as "entitlement.delete" and each consumer as
// "consumer.disable".
func (s *Service) DeleteUser(ctx context.Context, a audit.Actor, id string) error {
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		if err := identity.RequireUser(tx, id); err != nil {
			return err
		}
		if err := s.Authz.DeleteUserGrantsTx(tx, a, id); err != nil {
			return err
		}
		return s.Identity.DeleteUserTx(tx, a, id)
	})
}

// Bootstrap prepares a store on its first start (see
// identity.Service.Bootstrap): the super admin it creates holds every
// static system role registered so far (call Authz.RegisterRoles first).
// On later starts it only grants the super admin, if it still exists, the
// static system roles registered since.
func (s *Service) Bootstrap(ctx context.Context, opts identity.BootstrapOptions) (*identity.BootstrapResult, error) {
	res, err := s.Identity.Bootstrap(ctx, opts, func(tx *viewtx.Tx, adminID string) (int, error) {
		return s.Authz.GrantRolesTx(tx, audit.Actor{}, adminID, "", s.Authz.SystemRoleNames())
	})
	if err != nil || res.Created {
		return res, err
	}
	if err := s.Authz.GrantMissingSystemRoles(ctx, res.AdminUserID); err != nil {
		return nil, err
	}
	return res, nil
}

// CreateBank creates a bank (see banks.Service.CreateTx) and, in the same
// transaction, grants its creator (a.UserID, when set and existing)
// CanCreateEntitlementAtOneBank at it, as OBP does. Audit-logged as
// "bank.create" and "entitlement.grant".
func (s *Service) CreateBank(ctx context.Context, a audit.Actor, b banks.Bank) (*banks.Bank, error) {
	var out *banks.Bank
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		var err error
		out, err = s.createBankTx(tx, a, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// createBankTx is CreateBank inside tx: the bank, its audit entry and its
// creator's grant.
func (s *Service) createBankTx(tx *viewtx.Tx, a audit.Actor, b banks.Bank) (*banks.Bank, error) {
	out, err := s.Banks.CreateTx(tx, a, b)
	if err != nil || a.UserID == "" {
		return out, err
	}
	if ok, err := identity.UserExists(tx, a.UserID); err != nil || !ok {
		return out, err
	}
	if _, err := s.Authz.GrantRolesTx(tx, a, a.UserID, out.ID, []string{authz.RoleCanCreateEntitlementAtOneBank}); err != nil {
		return nil, err
	}
	return out, nil
}
