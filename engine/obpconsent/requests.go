package obpconsent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// bucketRequests holds the consent requests: id -> Request.
const bucketRequests = "obp_consent_requests"

// Request is a consent request a consumer started (OBP's
// ConsentRequestResponseJson): the consent's body, which a customer turns
// into a consent of theirs for that consumer, once, within
// RequestLifetime.
type Request struct {
	ID         string          `json:"consent_request_id"`
	Payload    json.RawMessage `json:"payload"`
	ConsumerID string          `json:"consumer_id"`
	// ConsentID is the consent made from it, once made.
	ConsentID string    `json:"consent_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateRequest stores a consent request of consumerID (a client
// credentials caller) with body b, raw as posted: b names its bank
// (bank_id), and its shape is checked now, the customer's accounts and
// roles when a customer makes the consent.
func (s *Service) CreateRequest(ctx context.Context, consumerID string, who audit.Actor, b *Body, raw []byte) (*Request, error) {
	if consumerID == "" {
		return nil, engine.NewError(http.StatusForbidden, engine.CodeForbidden, "a consent request is started by a consumer's client credentials")
	}
	if b.BankID == "" || len(b.BankID) > maxID {
		return nil, invalid([]engine.Violation{{Location: "body", Pointer: "/bank_id", Code: "required", Message: "the bank of the consent"}})
	}
	if b.ConsumerID != "" && b.ConsumerID != consumerID {
		return nil, invalid([]engine.Violation{{Location: "body", Pointer: "/consumer_id", Code: "enum", Message: "the consumer asking"}})
	}
	if _, err := s.check(b, b.BankID, MethodImplicit, s.now()); err != nil {
		return nil, err
	}
	now := s.now()
	r := &Request{ID: consent.NewID(), Payload: json.RawMessage(raw), ConsumerID: consumerID, CreatedAt: now,
		ExpiresAt: now.Add(RequestLifetime)}
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error { return kvjson.Put(tx, bucketRequests, r.ID, r) })
	return r, err
}

// GetRequest returns consumerID's consent request id; another
// consumer's is a 404.
func (s *Service) GetRequest(ctx context.Context, consumerID, id string) (*Request, error) {
	var r *Request
	err := s.o.Store.View(ctx, func(tx engine.Tx) error {
		var err error
		r, err = kvjson.Get[Request](tx, bucketRequests, id)
		return err
	})
	if errors.Is(err, engine.ErrNotFound) || err == nil && r.ConsumerID != consumerID {
		return nil, unknownRequest(id)
	}
	return r, err
}

// CreateFromRequest makes the consent of request id for the customer p,
// accepted by the code sent by scaMethod: as Create with the request's
// body, bank and consumer. A request is used once, within
// RequestLifetime.
func (s *Service) CreateFromRequest(ctx context.Context, p *engine.Principal, who audit.Actor, id, scaMethod string) (*Created, error) {
	var r *Request
	err := s.o.Store.View(ctx, func(tx engine.Tx) error {
		var err error
		r, err = kvjson.Get[Request](tx, bucketRequests, id)
		return err
	})
	if errors.Is(err, engine.ErrNotFound) || err == nil && (r.ConsentID != "" || !s.now().Before(r.ExpiresAt)) {
		return nil, unknownRequest(id)
	}
	if err != nil {
		return nil, err
	}
	var b Body
	if err := json.Unmarshal(r.Payload, &b); err != nil {
		return nil, engine.Internal(err)
	}
	return s.create(ctx, p, who, b.BankID, scaMethod, &b, r.Payload, r.ConsumerID, func(tx engine.Tx, c *consent.Consent) error {
		cur, err := kvjson.Get[Request](tx, bucketRequests, id)
		if err != nil || cur.ConsentID != "" {
			return unknownRequest(id) // used meanwhile
		}
		cur.ConsentID = c.ID
		return kvjson.Put(tx, bucketRequests, id, cur)
	})
}

// unknownRequest is the 404 for a consent request that is not there, not
// the caller's, used or too old.
func unknownRequest(id string) *engine.Error {
	return engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no open consent request "+id)
}

// maxSweep bounds the rows one Sweep removes per bucket.
const maxSweep = 10_000

// Sweep removes the challenges and consent requests that expired, at
// most maxSweep of each per run, and reports how many. The engine's
// housekeeping calls it every minute; nothing expired is ever used, swept
// or not.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return kvjson.SweepExpired(ctx, s.o.Store, s.o.Now(), maxSweep, bucketChallenges, bucketRequests)
}
