package consent

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
)

// Terms are what a payment or funds-confirmation consent asks of the
// customer, read from its request, for the authorisation to show and to
// offer the accounts it may be authorised for.
type Terms struct {
	// Amount is the payment's; zero for a funds confirmation consent.
	Amount Money
	// Creditor is who is paid: the creditor account's name, scheme and
	// identification; Reference the payment's reference.
	Creditor  AccountID
	Reference string
	// Debtor is the account the consent names (the Initiation's
	// DebtorAccount, a funds confirmation's DebtorAccount), nil when the
	// customer chooses it.
	Debtor *AccountID
	// Limits say a VRP consent's limits in plain language ("" for
	// others).
	Limits string
}

// AccountID is an account as a UK request names it: the scheme without
// its UK.OBIE. namespace (SortCodeAccountNumber, IBAN), the
// identification, and the holder's name when given.
type AccountID struct {
	Scheme, Identification, Name string
}

// Terms reads c's terms; ok is false for a consent that pays nothing and
// names no account (account access).
func (c *Consent) Terms() (t Terms, ok bool) {
	if c.Kind != KindDomesticPayment && c.Kind != KindFundsConfirmation && c.Kind != KindDomesticVRP {
		return t, false
	}
	req, err := parseRequest(c.Request)
	if err != nil {
		return t, false
	}
	in := req.Data.Initiation
	t.Amount, t.Creditor, t.Reference = in.InstructedAmount.money(), accountID(in.CreditorAccount), in.RemittanceInformation.Reference
	if c.Kind == KindDomesticVRP {
		t.Limits = limitsText(req)
	}
	for _, debtor := range []*obAccount{in.DebtorAccount, req.Data.DebtorAccount} {
		if debtor != nil {
			d := accountID(*debtor)
			t.Debtor = &d
		}
	}
	return t, true
}

// Text says the terms in plain language, for the customer.
func (t Terms) Text() string {
	if t.Limits != "" {
		to := cmp.Or(t.Creditor.Name, t.Creditor.Identification, "payees the app chooses")
		return "Make payments to " + to + " when the app asks, " + t.Limits
	}
	if t.Amount.Amount == "" {
		return "Confirm whether your account holds enough money for a payment, yes or no, without showing its balance"
	}
	to := t.Creditor.Name
	if to == "" {
		to = t.Creditor.Identification
	}
	s := fmt.Sprintf("Pay %s %s to %s (%s %s)", t.Amount.Amount, t.Amount.Currency, to, t.Creditor.Scheme, t.Creditor.Identification)
	if t.Reference != "" {
		s += ", reference " + t.Reference
	}
	return s
}

func accountID(a obAccount) AccountID {
	return AccountID{Scheme: trimNamespace(a.SchemeName), Identification: a.Identification, Name: a.Name}
}

// limitsText says a VRP consent request's limits: "at most 50.00 GBP a
// payment and 100.00 GBP a Day".
func limitsText(req *obRequest) string {
	var ctl controls
	if json.Unmarshal(req.Data.ControlParameters, &ctl) != nil {
		return ""
	}
	m := ctl.MaximumIndividualAmount
	parts := []string{fmt.Sprintf("%s %s a payment", m.Amount, m.Currency)}
	for _, l := range ctl.PeriodicLimits {
		parts = append(parts, fmt.Sprintf("%s %s a %s", l.Amount, l.Currency, strings.ToLower(l.PeriodType)))
	}
	return "at most " + strings.Join(parts, " and ")
}
