package banking

import "github.com/dynapi/dynapi/engine/authz"

// Roles of the banking core.
const (
	// RoleCanCreateAccount opens accounts at a bank.
	RoleCanCreateAccount = "CanCreateAccount"
	// RoleCanGetAccountsHeldAtOneBank reads every account (and its
	// transactions and payees) at a bank, not only the caller's.
	RoleCanGetAccountsHeldAtOneBank = "CanGetAccountsHeldAtOneBank"
	// RoleCanGetAccountsHeldAtAnyBank is the same at every bank.
	RoleCanGetAccountsHeldAtAnyBank = "CanGetAccountsHeldAtAnyBank"
	// RoleCanCreateAnyTransactionRequest pays from any account at a bank.
	RoleCanCreateAnyTransactionRequest = "CanCreateAnyTransactionRequest"
)

// Roles returns the roles the banking core checks.
func Roles() []authz.Role {
	return []authz.Role{
		{Name: RoleCanCreateAccount, RequiresBankID: true},
		{Name: RoleCanGetAccountsHeldAtOneBank, RequiresBankID: true},
		{Name: RoleCanGetAccountsHeldAtAnyBank},
		{Name: RoleCanCreateAnyTransactionRequest, RequiresBankID: true},
	}
}
