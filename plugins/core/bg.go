package core

import (
	"context"
	"net/url"
	"time"

	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/internal/textcut"
)

// The Berlin Group NextGenPSD2 1.3.11 shapes the connector answers,
// members in the standard's order.

type bgAccountList struct {
	Accounts []bgAccountDetails `json:"accounts"`
}

type bgAccountOne struct {
	Account bgAccountDetails `json:"account"`
}

// bgAccountDetails is accountDetails; Balances only when asked for with
// withBalance=true.
type bgAccountDetails struct {
	ResourceID      string         `json:"resourceId"`
	IBAN            string         `json:"iban,omitempty"`
	BBAN            string         `json:"bban,omitempty"`
	MSISDN          string         `json:"msisdn,omitempty"`
	Currency        string         `json:"currency"`
	Name            string         `json:"name,omitempty"`
	Product         string         `json:"product,omitempty"`
	CashAccountType string         `json:"cashAccountType,omitempty"`
	Status          string         `json:"status,omitempty"`
	Balances        []bgBalance    `json:"balances,omitempty"`
	Links           bgAccountLinks `json:"_links"`
	OwnerName       string         `json:"ownerName,omitempty"`
}

// bgAccountLinks are an account's links.
type bgAccountLinks struct {
	Balances     bgHref `json:"balances"`
	Transactions bgHref `json:"transactions"`
}

type bgHref struct {
	Href string `json:"href"`
}

// bgReference is accountReference.
type bgReference struct {
	IBAN     string `json:"iban,omitempty"`
	BBAN     string `json:"bban,omitempty"`
	MSISDN   string `json:"msisdn,omitempty"`
	Currency string `json:"currency,omitempty"`
}

type bgAmount struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

type bgBalance struct {
	BalanceAmount bgAmount `json:"balanceAmount"`
	BalanceType   string   `json:"balanceType"`
	ReferenceDate string   `json:"referenceDate,omitempty"`
}

type bgBalancesRead struct {
	Account  bgReference `json:"account"`
	Balances []bgBalance `json:"balances"`
}

type bgTransactionsRead struct {
	Account      bgReference     `json:"account"`
	Transactions bgAccountReport `json:"transactions"`
}

type bgAccountReport struct {
	Booked  []bgTransaction `json:"booked"`
	Pending []bgTransaction `json:"pending"`
	Links   bgReportLinks   `json:"_links"`
}

type bgReportLinks struct {
	Account bgHref `json:"account"`
}

type bgTransaction struct {
	TransactionID                     string       `json:"transactionId"`
	EndToEndID                        string       `json:"endToEndId,omitempty"`
	BookingDate                       string       `json:"bookingDate"`
	ValueDate                         string       `json:"valueDate"`
	TransactionAmount                 bgAmount     `json:"transactionAmount"`
	CreditorName                      string       `json:"creditorName,omitempty"`
	CreditorAccount                   *bgReference `json:"creditorAccount,omitempty"`
	DebtorName                        string       `json:"debtorName,omitempty"`
	DebtorAccount                     *bgReference `json:"debtorAccount,omitempty"`
	RemittanceInformationUnstructured string       `json:"remittanceInformationUnstructured,omitempty"`
	BalanceAfterTransaction           *bgBalance   `json:"balanceAfterTransaction,omitempty"`
}

// Berlin Group field lengths the core's free text is cut to.
const (
	bgNameMax       = 70
	bgOwnerMax      = 140
	bgRemittanceMax = 140
	bgEndToEndMax   = 35
)

