package consent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// Berlin Group access types: the permissions of a bg-ais consent.
const (
	berlinAccounts     = "accounts"
	berlinBalances     = "balances"
	berlinTransactions = "transactions"
)

// berlinTypes are the access types in the order they are listed.
var berlinTypes = []string{berlinAccounts, berlinBalances, berlinTransactions}

// farFuture is the validUntil Berlin Group writes for "no end".
const farFuture = "9999-12-31"

// BerlinAccess is what a Berlin Group consent request asks for: the
// IBANs each access type names, or, BankOffered, none: the customer
// chooses the accounts.
type BerlinAccess struct {
	IBANs       map[string][]string
	BankOffered bool
}

// berlinBody is the part of a Berlin Group consent request read here.
type berlinBody struct {
	Access struct {
		Accounts                     []map[string]any `json:"accounts"`
		Balances                     []map[string]any `json:"balances"`
		Transactions                 []map[string]any `json:"transactions"`
		AvailableAccounts            string           `json:"availableAccounts"`
		AvailableAccountsWithBalance string           `json:"availableAccountsWithBalance"`
		AllPsd2                      string           `json:"allPsd2"`
	} `json:"access"`
	RecurringIndicator bool   `json:"recurringIndicator"`
	ValidUntil         string `json:"validUntil"`
	FrequencyPerDay    int    `json:"frequencyPerDay"`
}

// BerlinAccessOf is what consent c, a Berlin Group consent, asks for.
func BerlinAccessOf(c *Consent) (BerlinAccess, error) {
	var b berlinBody
	if err := json.Unmarshal(c.Request, &b); err != nil {
		return BerlinAccess{}, engine.Internal(fmt.Errorf("consent %s: its request: %w", c.ID, err))
	}
	a, _ := b.access()
	return a, nil
}

// access reads the access of b: the IBANs per type, or bank-offered, and
// the faults found.
func (b *berlinBody) access() (BerlinAccess, []engine.Violation) {
	a := BerlinAccess{IBANs: map[string][]string{}}
	var faults []engine.Violation
	lists := map[string][]map[string]any{berlinAccounts: b.Access.Accounts, berlinBalances: b.Access.Balances,
		berlinTransactions: b.Access.Transactions}
	empty, named := 0, 0
	for _, typ := range berlinTypes {
		list := lists[typ]
		if list == nil {
			continue
		}
		if len(list) == 0 {
			empty++
			a.IBANs[typ] = nil
			continue
		}
		named++
		for i, ref := range list {
			iban, _ := ref["iban"].(string)
			if iban == "" {
				faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("/access/%s/%d/iban", typ, i),
					Code: "required", Message: "accounts are named by iban here"})
				continue
			}
			if !slices.Contains(a.IBANs[typ], iban) {
				a.IBANs[typ] = append(a.IBANs[typ], iban)
			}
		}
	}
	whole := map[string][]string{"availableAccounts": {berlinAccounts}, "availableAccountsWithBalance": {berlinAccounts, berlinBalances},
		"allPsd2": berlinTypes}
	for _, f := range []struct{ name, value string }{{"availableAccounts", b.Access.AvailableAccounts},
		{"availableAccountsWithBalance", b.Access.AvailableAccountsWithBalance}, {"allPsd2", b.Access.AllPsd2}} {
		if f.value == "" {
			continue
		}
		empty++
		for _, typ := range whole[f.name] {
			a.IBANs[typ] = nil
		}
	}
	switch {
	case empty > 0 && named > 0:
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/access", Code: "invalid",
			Message: "name accounts in every access list or in none: empty lists, availableAccounts and allPsd2 let the customer choose"})
	case empty == 0 && named == 0:
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/access", Code: "required",
			Message: "access names no accounts, balances or transactions"})
	}
	a.BankOffered = named == 0
	if named > 0 {
		// Whoever may read an account's balances or transactions may list
		// it (the accounts list is their union).
		for _, typ := range []string{berlinBalances, berlinTransactions} {
			for _, iban := range a.IBANs[typ] {
				if !slices.Contains(a.IBANs[berlinAccounts], iban) {
					a.IBANs[berlinAccounts] = append(a.IBANs[berlinAccounts], iban)
				}
			}
		}
	}
	return a, faults
}

// newBerlinConsent reads a Berlin Group consent request (body, already
// valid against the document) into c: its access types as permissions,
// validUntil (a date, inclusive to the end of that day UTC; 9999-12-31
// for none) as its expiry, recurringIndicator and frequencyPerDay (one in
// all when not recurring). A request breaking the standard's rules is a
// 400 naming each fault.
func newBerlinConsent(c *Consent, body any, now time.Time) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return engine.Internal(err)
	}
	var b berlinBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return engine.NewError(http.StatusBadRequest, CodeConsentRule, "the consent request is not a Berlin Group consent: "+err.Error())
	}
	a, faults := b.access()
	for _, typ := range berlinTypes {
		if _, ok := a.IBANs[typ]; ok {
			c.Permissions = append(c.Permissions, typ)
		}
	}
	if a.BankOffered && len(c.Permissions) > 0 && !slices.Contains(c.Permissions, berlinAccounts) {
		c.Permissions = append([]string{berlinAccounts}, c.Permissions...)
	}
	if b.ValidUntil != farFuture {
		day, err := time.Parse(time.DateOnly, b.ValidUntil)
		switch {
		case err != nil:
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/validUntil", Code: "date",
				Message: fmt.Sprintf("validUntil is not a date (YYYY-MM-DD): %q", b.ValidUntil)})
		case day.Before(now.UTC().Truncate(24 * time.Hour)):
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/validUntil", Code: "date",
				Message: "validUntil is in the past"})
		default:
			end := day.AddDate(0, 0, 1)
			c.ExpiresAt = &end
		}
	}
	if b.FrequencyPerDay < 1 {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/frequencyPerDay", Code: "minimum",
			Message: "frequencyPerDay is at least 1"})
	}
	if len(faults) > 0 {
		return engine.NewError(http.StatusBadRequest, CodeConsentRule, "the consent request breaks the rules of Berlin Group consents", faults...)
	}
	c.Recurring, c.FrequencyPerDay = b.RecurringIndicator, b.FrequencyPerDay
	if !c.Recurring {
		c.FrequencyPerDay = 1
	}
	c.Request = raw
	return nil
}
