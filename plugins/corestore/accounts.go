package corestore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/internal/ident"
)

// Banks answers getBanks: every bank, by id.
func (c *Connector) Banks(ctx context.Context) ([]banking.Bank, error) {
	banks, err := c.banks.List(ctx)
	if err != nil {
		return nil, engine.Surface(err)
	}
	out := make([]banking.Bank, 0, len(banks))
	for _, b := range banks {
		if b != nil {
			out = append(out, bankOf(b))
		}
	}
	slices.SortFunc(out, func(a, b banking.Bank) int { return strings.Compare(a.BankID, b.BankID) })
	return out, nil
}

// Bank answers getBank: the bank with bankID, or a 404.
func (c *Connector) Bank(ctx context.Context, bankID string) (banking.Bank, error) {
	b, err := c.bank(ctx, bankID)
	if err != nil {
		return banking.Bank{}, err
	}
	return bankOf(b), nil
}

// bank reads bank id, a 404 when it does not exist.
func (c *Connector) bank(ctx context.Context, id string) (*banks.Bank, error) {
	if !ident.Valid(id) {
		return nil, notFound("bank %q not found", id)
	}
	b, err := c.banks.Get(ctx, id)
	if err != nil {
		return nil, engine.Surface(err)
	}
	if b == nil {
		return nil, notFound("bank %q not found", id)
	}
	return b, nil
}

func bankOf(b *banks.Bank) banking.Bank {
	return banking.Bank{BankID: b.ID, ShortName: b.ShortName, FullName: b.FullName, Logo: b.Logo, Website: b.Website}
}

func accountNotFound(bankID, accountID string) *engine.Error {
	return notFound("account %q not found at bank %q", accountID, bankID)
}

// getAccount reads an account in tx; a 404 when it does not exist.
func getAccount(tx engine.Tx, bankID, accountID string) (banking.Account, error) {
	if !ident.Valid(bankID) || !ident.Valid(accountID) {
		return banking.Account{}, accountNotFound(bankID, accountID)
	}
	acc, err := getJSON[banking.Account](tx, bucketAccounts, key(bankID, accountID))
	if errors.Is(err, engine.ErrNotFound) {
		return acc, accountNotFound(bankID, accountID)
	}
	return acc, err
}

