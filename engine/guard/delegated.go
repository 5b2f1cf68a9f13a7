package guard

import (
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
)

// CodeDelegationNotAccepted: a caller under a consent (an OBP Consent-JWT,
// or a token granted under a UK or Berlin Group consent) called a route
// that does not admit it (403).
const CodeDelegationNotAccepted = "consent_not_accepted_here"

// authorizeDelegated checks a caller under a consent against rule: the
// route must admit delegated callers, and a role counts only when the
// consent delegates it and the customer has it now (never just in time),
// so a role taken from the customer is gone from the consent at once.
func (g *Gate) authorizeDelegated(p *identity.Principal, rule *Rule, bankID string) error {
	if !rule.Delegated {
		return engine.NewError(http.StatusForbidden, CodeDelegationNotAccepted,
			"a consent is used only on the banking core's reading routes; this route needs the customer's own login")
	}
	if len(rule.Roles) == 0 {
		return nil
	}
	for i, r := range rule.Roles {
		if p.Delegation.HasRole(bankID, r) && g.entitlements.HasAny(p.UserID, bankID, rule.Roles[i:i+1]) {
			return nil
		}
	}
	return Forbidden(rule.Roles, bankID, g.entitlements)
}
