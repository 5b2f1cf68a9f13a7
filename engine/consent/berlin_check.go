package consent

import (
	"context"
	"net/http"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

// berlinCheck is the policy (engine.Policy) of a Berlin Group operation
// bound to use: the call names its consent in the Consent-ID header and
// is made with the TPP's own (client credentials) token; the consent must
// be that TPP's, valid and not expired, grant one of the operation's
// access types and, when the operation reads one account, cover it for
// that type. The customer is the consent's: the caller is the TPP. An
// allowed call carries the consent (Call.Consent).
type berlinCheck struct {
	svc      *Service
	profiles profileFinder
	kind, op string
	anyOf    []string
	// account is the position of the path parameter naming the account,
	// -1 when the operation reads no single account.
	account      int
	accountParam string
}

// newBerlinCheck is the check of op, bound to use by bind in profile p.
func (b *Binder) newBerlinCheck(p *Profile, bind Binding, op *specs.Operation) *berlinCheck {
	k := &berlinCheck{svc: b.Service, profiles: b.Profiles, kind: p.Kind, op: op.ID, anyOf: bind.AnyOf, account: -1,
		accountParam: bind.AccountParam}
	if bind.AccountParam != "" {
		k.account = pathIndex(op, bind.AccountParam)
	}
	return k
}

// Allow implements engine.Policy.
func (k *berlinCheck) Allow(ctx context.Context, call *engine.Call) error {
	id := header(call, headerConsentID)
	if id == "" {
		return berlinRefusal(http.StatusBadRequest, CodeConsentMissing, "header", "/"+headerConsentID,
			"operation "+k.op+" is called under a consent: name it in Consent-ID")
	}
	g, err := k.svc.lookup(ctx, id, k.profiles)
	switch {
	case notFound(err):
		return berlinRefusal(http.StatusForbidden, CodeConsentUnknown, "header", "/"+headerConsentID, "no consent "+id+" here")
	case err != nil:
		return err
	case g.status == Deleted || g.kind != k.kind || g.bankID != call.BankID || call.Principal == nil ||
		g.consumerID != call.Principal.ConsumerID:
		return berlinRefusal(http.StatusForbidden, CodeConsentUnknown, "header", "/"+headerConsentID, "no consent "+id+" of yours here")
	}
	switch code := Unusable(g.status, g.expiresAt, k.svc.now()); code {
	case CodeConsentRevoked:
		return berlinRefusal(http.StatusUnauthorized, code, "consent", "/consentStatus", "consent "+id+" was revoked")
	case CodeConsentExpired:
		return berlinRefusal(http.StatusUnauthorized, code, "consent", "/validUntil", "consent "+id+" expired")
	case CodeConsentNotAuthorised:
		return berlinRefusal(http.StatusUnauthorized, code, "consent", "/consentStatus",
			"consent "+id+" is "+string(g.status)+", not valid")
	}
	account := ""
	if k.account >= 0 && call.Path != nil && k.account < call.Path.Len() {
		account = call.Path.Value(k.account)
	}
	granted, covered := false, k.account < 0
	for _, perm := range k.anyOf {
		if _, ok := g.permissions[perm]; ok {
			granted = true
			covered = covered || g.covers(perm, account)
		}
	}
	if !granted {
		return berlinRefusal(http.StatusUnauthorized, CodeConsentPermissionMissing, "consent", "/access",
			"consent "+id+" does not grant operation "+k.op+": it needs access to "+strings.Join(k.anyOf, " or "))
	}
	if !covered {
		return berlinRefusal(http.StatusUnauthorized, CodeConsentAccountOutOfScope, "path", "/"+k.accountParam,
			"consent "+id+" does not grant "+strings.Join(k.anyOf, " or ")+" of account "+account)
	}
	call.Consent = g.grant
	return nil
}

// covers tells whether the consent grants perm on account.
func (g *compiled) covers(perm, account string) bool {
	if _, ok := g.accounts[account]; !ok {
		return false
	}
	narrowed, ok := g.access[perm]
	if !ok {
		return true
	}
	_, ok = narrowed[account]
	return ok
}

// berlinRefusal is a refusal of a call under a Berlin Group consent, the
// fault at pointer of location.
func berlinRefusal(status int, code, location, pointer, msg string) *engine.Error {
	return engine.NewError(status, code, msg, engine.Violation{Location: location, Pointer: pointer, Code: code, Message: msg})
}