// Accounts answers getAccounts: the accounts at bankID by account id, only
// those userID holds when it is not empty. The bank must exist.
func (c *Connector) Accounts(ctx context.Context, bankID, userID string) ([]banking.Account, error) {
	if _, err := c.bank(ctx, bankID); err != nil {
		return nil, err
	}
	out := []banking.Account{}
	err := c.store.View(ctx, func(tx engine.Tx) error {
		out = out[:0]
		if userID == "" {
			return tx.Scan(bucketAccounts, key(bankID, ""), func(_ string, v []byte) error {
				acc, err := decode[banking.Account](v)
				out = append(out, acc)
				return err
			})
		}
		if !validUserID(userID) {
			return nil
		}
		var err error
		out, err = ownedAccounts(tx, key(userID, bankID, ""), out)
		return err
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return out, nil
}

// ownedAccounts appends the accounts the owner index lists under prefix
// (user, bank or just user), in index order.
func ownedAccounts(tx engine.Tx, prefix string, out []banking.Account) ([]banking.Account, error) {
	var refs [][2]string
	err := tx.Scan(bucketOwners, prefix, func(k string, _ []byte) error {
		parts := strings.Split(k, "\x00")
		if len(parts) != 3 {
			return fmt.Errorf("mapped: bad owner index key %q", k)
		}
		refs = append(refs, [2]string{parts[1], parts[2]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		acc, err := getJSON[banking.Account](tx, bucketAccounts, key(r[0], r[1]))
		if err != nil {
			return nil, fmt.Errorf("mapped: owner index names account %s/%s: %w", r[0], r[1], err)
		}
		out = append(out, acc)
	}
	return out, nil
}

// Account answers getAccount: one account with its balance, or a 404.
func (c *Connector) Account(ctx context.Context, bankID, accountID string) (banking.Account, error) {
	var out banking.Account
	err := c.store.View(ctx, func(tx engine.Tx) error {
		var err error
		out, err = getAccount(tx, bankID, accountID)
		return err
	})
	return out, engine.Surface(err)
}

// ShareableAccounts answers getShareableAccounts: every account userID
// holds, at any bank, by bank and account id.
func (c *Connector) ShareableAccounts(ctx context.Context, userID string) ([]banking.Account, error) {
	out := []banking.Account{}
	if !validUserID(userID) {
		return out, nil
	}
	err := c.store.View(ctx, func(tx engine.Tx) error {
		var err error
		out, err = ownedAccounts(tx, key(userID, ""), out[:0])
		return err
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return out, nil
}

// PayableAccounts answers getPayableAccounts: the active accounts userID
// holds, at any bank.
func (c *Connector) PayableAccounts(ctx context.Context, userID string) ([]banking.Account, error) {
	out, err := c.ShareableAccounts(ctx, userID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(a banking.Account) bool { return a.Status != StatusActive }), nil
}

// Length limits of account fields.
const (
	maxName        = 256
	maxDescription = 2048
)

// CreateAccount answers createBankAccount: it opens acc at bankID, which
// must exist. AccountID is generated when empty; Currency and at least one
// owner are required; Balance.Amount is the opening balance (default 0, not
// negative), posted as an OPENING_BALANCE transaction when not zero; Status
// defaults to active. A taken account id is a 409 conflict.
func (c *Connector) CreateAccount(ctx context.Context, bankID string, acc banking.Account) (banking.Account, error) {
	if _, err := c.bank(ctx, bankID); err != nil {
		return banking.Account{}, err
	}
	opening, err := prepareAccount(bankID, &acc)
	if err != nil {
		return banking.Account{}, err
	}
	err = c.store.Update(ctx, func(tx engine.Tx) error { return c.openAccount(tx, &acc, opening) })
	if err != nil {
		return banking.Account{}, engine.Surface(err)
	}
	return acc, nil
}

// CreateAccountIn is CreateAccount inside tx, a write transaction of the
// caller's, which has made sure that bank bankID exists (the first-start
// preload opens the bank in that same transaction). A refusal is returned
// for the caller to roll back.
func (c *Connector) CreateAccountIn(tx engine.Tx, bankID string, acc banking.Account) (banking.Account, error) {
	opening, err := prepareAccount(bankID, &acc)
	if err != nil {
		return banking.Account{}, err
	}
	if err := c.openAccount(tx, &acc, opening); err != nil {
		return banking.Account{}, err
	}
	return acc, nil
}

// prepareAccount checks an account to open at bankID and completes it
// (id, bank, balance, owners); it returns its opening balance in minor
// units.
func prepareAccount(bankID string, acc *banking.Account) (int64, error) {
	opening, faults := checkAccount(bankID, acc)
	if faults != nil {
		return 0, invalid("the account cannot be opened", faults)
	}
	if acc.AccountID == "" {
		acc.AccountID = uuid.NewString()
	}
	digits := MinorDigits(acc.Currency)
	acc.BankID = bankID
	acc.Balance = banking.Amount{Currency: acc.Currency, Amount: FormatAmount(opening, digits)}
	if acc.Owners == nil {
		acc.Owners = []banking.Owner{}
	}
	return opening, nil
}

// openAccount stores acc, prepared, in tx, posting its opening balance
// when not zero; a taken account id is a 409 conflict.
func (c *Connector) openAccount(tx engine.Tx, acc *banking.Account, opening int64) error {
	k := key(acc.BankID, acc.AccountID)
	switch _, err := tx.Get(bucketAccounts, k); {
	case err == nil:
		return engine.Errorf(http.StatusConflict, engine.CodeConflict,
			"account %q exists already at bank %q", acc.AccountID, acc.BankID)
	case !errors.Is(err, engine.ErrNotFound):
		return err
	}
	now, err := c.tick(tx)
	if err != nil {
		return err
	}
	acc.CreatedAt = now
	if err := putJSON(tx, bucketAccounts, k, acc); err != nil {
		return err
	}
	for _, o := range acc.Owners {
		if err := tx.Put(bucketOwners, key(o.UserID, acc.BankID, acc.AccountID), nil); err != nil {
			return err
		}
	}
	if opening == 0 {
		return nil
	}
	return post(tx, banking.Transaction{
		TransactionID: uuid.NewString(), BankID: acc.BankID, AccountID: acc.AccountID,
		Type: TypeOpeningBalance, Description: "Opening balance",
		Amount: acc.Balance, BalanceAfter: acc.Balance, Posted: now, Completed: now,
	})
}

// checkAccount validates an account to open, fills defaults and returns
// its opening balance in minor units.
func checkAccount(bankID string, acc *banking.Account) (int64, []engine.Violation) {
	var faults []engine.Violation
	add := func(pointer, code, message string) { faults = append(faults, fault("body", pointer, code, message)) }
	if acc.AccountID != "" && !ident.Valid(acc.AccountID) {
		add("/account_id", "pattern", "an account id is "+ident.Rule)
	}
	if acc.BankID != "" && acc.BankID != bankID {
		add("/bank_id", "mismatch", fmt.Sprintf("the account is opened at bank %q", bankID))
	}
	switch {
	case acc.Currency == "":
		add("/currency", "required", "the currency is required")
	case !validCurrency(acc.Currency):
		add("/currency", "pattern", "an ISO 4217 currency code: three upper-case letters")
	}
	if len(acc.Owners) == 0 {
		add("/owners", "required", "at least one owner is required")
	}
	for i, o := range acc.Owners {
		switch {
		case o.UserID == "":
			add(fmt.Sprintf("/owners/%d/user_id", i), "required", "the owner's user id is required")
		case !validUserID(o.UserID):
			add(fmt.Sprintf("/owners/%d/user_id", i), "pattern", fmt.Sprintf("1 to %d characters, no control characters", maxUserID))
		}
		faults = checkLen(faults, fmt.Sprintf("/owners/%d/username", i), o.Username, maxName)
	}
	faults = checkLen(faults, "/label", acc.Label, maxName)
	faults = checkLen(faults, "/number", acc.Number, maxName)
	faults = checkLen(faults, "/product_code", acc.ProductCode, maxName)
	switch acc.Status {
	case "":
		acc.Status = StatusActive
	case StatusActive, StatusClosed:
	default:
		add("/status", "enum", "the status is active or closed")
	}
	if acc.Balance.Currency != "" && acc.Balance.Currency != acc.Currency {
		add("/balance/currency", "currency_mismatch", "the opening balance is in the account's currency")
	}
	var opening int64
	if acc.Balance.Amount != "" && validCurrency(acc.Currency) {
		v, err := ParseAmount(acc.Balance.Amount, MinorDigits(acc.Currency))
		switch {
		case err != nil:
			code, message := amountFault(err, acc.Currency)
			add("/balance/amount", code, message)
		case v < 0:
			add("/balance/amount", "minimum", "the opening balance cannot be negative")
		default:
			opening = v
		}
	}
	return opening, faults
}

// amountFault describes a ParseAmount error as a violation code and
// message.
func amountFault(err error, currency string) (code, message string) {
	switch {
	case errors.Is(err, ErrAmountPrecision):
		return "precision", fmt.Sprintf("%s amounts have at most %d decimal places", currency, MinorDigits(currency))
	case errors.Is(err, ErrAmountRange):
		return "range", "the amount is too large"
	default:
		return "format", "a decimal number such as 10.50"
	}
}
