package corestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/internal/ident"
)

// Counterparties answers getCounterparties: the payees account (bankID,
// accountID) saved, oldest first. The account must exist.
func (c *Connector) Counterparties(ctx context.Context, bankID, accountID string) ([]banking.Counterparty, error) {
	out := []banking.Counterparty{}
	err := c.store.View(ctx, func(tx engine.Tx) error {
		out = out[:0]
		if _, err := getAccount(tx, bankID, accountID); err != nil {
			return err
		}
		return tx.Scan(bucketCounterparties, key(bankID, accountID, ""), func(_ string, v []byte) error {
			cp, err := decode[banking.Counterparty](v)
			out = append(out, cp)
			return err
		})
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	slices.SortStableFunc(out, func(a, b banking.Counterparty) int {
		if n := a.CreatedAt.Compare(b.CreatedAt); n != 0 {
			return n
		}
		return strings.Compare(a.CounterpartyID, b.CounterpartyID)
	})
	return out, nil
}

// Counterparty answers getCounterparty: one payee account (bankID,
// accountID) saved, or a 404.
func (c *Connector) Counterparty(ctx context.Context, bankID, accountID, counterpartyID string) (banking.Counterparty, error) {
	var out banking.Counterparty
	err := c.store.View(ctx, func(tx engine.Tx) error {
		if _, err := getAccount(tx, bankID, accountID); err != nil {
			return err
		}
		var err error
		out, err = getCounterparty(tx, bankID, accountID, counterpartyID)
		return err
	})
	return out, engine.Surface(err)
}

// getCounterparty reads a saved payee in tx; a 404 when it does not exist.
func getCounterparty(tx engine.Tx, bankID, accountID, counterpartyID string) (banking.Counterparty, error) {
	missing := notFound("counterparty %q not found for account %q at bank %q", counterpartyID, accountID, bankID)
	if !ident.Valid(counterpartyID) {
		return banking.Counterparty{}, missing
	}
	cp, err := getJSON[banking.Counterparty](tx, bucketCounterparties, key(bankID, accountID, counterpartyID))
	if errors.Is(err, engine.ErrNotFound) {
		return cp, missing
	}
	return cp, err
}

// CreateCounterparty answers createCounterparty: it saves payee cp for
// account (bankID, accountID), which must exist. Name is required; the id
// is generated; OtherBankID and OtherAccountID are set together or not at
// all, and when set must name an existing account.
func (c *Connector) CreateCounterparty(ctx context.Context, bankID, accountID string, cp banking.Counterparty) (banking.Counterparty, error) {
	var faults []engine.Violation
	if cp.Name == "" {
		faults = append(faults, fault("body", "/name", "required", "the name is required"))
	}
	faults = checkLen(faults, "/name", cp.Name, maxName)
	faults = checkLen(faults, "/description", cp.Description, maxDescription)
	switch {
	case cp.OtherBankID != "" && cp.OtherAccountID == "":
		faults = append(faults, fault("body", "/other_account_id", "required", "other_account_id goes with other_bank_id"))
	case cp.OtherBankID == "" && cp.OtherAccountID != "":
		faults = append(faults, fault("body", "/other_bank_id", "required", "other_bank_id goes with other_account_id"))
	}
	for i, r := range cp.OtherRoutings {
		faults = checkLen(faults, fmt.Sprintf("/other_account_routings/%d/scheme", i), r.Scheme, maxName)
		faults = checkLen(faults, fmt.Sprintf("/other_account_routings/%d/address", i), r.Address, maxName)
	}
	if faults != nil {
		return banking.Counterparty{}, invalid("the counterparty cannot be saved", faults)
	}
	cp.CounterpartyID = uuid.NewString()
	cp.BankID, cp.AccountID = bankID, accountID
	err := c.store.Update(ctx, func(tx engine.Tx) error {
		if _, err := getAccount(tx, bankID, accountID); err != nil {
			return err
		}
		if cp.OtherBankID != "" {
			_, err := getAccount(tx, cp.OtherBankID, cp.OtherAccountID)
			var e *engine.Error
			if errors.As(err, &e) && e.Code == engine.CodeNotFound {
				return invalid("the counterparty cannot be saved", []engine.Violation{fault("body", "/other_account_id", "not_found",
					fmt.Sprintf("no account %q at bank %q", cp.OtherAccountID, cp.OtherBankID))})
			}
			if err != nil {
				return err
			}
		}
		now, err := c.tick(tx)
		if err != nil {
			return err
		}
		cp.CreatedAt = now
		return putJSON(tx, bucketCounterparties, key(bankID, accountID, cp.CounterpartyID), &cp)
	})
	if err != nil {
		return banking.Counterparty{}, engine.Surface(err)
	}
	return cp, nil
}
