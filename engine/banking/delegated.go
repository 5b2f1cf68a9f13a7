package banking

import (
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// CodeAccountOutsideConsent: a caller under a consent asked for an account
// of the customer's that the consent does not name (403).
const CodeAccountOutsideConsent = "consent_account_out_of_scope"

// reaches checks p may use acc as a holder: p holds it and, under a
// consent (p.Delegation), the consent names it.
func (acc *Account) reaches(p *engine.Principal) *engine.Error {
	switch {
	case !acc.heldBy(p.UserID):
		return notHolder()
	case p.Delegation != nil && !p.Delegation.HasAccount(acc.BankID, acc.AccountID):
		return outsideDelegation(acc.BankID, acc.AccountID)
	}
	return nil
}

// outsideDelegation is the 403 for account accountID at bankID, which the
// caller's consent does not name.
func outsideDelegation(bankID, accountID string) *engine.Error {
	msg := "account " + accountID + " at bank " + bankID + " is not one of the accounts of the consent"
	return engine.NewError(http.StatusForbidden, CodeAccountOutsideConsent, msg,
		engine.Violation{Location: "path", Pointer: "/account_id", Code: CodeAccountOutsideConsent, Message: msg})
}
