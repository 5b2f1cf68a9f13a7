// Package guard decides whether a request may pass: it authenticates the
// caller with the first authenticator that recognises the credentials, then
// checks the route's rule (public, any authenticated caller, or any one of
// a list of roles, at the URL's bank for bank roles).
//
// A Gate is immutable after New and safe for concurrent use; checking a
// request reads only in-memory views and takes no lock.
package guard

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/identity"
)

// Challenge is the WWW-Authenticate value of every 401: the schemes a
// caller can use.
const Challenge = `DirectLogin realm="dynapi", Bearer realm="dynapi"`

// Rule is who may call a route.
type Rule struct {
	// Public routes need no credentials at all.
	Public bool
	// Roles, any one of which passes; empty means any authenticated caller.
	Roles []string
	// Delegated routes admit callers under a consent (Principal.Delegation),
	// with the roles the consent delegates; every other route refuses them.
	Delegated bool
	// Consented routes are decided by the consent a caller's token was
	// granted under (Principal.ConsentID, a UK or Berlin Group consent);
	// every other route refuses such a token, which stands for the TPP
	// acting within the consent, never for the customer.
	Consented bool
}

// Entitlements is what the gate asks of authorisation.
type Entitlements interface {
	HasAny(userID, bankID string, roleNames []string) bool
	Role(name string) (authz.Role, bool)
	// GrantJustInTime grants one of roleNames, which the caller's identity
	// provider vouches for, when just-in-time entitlements are on.
	GrantJustInTime(ctx context.Context, userID, bankID string, roleNames []string) (bool, error)
}

// Banks is what the gate asks of the banks: whether a route's bank exists.
type Banks interface {
	Exists(id string) bool
}

// Gate authenticates and authorises requests.
type Gate struct {
	authenticators []identity.Authenticator
	entitlements   Entitlements
	banks          Banks
}

// New returns a gate trying authenticators in order.
func New(e Entitlements, b Banks, authenticators ...identity.Authenticator) *Gate {
	return &Gate{authenticators: authenticators, entitlements: e, banks: b}
}

// Authenticate returns the caller, or a 401 when no authenticator accepts
// the request's credentials.
func (g *Gate) Authenticate(ctx context.Context, c identity.Credentials) (*identity.Principal, error) {
	for _, a := range g.authenticators {
		p, err := a.Authenticate(ctx, c)
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, identity.ErrNoCredentials):
			continue
		default:
			return nil, err
		}
	}
	return nil, Unauthenticated()
}

// Unauthenticated is the 401 for a request without credentials.
func Unauthenticated() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized,
		"this route needs credentials: DirectLogin token=\"...\" or a Bearer token")
}

// Check authenticates the request unless the rule is public, then checks
// its roles at bankID ("" for routes outside a bank). A bank that does not
// exist is a 404, before any role is looked at. The principal is nil for
// public routes.
func (g *Gate) Check(ctx context.Context, c identity.Credentials, rule *Rule, bankID string) (*identity.Principal, error) {
	if rule.Public {
		return nil, nil
	}
	p, err := g.Authenticate(ctx, c)
	if err != nil {
		return nil, err
	}
	return p, g.Authorize(ctx, p, rule, bankID)
}

// Authorize checks an authenticated caller against a rule. A caller lacking
// every role, whose identity provider vouches for one of them, is granted
// it just in time when that is switched on.
func (g *Gate) Authorize(ctx context.Context, p *identity.Principal, rule *Rule, bankID string) error {
	if bankID != "" && !g.banks.Exists(bankID) {
		return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "bank %q not found", bankID)
	}
	if p.Delegation != nil {
		return g.authorizeDelegated(p, rule, bankID)
	}
	if p.ConsentID != "" && !rule.Consented {
		return engine.NewError(http.StatusForbidden, CodeDelegationNotAccepted,
			"a token granted under consent "+p.ConsentID+" is used only on the operations that consent decides")
	}
	if len(rule.Roles) == 0 || g.entitlements.HasAny(p.UserID, bankID, rule.Roles) {
		return nil
	}
	if claimed := intersect(p.ClaimedRoles, rule.Roles); len(claimed) > 0 {
		granted, err := g.entitlements.GrantJustInTime(ctx, p.UserID, bankID, claimed)
		if err != nil {
			return err
		}
		if granted {
			return nil
		}
	}
	return Forbidden(rule.Roles, bankID, g.entitlements)
}

// intersect returns the names in both lists.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// Forbidden is the 403 naming the roles any one of which would pass, and
// the bank bank roles were checked at.
func Forbidden(roles []string, bankID string, e Entitlements) *engine.Error {
	bankRoles := false
	for _, r := range roles {
		if role, ok := e.Role(r); ok && role.RequiresBankID {
			bankRoles = true
		}
	}
	where := ""
	if bankRoles && bankID != "" {
		where = " at bank " + bankID
	} else {
		bankID = ""
	}
	err := engine.NewError(http.StatusForbidden, engine.CodeForbidden,
		"missing role: one of "+strings.Join(roles, ", ")+where+" is needed")
	err.MissingRoles = slices.Clone(roles) // rules are shared; the error is the caller's
	err.BankID = bankID
	return err
}
