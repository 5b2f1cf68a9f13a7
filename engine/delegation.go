package engine

// Delegation is what a consent delegates to the caller acting under it:
// the customer's accounts and roles it names. The caller reaches an
// account only when the customer holds it and the consent names it, and
// has a role only when the customer has it now and the consent names it.
// It is shared between calls: never change it.
type Delegation struct {
	// Accounts are the accounts the consent names.
	Accounts []DelegatedAccount
	// Roles are the roles the consent names.
	Roles []DelegatedRole
}

// DelegatedAccount is one account a consent names, with the view it
// grants (OBP's view_id).
type DelegatedAccount struct {
	BankID    string `json:"bank_id"`
	AccountID string `json:"account_id"`
	ViewID    string `json:"view_id"`
}

// DelegatedRole is one role a consent names, at a bank ("" for a system
// role).
type DelegatedRole struct {
	BankID   string `json:"bank_id"`
	RoleName string `json:"role_name"`
}

// HasAccount tells whether the delegation names account accountID at
// bankID.
func (d *Delegation) HasAccount(bankID, accountID string) bool {
	for _, a := range d.Accounts {
		if a.AccountID == accountID && a.BankID == bankID {
			return true
		}
	}
	return false
}

// HasRole tells whether the delegation names role at bankID, or as a
// system role.
func (d *Delegation) HasRole(bankID, role string) bool {
	for _, r := range d.Roles {
		if r.RoleName == role && (r.BankID == bankID || r.BankID == "") {
			return true
		}
	}
	return false
}
