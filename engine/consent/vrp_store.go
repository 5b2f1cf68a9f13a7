package consent

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// ledgerBucket holds the totals paid under each VRP consent per period of
// each of its PeriodicLimits: consent id/PeriodType/PeriodAlignment/period
// start (RFC 3339) -> the total (a rational number's text).
const (
	ledgerBucket   = "vrp_ledger"
	auditPay       = "consent.pay"
	auditPayResult = "consent.pay.result"
)

// reserveVRP records pay, a variable recurring payment under the consent it
// names made with idempotency key k of a request hashing to hash, as
// pending, and counts its amount in the total of the current period of
// every one of ctl's PeriodicLimits, in one transaction with its audit
// entry: a payment that would take a total over its limit is refused
// naming the limit, and nothing is written. pay.Ledger gets the ledger
// keys it is counted in. When the key was used already it returns that
// payment instead (prior).
func (s *Service) reserveVRP(ctx context.Context, pay *Payment, ctl *controls, k, hash string, who audit.Actor) (prior *Payment, err error) {
	amount, ok := new(big.Rat).SetString(pay.Value.Amount)
	if !ok {
		return nil, breach(controlsPath, "the amount "+pay.Value.Amount+" is not a number")
	}
	err = s.store.Update(ctx, func(tx engine.Tx) error {
		var keys []string
		prior = nil
		now := s.now().UTC()
		var err error
		if prior, err = replayedIn(tx, pay.ConsumerID, k, hash, now); err != nil || prior != nil {
			return err
		}
		c, err := s.read(tx, pay.ConsentID)
		if err != nil {
			return err
		}
		if c.Status != Authorised {
			return engine.Errorf(http.StatusForbidden, CodeConsentNotAuthorised, "consent %s is %s, not authorised", c.ID, c.Status)
		}
		from := c.CreatedAt
		if ctl.ValidFrom != nil {
			from = *ctl.ValidFrom
		}
		totals := make([]*big.Rat, len(ctl.PeriodicLimits))
		for i, l := range ctl.PeriodicLimits {
			at := fmt.Sprintf("%s/PeriodicLimits/%d", controlsPath, i)
			start, err := periodStart(l.PeriodType, l.PeriodAlignment == "Calendar", from, now)
			if err != nil {
				return breach(at, err.Error())
			}
			key := c.ID + "/" + l.PeriodType + "/" + l.PeriodAlignment + "/" + start.Format(time.RFC3339)
			total, err := ledgerTotal(tx, key)
			if err != nil {
				return err
			}
			limit, ok := new(big.Rat).SetString(l.Amount)
			if !ok || l.Currency != pay.Value.Currency {
				return breach(at, fmt.Sprintf("the %s limit is %s %s", l.PeriodType, l.Amount, l.Currency))
			}
			if total.Add(total, amount).Cmp(limit) > 0 {
				return breach(at, fmt.Sprintf("payments are at most %s %s a %s (%s alignment)", l.Amount, l.Currency, l.PeriodType, l.PeriodAlignment))
			}
			keys, totals[i] = append(keys, key), total
		}
		for i, key := range keys {
			if err := tx.Put(ledgerBucket, key, []byte(totals[i].RatString())); err != nil {
				return err
			}
		}
		pay.ID, pay.CreatedAt, pay.Ledger = uuid.NewString(), now.Truncate(time.Second), keys
		if err := putPayment(tx, pay, "", who.CorrelationID, now); err != nil {
			return err
		}
		if err := kvjson.Put(tx, paymentKeyBucket, keyOf(pay.ConsumerID, k), paymentKey{RequestHash: hash, PaymentID: pay.ID, At: now}); err != nil {
			return err
		}
		return s.audit.Append(tx, who, auditPay, c.ID, c.BankID, map[string]any{"payment_id": pay.ID,
			"amount": pay.Value.Amount, "currency": pay.Value.Currency, "ledger": keys})
	})
	return prior, err
}

// ledgerTotal is the total under key, zero when there is none.
func ledgerTotal(tx engine.Tx, key string) (*big.Rat, error) {
	raw, err := tx.Get(ledgerBucket, key)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return new(big.Rat), nil
	case err != nil:
		return nil, err
	}
	total, ok := new(big.Rat).SetString(string(raw))
	if !ok {
		return nil, fmt.Errorf("vrp ledger %s: %q is not a number", key, raw)
	}
	return total, nil
}

// settle records the core's outcome of pending payment id: paid (with the
// core's transaction request trID), or refused, which takes its amount out
// of its ledger totals again and frees its idempotency key k. A payment
// settled already (a concurrent retry) is returned as it is.
func (s *Service) settle(ctx context.Context, id string, k, trID string, paid bool) (*Payment, error) {
	var out *Payment
	err := s.store.Update(ctx, func(tx engine.Tx) error {
		pay, err := kvjson.Get[Payment](tx, paymentBucket, id)
		if err != nil {
			return err
		}
		if out = pay; pay.Status != PaymentPending {
			return nil
		}
		pay.Status, pay.TransactionRequestID = PaymentCompleted, trID
		if !paid {
			pay.Status = PaymentRejected
			if err := release(tx, pay.Ledger, pay.Value.Amount); err != nil {
				return err
			}
			if err := tx.Delete(paymentKeyBucket, keyOf(pay.ConsumerID, k)); err != nil {
				return err
			}
		}
		if err := putPayment(tx, pay, PaymentPending, "", s.now().UTC()); err != nil {
			return err
		}
		return s.audit.Append(tx, audit.Actor{ConsumerID: pay.ConsumerID}, auditPayResult, pay.ConsentID, pay.BankID,
			map[string]any{"payment_id": id, "status": pay.Status, "transaction_request_id": trID})
	})
	return out, err
}

// release takes amount out of the totals under keys.
func release(tx engine.Tx, keys []string, amount string) error {
	a, ok := new(big.Rat).SetString(amount)
	if !ok {
		return fmt.Errorf("amount %q is not a number", amount)
	}
	for _, key := range keys {
		total, err := ledgerTotal(tx, key)
		if err != nil {
			return err
		}
		if err := tx.Put(ledgerBucket, key, []byte(total.Sub(total, a).RatString())); err != nil {
			return err
		}
	}
	return nil
}
