package core

import (
	"context"
	"time"

	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/internal/textcut"
)

// The UK Open Banking shapes the connector answers, members in the
// standard's order. Versions 3.1 and 4.0 share them but for the account's
// classification (ukAccount) and a transaction's other side without an
// account identification (ukTransaction.UltimateCreditor, ...).

// ukRead is a UK read answer: its Data, a link to itself and, the
// answer being one page, its Meta.
type ukRead[T any] struct {
	Data  T        `json:"Data"`
	Links *ukLinks `json:"Links,omitempty"`
	Meta  ukMeta   `json:"Meta"`
}

type ukLinks struct {
	Self string `json:"Self"`
}

type ukMeta struct {
	TotalPages int `json:"TotalPages"`
}

// ukReadOf is the answer with data for the call.
func ukReadOf[T any](k *call, data T) ukRead[T] {
	out := ukRead[T]{Data: data, Meta: ukMeta{TotalPages: 1}}
	if self := k.self(); self != "" {
		out.Links = &ukLinks{Self: self}
	}
	return out
}

type ukAccounts struct {
	Account []ukAccount `json:"Account"`
}

// ukAccount is OBAccount6: AccountCategory and AccountTypeCode in v4.0,
// AccountType and AccountSubType in v3.1.
type ukAccount struct {
	AccountID            string           `json:"AccountId"`
	Status               string           `json:"Status,omitempty"`
	StatusUpdateDateTime string           `json:"StatusUpdateDateTime,omitempty"`
	Currency             string           `json:"Currency"`
	AccountCategory      string           `json:"AccountCategory,omitempty"`
	AccountTypeCode      string           `json:"AccountTypeCode,omitempty"`
	AccountType          string           `json:"AccountType,omitempty"`
	AccountSubType       string           `json:"AccountSubType,omitempty"`
	Nickname             string           `json:"Nickname,omitempty"`
	OpeningDate          string           `json:"OpeningDate,omitempty"`
	Account              []ukAccountIdent `json:"Account,omitempty"`
}

// ukAccountIdent identifies an account in a scheme (OBCashAccount).
type ukAccountIdent struct {
	SchemeName     string `json:"SchemeName,omitempty"`
	Identification string `json:"Identification,omitempty"`
	Name           string `json:"Name,omitempty"`
}

type ukAmount struct {
	Amount   string `json:"Amount"`
	Currency string `json:"Currency"`
}

type ukBalances struct {
	Balance []ukBalance `json:"Balance"`
}

type ukBalance struct {
	AccountID            string   `json:"AccountId"`
	CreditDebitIndicator string   `json:"CreditDebitIndicator"`
	Type                 string   `json:"Type"`
	DateTime             string   `json:"DateTime"`
	Amount               ukAmount `json:"Amount"`
}

type ukTransactions struct {
	Transaction []ukTransaction `json:"Transaction"`
}

type ukTransaction struct {
	AccountID              string              `json:"AccountId"`
	TransactionID          string              `json:"TransactionId"`
	TransactionReference   string              `json:"TransactionReference,omitempty"`
	CreditDebitIndicator   string              `json:"CreditDebitIndicator"`
	Status                 string              `json:"Status"`
	TransactionMutability  string              `json:"TransactionMutability"`
	BookingDateTime        string              `json:"BookingDateTime"`
	ValueDateTime          string              `json:"ValueDateTime"`
	TransactionInformation string              `json:"TransactionInformation,omitempty"`
	Amount                 ukAmount            `json:"Amount"`
	Balance                *ukTransactionTotal `json:"Balance,omitempty"`
	CreditorAccount        *ukAccountIdent     `json:"CreditorAccount,omitempty"`
	DebtorAccount          *ukAccountIdent     `json:"DebtorAccount,omitempty"`
	UltimateCreditor       *ukParty            `json:"UltimateCreditor,omitempty"`
	UltimateDebtor         *ukParty            `json:"UltimateDebtor,omitempty"`
}

// ukTransactionTotal is the account's balance after a transaction.
type ukTransactionTotal struct {
	CreditDebitIndicator string   `json:"CreditDebitIndicator"`
	Type                 string   `json:"Type"`
	Amount               ukAmount `json:"Amount"`
}

// ukParty names the other side of a transaction whose account has no
// identification the standard knows (v4.0).
type ukParty struct {
	Name string `json:"Name"`
}

type ukBeneficiaries struct {
	Beneficiary []ukBeneficiary `json:"Beneficiary"`
}

type ukBeneficiary struct {
	AccountID       string          `json:"AccountId"`
	BeneficiaryID   string          `json:"BeneficiaryId"`
	Reference       string          `json:"Reference,omitempty"`
	CreditorAccount *ukAccountIdent `json:"CreditorAccount,omitempty"`
}

// UK field lengths the core's free text is cut to.
const (
	ukNameMax        = 350
	ukNicknameMax    = 70
	ukInformationMax = 500
	ukReferenceMax   = 35
	ukPartyNameMax   = 140
	ukIDMax          = 40
)

