package banking

import (
	"encoding/json"
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// CodeAccountOutsideConsent: a caller under a consent asked for an account
// of the customer's that the consent does not name (403).
const CodeAccountOutsideConsent = "consent_account_out_of_scope"

// reachable tells whether p may use acc as a holder: p holds it and,
// under a consent (p.Delegation), the consent names it. The holder rule's
// other roles never widen what a consent reaches.
func (acc *Account) reachable(p *engine.Principal) bool {
	return acc.heldBy(p.UserID) && (p.Delegation == nil || p.Delegation.HasAccount(acc.BankID, acc.AccountID))
}

// reaches is the refusal of acc to p as a holder, nil when reachable.
func (acc *Account) reaches(p *engine.Principal) *engine.Error {
	switch {
	case acc.reachable(p):
		return nil
	case acc.heldBy(p.UserID):
		return outsideDelegation(acc.BankID, acc.AccountID)
	}
	return notHolder()
}

// delegatedAccount checks p, a caller under a consent, may see the account
// reply holds.
func delegatedAccount(p *engine.Principal, reply *engine.Reply) (*engine.Reply, error) {
	var acc Account
	if err := json.Unmarshal(reply.Body, &acc); err != nil {
		return nil, engine.Internal(err)
	}
	if refusal := acc.reaches(p); refusal != nil {
		return nil, refusal
	}
	return reply, nil
}

// outsideDelegation is the 403 for account accountID at bankID, which the
// caller's consent does not name.
func outsideDelegation(bankID, accountID string) *engine.Error {
	msg := "account " + accountID + " at bank " + bankID + " is not one of the accounts of the consent"
	return engine.NewError(http.StatusForbidden, CodeAccountOutsideConsent, msg,
		engine.Violation{Location: "path", Pointer: "/account_id", Code: CodeAccountOutsideConsent, Message: msg})
}
