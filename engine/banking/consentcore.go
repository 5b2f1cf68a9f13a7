package banking

import (
	"context"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/consent"
)

// ConsentCore is the banking core as payments and funds confirmations
// under a consent reach it (consent.Core): each method is called through
// methods, so a bank's routings of the core's methods apply.
type ConsentCore struct {
	Methods *connector.Dispatcher
}

var _ consent.Core = ConsentCore{}

// Balance implements consent.Core with getAccount.
func (c ConsentCore) Balance(ctx context.Context, call *engine.Call, bankID, accountID string) (consent.Money, error) {
	res, err := c.Methods.Call(ctx, call, GetAccount, bankID, bankID, accountID)
	if err != nil {
		return consent.Money{}, err
	}
	acc, err := resultAs[Account](res)
	if err != nil {
		return consent.Money{}, err
	}
	return consent.Money{Amount: acc.Balance.Amount, Currency: acc.Balance.Currency}, nil
}

// PayableBank implements consent.Core with getPayableAccounts.
func (c ConsentCore) PayableBank(ctx context.Context, call *engine.Call, userID, accountID string) (string, bool, error) {
	list, err := PayableAccounts(ctx, c.Methods, &engine.Principal{UserID: userID, Method: "consent"})
	if err != nil {
		return "", false, err
	}
	for _, acc := range list {
		if acc.AccountID == accountID {
			return acc.BankID, true, nil
		}
	}
	return "", false, nil
}

// AccountByRouting implements consent.Core with getAccounts at bankID,
// then at every other bank (getBanks): the first account with the routing
// (Account.HasRouting).
func (c ConsentCore) AccountByRouting(ctx context.Context, call *engine.Call, bankID, scheme, address string) (consent.AccountRef, bool, error) {
	banks := []string{bankID}
	res, err := c.Methods.Call(ctx, call, GetBanks, "")
	if err != nil {
		return consent.AccountRef{}, false, err
	}
	all, err := resultAs[[]Bank](res)
	if err != nil {
		return consent.AccountRef{}, false, err
	}
	for _, b := range all {
		if b.BankID != bankID {
			banks = append(banks, b.BankID)
		}
	}
	for _, id := range banks {
		res, err := c.Methods.Call(ctx, call, GetAccounts, id, id, "")
		if err != nil {
			return consent.AccountRef{}, false, err
		}
		list, err := resultAs[[]Account](res)
		if err != nil {
			return consent.AccountRef{}, false, err
		}
		for _, acc := range list {
			if acc.HasRouting(scheme, address) {
				return consent.AccountRef{BankID: id, AccountID: acc.AccountID}, true, nil
			}
		}
	}
	return consent.AccountRef{}, false, nil
}

// HasRouting tells whether acc has a routing of scheme (case aside) and
// address (spaces and case aside: "GB29 NWBK 6016 1331 9268 19" is
// "gb29nwbk60161331926819").
func (acc *Account) HasRouting(scheme, address string) bool {
	want := routingAddress(address)
	return slices.ContainsFunc(acc.AccountRoutings, func(r Routing) bool {
		return strings.EqualFold(r.Scheme, scheme) && routingAddress(r.Address) == want
	})
}

// routingAddress is an account address without spaces, in upper case.
func routingAddress(s string) string { return strings.ToUpper(strings.ReplaceAll(s, " ", "")) }

// Pay implements consent.Core with createTransactionRequest.
func (c ConsentCore) Pay(ctx context.Context, call *engine.Call, t consent.Transfer) (string, error) {
	body := TransactionRequestBody{To: &AccountRef{BankID: t.To.BankID, AccountID: t.To.AccountID},
		Value: Amount{Currency: t.Value.Currency, Amount: t.Value.Amount}, Description: t.Description}
	res, err := c.Methods.Call(ctx, call, CreateTransactionRequest, t.BankID, t.BankID, t.From, t.Key, body)
	if err != nil {
		return "", err
	}
	tr, err := resultAs[TransactionRequest](res)
	if err != nil {
		return "", err
	}
	return tr.TransactionRequestID, nil
}
