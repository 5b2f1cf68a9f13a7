package corestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/events"
)

// stamp is the time part of a transaction key: Unix nanoseconds, zero
// padded so that keys sort by time.
func stamp(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

// post stores transaction t under (bank, account, completed time,
// sequence): one account's transactions are contiguous and in posting
// order. t.Completed must come from tick. In the same transaction it
// emits transaction.created (see TransactionSubject) with t, as
// getTransactions answers it, as its data, for the bank's systems (no
// consumer): the event exists if and only if the posting committed.
func post(tx engine.Tx, t banking.Transaction) error {
	seq, err := tx.NextSequence(bucketTransactions)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(&t)
	if err != nil {
		return fmt.Errorf("mapped: encode transaction: %w", err)
	}
	if err := tx.Put(bucketTransactions, key(t.BankID, t.AccountID, stamp(t.Completed)+fmt.Sprintf("%020d", seq)), raw); err != nil {
		return err
	}
	return events.Emit(tx, &events.Event{Type: events.TypeTransactionCreated,
		Subject: TransactionSubject(t.BankID, t.AccountID, t.TransactionID), BankID: t.BankID, Data: raw}, t.Completed)
}

// TransactionSubject is the subject of the events of a transaction the
// core posts: "banks/{bank}/accounts/{account}/transactions/{id}".
func TransactionSubject(bankID, accountID, transactionID string) string {
	return "banks/" + bankID + "/accounts/" + accountID + "/transactions/" + transactionID
}

// Transactions answers getTransactions: a page of account (bankID,
// accountID)'s transactions, newest first, completed in [q.FromDate,
// q.ToDate) when set, skipping q.Offset and at most q.Limit (default 50,
// at most 500). The account must exist. It reads only the keys of the
// range up to the end of the page.
func (c *Connector) Transactions(ctx context.Context, bankID, accountID string, q banking.TransactionQuery) ([]banking.Transaction, error) {
	var faults []engine.Violation
	switch {
	case q.Limit < 0:
		faults = append(faults, fault("query", "/limit", "minimum", "the limit is 0 (the default) or more"))
	case q.Limit > MaxLimit:
		faults = append(faults, fault("query", "/limit", "maximum", fmt.Sprintf("at most %d transactions a page", MaxLimit)))
	case q.Limit == 0:
		q.Limit = DefaultLimit
	}
	if q.Offset < 0 {
		faults = append(faults, fault("query", "/offset", "minimum", "the offset is 0 or more"))
	}
	if faults != nil {
		return nil, invalid("the transaction query is not valid", faults)
	}
	out := []banking.Transaction{}
	err := c.store.View(ctx, func(tx engine.Tx) error {
		out = out[:0]
		if _, err := getAccount(tx, bankID, accountID); err != nil {
			return err
		}
		prefix := key(bankID, accountID, "")
		// Keys are prefix + stamp + sequence, all digits: prefix+"\xff"
		// is above every one of them, prefix+stamp(T) above exactly those
		// before T.
		upper, lower := prefix+"\xff", ""
		if q.ToDate != nil {
			if !q.ToDate.After(minTime) {
				return nil
			}
			if q.ToDate.Before(maxTime) {
				upper = prefix + stamp(*q.ToDate)
			}
		}
		if q.FromDate != nil && q.FromDate.After(minTime) {
			if !q.FromDate.Before(maxTime) {
				return nil
			}
			lower = prefix + stamp(*q.FromDate)
		}
		skip := q.Offset
		return tx.ScanReverse(bucketTransactions, upper, func(k string, v []byte) error {
			if !strings.HasPrefix(k, prefix) || k < lower {
				return engine.ErrStop
			}
			if skip > 0 {
				skip--
				return nil
			}
			t, err := decode[banking.Transaction](v)
			if err != nil {
				return err
			}
			out = append(out, t)
			if len(out) == q.Limit {
				return engine.ErrStop
			}
			return nil
		})
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return out, nil
}

// maxIdempotencyKey bounds idempotency keys.
const maxIdempotencyKey = 255

// idempotencyRecord remembers a payment made with an idempotency key.
type idempotencyRecord struct {
	// RequestHash is the hex SHA-256 of the request body's JSON.
	RequestHash          string    `json:"request_hash"`
	TransactionRequestID string    `json:"transaction_request_id"`
	Created              time.Time `json:"created"`
}

// CreateTransactionRequest answers createTransactionRequest: account
// (bankID, accountID) pays body.Value to body.To or to its saved
// counterparty body.CounterpartyID, in one store transaction that checks
// funds and posts a debit on the payer and a credit on the payee. createdBy
// is the paying user's id ("" when unknown).
//
// With an idempotency key, a repeat of the same body returns the first
// payment's transaction request and replayed true, paying nothing; a
// repeat with another body is a 422 idempotency_key_reused. Other
// refusals: 404 for a missing payer account, 400 validation_failed for a
// bad body (amount, currency other than both accounts', unknown or same
// payee), 422 account_not_active and 422 insufficient_funds.
func (c *Connector) CreateTransactionRequest(ctx context.Context, bankID, accountID, idempotencyKey string,
	body banking.TransactionRequestBody, createdBy string) (tr banking.TransactionRequest, replayed bool, err error) {
	amount, hash, err := checkRequest(idempotencyKey, &body)
	if err != nil {
		return tr, false, err
	}
	err = c.store.Update(ctx, func(tx engine.Tx) (err error) {
		tr, replayed, err = c.request(tx, bankID, accountID, idempotencyKey, body, amount, hash, createdBy)
		return err
	})
	if err != nil {
		return banking.TransactionRequest{}, false, engine.Surface(err)
	}
	return tr, replayed, nil
}

// CreateTransactionRequestIn is CreateTransactionRequest inside tx, a
// write transaction of the caller's. A refusal is returned for the caller
// to roll back.
func (c *Connector) CreateTransactionRequestIn(tx engine.Tx, bankID, accountID, idempotencyKey string,
	body banking.TransactionRequestBody, createdBy string) (banking.TransactionRequest, bool, error) {
	amount, hash, err := checkRequest(idempotencyKey, &body)
	if err != nil {
		return banking.TransactionRequest{}, false, err
	}
	return c.request(tx, bankID, accountID, idempotencyKey, body, amount, hash, createdBy)
}

// checkRequest validates a transaction request on its own and returns its
// amount in minor units and the hash its idempotency key is kept with.
func checkRequest(idempotencyKey string, body *banking.TransactionRequestBody) (amount int64, hash string, err error) {
	if !validIdempotencyKey(idempotencyKey) {
		return 0, "", invalid("the idempotency key is not valid", []engine.Violation{fault("header", "/Idempotency-Key", "pattern",
			fmt.Sprintf("at most %d printable ASCII characters", maxIdempotencyKey))})
	}
	amount, faults := checkPayment(body)
	if faults != nil {
		return 0, "", invalid("the transaction request is not valid", faults)
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		return 0, "", engine.Internal(err)
	}
	sum := sha256.Sum256(canonical)
	return amount, hex.EncodeToString(sum[:]), nil
}

// request pays a checked transaction request in tx, or replays the one
// made with the same idempotency key.
func (c *Connector) request(tx engine.Tx, bankID, accountID, idempotencyKey string, body banking.TransactionRequestBody,
	amount int64, hash, createdBy string) (tr banking.TransactionRequest, replayed bool, err error) {
	payer, err := getAccount(tx, bankID, accountID)
	if err != nil {
		return tr, false, err
	}
	idemKey := key(bankID, accountID, idempotencyKey)
	if idempotencyKey != "" {
		rec, err := getJSON[idempotencyRecord](tx, bucketIdempotency, idemKey)
		switch {
		case err == nil:
			if rec.RequestHash != hash {
				return tr, false, engine.Errorf(http.StatusUnprocessableEntity, CodeIdempotencyKeyReused,
					"idempotency key %q was used for another transaction request from this account", idempotencyKey)
			}
			tr, err = getJSON[banking.TransactionRequest](tx, bucketRequests, key(bankID, accountID, rec.TransactionRequestID))
			return tr, err == nil, err
		case !errors.Is(err, engine.ErrNotFound):
			return tr, false, err
		}
	}
	tr, err = c.pay(tx, payer, body, amount, createdBy)
	if err != nil || idempotencyKey == "" {
		return tr, false, err
	}
	return tr, false, putJSON(tx, bucketIdempotency, idemKey, &idempotencyRecord{RequestHash: hash,
		TransactionRequestID: tr.TransactionRequestID, Created: tr.Created})
}

// validIdempotencyKey tells whether k is empty or at most 255 printable
// ASCII characters.
func validIdempotencyKey(k string) bool {
	if len(k) > maxIdempotencyKey {
		return false
	}
	for i := range len(k) {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkPayment validates a payment order on its own and returns its amount
// in minor units.
func checkPayment(body *banking.TransactionRequestBody) (int64, []engine.Violation) {
	var faults []engine.Violation
	add := func(pointer, code, message string) { faults = append(faults, fault("body", pointer, code, message)) }
	switch {
	case body.To == nil && body.CounterpartyID == "":
		add("/to", "required", "to or counterparty_id names the payee")
	case body.To != nil && body.CounterpartyID != "":
		add("/counterparty_id", "exclusive", "give either to or counterparty_id, not both")
	case body.To != nil:
		if body.To.BankID == "" {
			add("/to/bank_id", "required", "the payee's bank id is required")
		}
		if body.To.AccountID == "" {
			add("/to/account_id", "required", "the payee's account id is required")
		}
	}
	cur := body.Value.Currency
	switch {
	case cur == "":
		add("/value/currency", "required", "the currency is required")
	case !validCurrency(cur):
		add("/value/currency", "pattern", "an ISO 4217 currency code: three upper-case letters")
	}
	var amount int64
	switch {
	case body.Value.Amount == "":
		add("/value/amount", "required", "the amount is required")
	case validCurrency(cur):
		v, err := ParseAmount(body.Value.Amount, MinorDigits(cur))
		switch {
		case err != nil:
			code, message := amountFault(err, cur)
			add("/value/amount", code, message)
		case v <= 0:
			add("/value/amount", "exclusive_minimum", "the amount must be more than zero")
		default:
			amount = v
		}
	}
	faults = checkLen(faults, "/description", body.Description, maxDescription)
	return amount, faults
}

// pay resolves the payee, checks both accounts and the funds, and posts
// the payment in tx.
func (c *Connector) pay(tx engine.Tx, payer banking.Account, body banking.TransactionRequestBody, amount int64,
	createdBy string) (banking.TransactionRequest, error) {
	var none banking.TransactionRequest
	refused := func(pointer, code, message string) error {
		return invalid("the transaction request is not valid", []engine.Violation{fault("body", pointer, code, message)})
	}
	typ, to, pointer, payeeName := TypeAccount, body.To, "/to", ""
	if body.CounterpartyID != "" {
		cp, err := getCounterparty(tx, payer.BankID, payer.AccountID, body.CounterpartyID)
		var e *engine.Error
		if errors.As(err, &e) && e.Code == engine.CodeNotFound {
			return none, refused("/counterparty_id", "not_found", "this account has no counterparty "+body.CounterpartyID)
		}
		if err != nil {
			return none, err
		}
		if cp.OtherBankID == "" || cp.OtherAccountID == "" {
			return none, refused("/counterparty_id", "not_payable", "the counterparty has no account at this server to pay to")
		}
		typ, to, pointer, payeeName = TypeCounterparty, &banking.AccountRef{BankID: cp.OtherBankID, AccountID: cp.OtherAccountID},
			"/counterparty_id", cp.Name
	}
	if to.BankID == payer.BankID && to.AccountID == payer.AccountID {
		return none, refused(pointer, "same_account", "an account cannot pay itself")
	}
	payee, err := getAccount(tx, to.BankID, to.AccountID)
	var e *engine.Error
	if errors.As(err, &e) && e.Code == engine.CodeNotFound {
		return none, refused(pointer, "not_found", fmt.Sprintf("no account %q at bank %q", to.AccountID, to.BankID))
	}
	if err != nil {
		return none, err
	}
	if payeeName == "" {
		payeeName = payee.Label
	}
	cur := body.Value.Currency
	var held []string
	for _, acc := range []banking.Account{payer, payee} {
		if acc.Currency != cur {
			held = append(held, fmt.Sprintf("account %s holds %s", acc.AccountID, acc.Currency))
		}
	}
	if held != nil {
		return none, refused("/value/currency", "currency_mismatch",
			fmt.Sprintf("payer and payee must both hold %s: %s", cur, strings.Join(held, ", ")))
	}
	for _, acc := range []banking.Account{payer, payee} {
		if acc.Status != StatusActive {
			return none, engine.Errorf(http.StatusUnprocessableEntity, CodeAccountNotActive,
				"account %s at bank %s is %s; only active accounts pay and are paid", acc.AccountID, acc.BankID, acc.Status)
		}
	}
	digits := MinorDigits(cur)
	payerBalance, err := ParseAmount(payer.Balance.Amount, digits)
	if err != nil {
		return none, fmt.Errorf("mapped: balance of %s/%s: %w", payer.BankID, payer.AccountID, err)
	}
	payeeBalance, err := ParseAmount(payee.Balance.Amount, digits)
	if err != nil {
		return none, fmt.Errorf("mapped: balance of %s/%s: %w", payee.BankID, payee.AccountID, err)
	}
	payerAfter, ok := addAmounts(payerBalance, -amount)
	if !ok || payerAfter < 0 {
		return none, engine.Errorf(http.StatusUnprocessableEntity, CodeInsufficientFunds,
			"the balance of account %s is %s %s, less than the %s %s to pay",
			payer.AccountID, payer.Balance.Amount, cur, FormatAmount(amount, digits), cur)
	}
	payeeAfter, ok := addAmounts(payeeBalance, amount)
	if !ok {
		return none, engine.Errorf(http.StatusUnprocessableEntity, CodeAmountTooLarge,
			"the payment would take the balance of account %s beyond what it can hold", payee.AccountID)
	}

	now, err := c.tick(tx)
	if err != nil {
		return none, err
	}
	tr := banking.TransactionRequest{
		TransactionRequestID: uuid.NewString(), Type: typ,
		From:  banking.AccountRef{BankID: payer.BankID, AccountID: payer.AccountID},
		To:    banking.AccountRef{BankID: payee.BankID, AccountID: payee.AccountID},
		Value: banking.Amount{Currency: cur, Amount: FormatAmount(amount, digits)}, Description: body.Description,
		Status: StatusCompleted, TransactionIDs: []string{uuid.NewString(), uuid.NewString()},
		CreatedBy: createdBy, Created: now,
	}
	money := func(v int64) banking.Amount { return banking.Amount{Currency: cur, Amount: FormatAmount(v, digits)} }
	debit := banking.Transaction{TransactionID: tr.TransactionIDs[0], BankID: payer.BankID, AccountID: payer.AccountID,
		Type: typ, Description: body.Description,
		Counterparty: banking.Party{BankID: payee.BankID, AccountID: payee.AccountID, CounterpartyID: body.CounterpartyID, Name: payeeName},
		Amount:       money(-amount), BalanceAfter: money(payerAfter), Posted: now, Completed: now,
		TransactionRequestID: tr.TransactionRequestID}
	credit := banking.Transaction{TransactionID: tr.TransactionIDs[1], BankID: payee.BankID, AccountID: payee.AccountID,
		Type: typ, Description: body.Description,
		Counterparty: banking.Party{BankID: payer.BankID, AccountID: payer.AccountID, Name: payer.Label},
		Amount:       money(amount), BalanceAfter: money(payeeAfter), Posted: now, Completed: now,
		TransactionRequestID: tr.TransactionRequestID}
	payer.Balance, payee.Balance = debit.BalanceAfter, credit.BalanceAfter
	for _, t := range []banking.Transaction{debit, credit} {
		if err := post(tx, t); err != nil {
			return none, err
		}
	}
	for _, acc := range []*banking.Account{&payer, &payee} {
		if err := putJSON(tx, bucketAccounts, key(acc.BankID, acc.AccountID), acc); err != nil {
			return none, err
		}
	}
	if err := putJSON(tx, bucketRequests, key(payer.BankID, payer.AccountID, tr.TransactionRequestID), &tr); err != nil {
		return none, err
	}
	return tr, nil
}