// ukTime writes a time as the standard's date-times.
func ukTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// creditDebit is the UK indicator of a signed amount, and its magnitude.
func creditDebit(a banking.Amount) (string, ukAmount) {
	m, debit := signed(a)
	if debit {
		return "Debit", ukAmount{Amount: m, Currency: a.Currency}
	}
	return "Credit", ukAmount{Amount: m, Currency: a.Currency}
}

// ukAccountOf maps a core account.
func (k *call) ukAccountOf(acc banking.Account) ukAccount {
	m := &k.c.maps.UK
	p, ok := m.Products[acc.ProductCode]
	if !ok {
		p = m.Products[m.DefaultProduct]
	}
	out := ukAccount{AccountID: acc.AccountID, Status: m.AccountStatuses[acc.Status], StatusUpdateDateTime: ukTime(acc.CreatedAt),
		Currency: acc.Currency, Nickname: textcut.Bytes(acc.Label, ukNicknameMax), OpeningDate: ukTime(acc.CreatedAt),
		Account: k.ukIdents(acc.AccountRoutings, ownerNames(acc, ukNameMax))}
	if k.v31 {
		out.AccountType, out.AccountSubType = p.Category, p.SubType
	} else {
		out.AccountCategory, out.AccountTypeCode = p.Category, p.TypeCode
	}
	return out
}

// ukIdents are the routings whose scheme the mapping knows, named name.
func (k *call) ukIdents(routings []banking.Routing, name string) []ukAccountIdent {
	var out []ukAccountIdent
	for _, r := range routings {
		if scheme, ok := k.c.maps.UK.Schemes[r.Scheme]; ok && r.Address != "" {
			out = append(out, ukAccountIdent{SchemeName: scheme, Identification: textcut.Bytes(r.Address, 256), Name: name})
		}
	}
	return out
}

// ukBalancesOf are acc's balance as each of the version's balance types.
func (k *call) ukBalancesOf(acc banking.Account, at string) []ukBalance {
	cd, amount := creditDebit(acc.Balance)
	out := make([]ukBalance, len(k.uk.BalanceTypes))
	for i, t := range k.uk.BalanceTypes {
		out[i] = ukBalance{AccountID: acc.AccountID, CreditDebitIndicator: cd, Type: t, DateTime: at, Amount: amount}
	}
	return out
}

// ukTransactionOf maps a posted transaction; the other side is the
// creditor of a debit and the debtor of a credit.
func (k *call) ukTransactionOf(ctx context.Context, t banking.Transaction) ukTransaction {
	cd, amount := creditDebit(t.Amount)
	out := ukTransaction{AccountID: t.AccountID, TransactionID: t.TransactionID, TransactionReference: t.TransactionRequestID,
		CreditDebitIndicator: cd, Status: k.uk.BookedStatus, TransactionMutability: "Immutable",
		BookingDateTime: ukTime(t.Posted), ValueDateTime: ukTime(t.Completed),
		TransactionInformation: textcut.Bytes(t.Description, ukInformationMax), Amount: amount}
	if t.BalanceAfter.Amount != "" {
		bcd, bamount := creditDebit(t.BalanceAfter)
		out.Balance = &ukTransactionTotal{CreditDebitIndicator: bcd, Type: k.uk.TransactionBalanceType, Amount: bamount}
	}
	account, party := k.ukOtherSide(ctx, t.Counterparty)
	if cd == "Debit" {
		out.CreditorAccount, out.UltimateCreditor = account, party
	} else {
		out.DebtorAccount, out.UltimateDebtor = account, party
	}
	return out
}

// ukOtherSide is the other side of a transaction: its account when the
// mapping knows a scheme of it, else (v3.1) an account with its name
// alone or (v4.0, whose account needs an identification) the party's
// name.
func (k *call) ukOtherSide(ctx context.Context, p banking.Party) (*ukAccountIdent, *ukParty) {
	name := textcut.Bytes(p.Name, ukPartyNameMax)
	if ids := k.ukIdents(k.routingsOf(ctx, banking.AccountRef{BankID: p.BankID, AccountID: p.AccountID}), name); len(ids) > 0 {
		return &ids[0], nil
	}
	switch {
	case name == "":
		return nil, nil
	case k.v31:
		return &ukAccountIdent{Name: name}, nil
	}
	return nil, &ukParty{Name: name}
}

// ukBeneficiaryOf maps a saved payee; its account is shown when the
// mapping knows a scheme of its routings or of its account at this core.
func (k *call) ukBeneficiaryOf(ctx context.Context, c banking.Counterparty) ukBeneficiary {
	routings := c.OtherRoutings
	if len(routings) == 0 {
		routings = k.routingsOf(ctx, banking.AccountRef{BankID: c.OtherBankID, AccountID: c.OtherAccountID})
	}
	out := ukBeneficiary{AccountID: c.AccountID, BeneficiaryID: textcut.Bytes(c.CounterpartyID, ukIDMax), Reference: textcut.Bytes(c.Description, ukReferenceMax)}
	if ids := k.ukIdents(routings, textcut.Bytes(c.Name, ukNameMax)); len(ids) > 0 {
		out.CreditorAccount = &ids[0]
	}
	return out
}