// bgDate writes a time as the standard's dates.
func bgDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// bgReferenceOf is the reference of an account with routings: the
// members the mapping fills from its schemes; nil when it fills none.
func (k *call) bgReferenceOf(routings []banking.Routing, currency string) *bgReference {
	ref := bgReference{Currency: currency}
	found := false
	for _, r := range routings {
		member := k.c.maps.BG.Schemes[r.Scheme]
		switch {
		case r.Address == "":
			continue
		case member == "iban" && ref.IBAN == "":
			ref.IBAN = r.Address
		case member == "bban" && ref.BBAN == "":
			ref.BBAN = r.Address
		case member == "msisdn" && ref.MSISDN == "":
			ref.MSISDN = r.Address
		default:
			continue
		}
		found = true
	}
	if !found {
		return nil
	}
	return &ref
}

// bgOwnReference is the reference of the customer's account acc, its
// currency at least.
func (k *call) bgOwnReference(acc banking.Account) bgReference {
	if ref := k.bgReferenceOf(acc.AccountRoutings, acc.Currency); ref != nil {
		return *ref
	}
	return bgReference{Currency: acc.Currency}
}

// bgAccountPath is the served path of acc's account resource.
func (k *call) bgAccountPath(acc banking.Account) string {
	return k.base() + "/v1/accounts/" + url.PathEscape(acc.AccountID)
}

// bgAccountOf maps a core account; with balances when withBalance.
func (k *call) bgAccountOf(acc banking.Account, withBalance bool) bgAccountDetails {
	m := &k.c.maps.BG
	p, ok := m.Products[acc.ProductCode]
	if !ok {
		p = m.Products[m.DefaultProduct]
	}
	self := k.bgAccountPath(acc)
	out := bgAccountDetails{ResourceID: acc.AccountID, Currency: acc.Currency, Name: textcut.Bytes(acc.Label, bgNameMax),
		Product: p.Product, CashAccountType: p.CashAccountType, Status: m.AccountStatuses[acc.Status],
		Links:     bgAccountLinks{Balances: bgHref{self + "/balances"}, Transactions: bgHref{self + "/transactions"}},
		OwnerName: ownerNames(acc, bgOwnerMax)}
	if ref := k.bgReferenceOf(acc.AccountRoutings, ""); ref != nil {
		out.IBAN, out.BBAN, out.MSISDN = ref.IBAN, ref.BBAN, ref.MSISDN
	}
	if withBalance {
		out.Balances = k.bgBalancesOf(acc)
	}
	return out
}

// bgBalancesOf are acc's balance as each of the mapping's balance types.
func (k *call) bgBalancesOf(acc banking.Account) []bgBalance {
	today := bgDate(k.c.now())
	out := make([]bgBalance, len(k.c.maps.BG.BalanceTypes))
	for i, t := range k.c.maps.BG.BalanceTypes {
		out[i] = bgBalance{BalanceAmount: bgAmount(acc.Balance), BalanceType: t, ReferenceDate: today}
	}
	return out
}

// bgTransactionOf maps a posted transaction; the other side is the
// creditor of a debit and the debtor of a credit.
func (k *call) bgTransactionOf(ctx context.Context, t banking.Transaction) bgTransaction {
	out := bgTransaction{TransactionID: t.TransactionID, EndToEndID: textcut.Bytes(t.TransactionRequestID, bgEndToEndMax),
		BookingDate: bgDate(t.Posted), ValueDate: bgDate(t.Completed), TransactionAmount: bgAmount(t.Amount),
		RemittanceInformationUnstructured: textcut.Bytes(t.Description, bgRemittanceMax)}
	if t.BalanceAfter.Amount != "" {
		out.BalanceAfterTransaction = &bgBalance{BalanceAmount: bgAmount(t.BalanceAfter), BalanceType: k.c.maps.BG.TransactionBalanceType}
	}
	name := textcut.Bytes(t.Counterparty.Name, bgNameMax)
	ref := k.bgReferenceOf(k.routingsOf(ctx, banking.AccountRef{BankID: t.Counterparty.BankID, AccountID: t.Counterparty.AccountID}), "")
	if _, debit := signed(t.Amount); debit {
		out.CreditorName, out.CreditorAccount = name, ref
	} else {
		out.DebtorName, out.DebtorAccount = name, ref
	}
	return out
}
