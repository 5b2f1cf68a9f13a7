package consent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// paymentBucket holds the payments made under consents: payment id ->
// Payment (JSON); paymentKeyBucket each TPP's idempotency keys:
// consumer id NUL key -> paymentKey.
const (
	paymentBucket    = "consent_payments"
	paymentKeyBucket = "consent_payment_keys"
	auditConsume     = "consent.consume"
)

// CodeConsentConsumed: the single-use consent was used for a payment
// already (403).
const CodeConsentConsumed = "consent_consumed"

// Payment is one payment made under a consent.
type Payment struct {
	ID         string `json:"payment_id"`
	ConsentID  string `json:"consent_id"`
	ConsumerID string `json:"consumer_id"`
	Kind       string `json:"kind"`
	// Status is PaymentCompleted, PaymentPending or PaymentRejected.
	Status string `json:"status"`
	// BankID and From are the core account paid from, To the one paid
	// to; TransactionRequestID the core's record of the payment.
	BankID               string     `json:"bank_id"`
	From                 string     `json:"from_account_id"`
	To                   AccountRef `json:"to"`
	TransactionRequestID string     `json:"transaction_request_id"`
	Value                Money      `json:"value"`
	Description          string     `json:"description,omitempty"`
	// Ledger are the vrp_ledger totals a VRP is counted in.
	Ledger []string `json:"ledger,omitempty"`
	// Initiation is the payment's Initiation, as posted; Instruction and
	// Risk too for a variable recurring payment.
	Initiation  json.RawMessage `json:"initiation"`
	Instruction json.RawMessage `json:"instruction,omitempty"`
	Risk        json.RawMessage `json:"risk,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	// Resource is the payment as UK events name it; its ID and the id
	// ending its Path are filled in when the payment is first stored.
	Resource *events.Resource `json:"resource,omitempty"`
}

// A payment's statuses (Payment.Status).
const (
	// PaymentCompleted: the core paid it.
	PaymentCompleted = "completed"
	// PaymentPending: its amount is counted against the consent's limits
	// and the core is paying it.
	PaymentPending = "pending"
	// PaymentRejected: the core refused it; its amount no longer counts.
	PaymentRejected = "rejected"
)

// paymentKey is what an idempotency key was used for: the payment, the
// hash of the request that made it, and when.
type paymentKey struct {
	RequestHash string    `json:"request_hash"`
	PaymentID   string    `json:"payment_id"`
	At          time.Time `json:"at"`
}

// paymentKeyLifetime is how long an idempotency key replays its payment
// (the UK standard: 24 hours); after it, the key is a new one.
const paymentKeyLifetime = 24 * time.Hour

// keyOf is the key of idempotency key k of consumer in paymentKeyBucket.
func keyOf(consumerID, k string) string { return consumerID + "\x00" + k }

// Payment returns the payment with id, or engine.ErrNotFound.
func (s *Service) Payment(ctx context.Context, id string) (*Payment, error) {
	var p *Payment
	err := s.store.View(ctx, func(tx engine.Tx) error {
		var err error
		p, err = kvjson.Get[Payment](tx, paymentBucket, id)
		return err
	})
	return p, err
}

// replayed is the payment consumerID's idempotency key k made, nil when k
// was not used in the last paymentKeyLifetime; a key used for a request
// with another hash is a 400 naming it.
func (s *Service) replayed(ctx context.Context, consumerID, k, hash string) (*Payment, error) {
	var p *Payment
	err := s.store.View(ctx, func(tx engine.Tx) error {
		var err error
		p, err = replayedIn(tx, consumerID, k, hash, s.now())
		return err
	})
	return p, err
}

// replayedIn is replayed in tx at now.
func replayedIn(tx engine.Tx, consumerID, k, hash string, now time.Time) (*Payment, error) {
	rec, err := kvjson.Get[paymentKey](tx, paymentKeyBucket, keyOf(consumerID, k))
	switch {
	case notFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	case now.Sub(rec.At) >= paymentKeyLifetime:
		return nil, nil
	case rec.RequestHash != hash:
		return nil, keyReused(k)
	}
	return kvjson.Get[Payment](tx, paymentBucket, rec.PaymentID)
}

// keyReused is the 400 of an idempotency key used for another request.
func keyReused(k string) error {
	msg := "x-idempotency-key " + k + " was used for another request"
	return engine.NewError(http.StatusBadRequest, CodeIdempotencyKeyReused, msg,
		engine.Violation{Location: "header", Pointer: "/x-idempotency-key", Code: CodeIdempotencyKeyReused, Message: msg})
}

// CodeIdempotencyKeyReused: an idempotency key was used for another
// request (400).
const CodeIdempotencyKeyReused = "idempotency_key_reused"

// consume records payment p, made under the single-use consent it names
// with idempotency key k of a request hashing to hash, and marks the
// consent consumed, with its audit entry, in one transaction. When the key
// was used meanwhile (a concurrent request), it returns that payment
// instead; a consent no longer authorised is refused.
func (s *Service) consume(ctx context.Context, p *Payment, k, hash string, who audit.Actor) (*Payment, error) {
	p.ID = uuid.NewString()
	var out *Payment
	_, err := s.update(ctx, p.ConsentID, who, auditConsume, func(tx engine.Tx, c *Consent, now time.Time) (map[string]any, error) {
		prior, err := replayedIn(tx, p.ConsumerID, k, hash, now)
		if err != nil || prior != nil {
			out = prior
			return nil, errReplay{err}
		}
		if c.Status != Authorised {
			return nil, engine.Errorf(http.StatusForbidden, CodeConsentConsumed, "consent %s is %s: it pays no more", c.ID, c.Status)
		}
		p.CreatedAt = now
		if err := putPayment(tx, p, "", who.CorrelationID, now); err != nil {
			return nil, err
		}
		if err := kvjson.Put(tx, paymentKeyBucket, keyOf(p.ConsumerID, k), paymentKey{RequestHash: hash, PaymentID: p.ID, At: now}); err != nil {
			return nil, err
		}
		c.transition(Consumed, now, "tpp", p.ConsumerID, "payment "+p.ID, who.CorrelationID)
		out = p
		return map[string]any{"payment_id": p.ID, "transaction_request_id": p.TransactionRequestID}, nil
	})
	if r := (errReplay{}); errors.As(err, &r) {
		return out, r.err
	}
	return out, err
}

// errReplay ends consume's transaction without writing: the payment was
// made already (err nil), or reading it failed.
type errReplay struct{ err error }

func (e errReplay) Error() string { return "replayed" }

// putPayment stores p, which had status from ("" when new), and emits
// payment.status_changed in tx when its status is new.
func putPayment(tx engine.Tx, p *Payment, from, correlationID string, now time.Time) error {
	if r := p.Resource; r != nil && r.ID == "" {
		r.ID, r.Path = p.ID, strings.TrimSuffix(r.Path, "/")+"/"+p.ID
	}
	if err := kvjson.Put(tx, paymentBucket, p.ID, p); err != nil {
		return err
	}
	if p.Status == from {
		return nil
	}
	data, err := json.Marshal(map[string]any{"payment_id": p.ID, "consent_id": p.ConsentID, "kind": p.Kind, "from": from,
		"to": p.Status, "amount": p.Value.Amount, "currency": p.Value.Currency, "transaction_request_id": p.TransactionRequestID})
	if err != nil {
		return err
	}
	return events.Emit(tx, &events.Event{Type: events.TypePaymentStatusChanged, Subject: "payments/" + p.ID, BankID: p.BankID,
		ConsumerID: p.ConsumerID, CorrelationID: correlationID, Data: data, Resource: p.Resource}, now)
}
