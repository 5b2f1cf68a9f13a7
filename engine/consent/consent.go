package consent

import (
	"encoding/json"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// Status is a consent's canonical status. Profiles render it in their
// standard's words (Profile.Statuses).
type Status string

// The canonical statuses.
const (
	// AwaitingAuthorisation: created by the TPP, not yet authorised by the
	// customer.
	AwaitingAuthorisation Status = "awaiting_authorisation"
	// Authorised: the customer authorised it; calls may use it.
	Authorised Status = "authorised"
	// Rejected: the customer or the authorisation refused it.
	Rejected Status = "rejected"
	// Revoked: the customer or the bank revoked it.
	Revoked Status = "revoked"
	// Expired: its expiry passed.
	Expired Status = "expired"
	// Consumed: a single-use consent (a payment) was used: the payment
	// was made, and it grants nothing more (UK COND).
	Consumed Status = "consumed"
	// Deleted: the TPP deleted it. It is kept for the audit trail, and
	// answered as unknown.
	Deleted Status = "deleted"
)

// Reason says why a consent has its status (UK StatusReason).
type Reason struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
	Path        string `json:"path,omitempty"`
}

// Transition is one change of a consent's status, in its history.
type Transition struct {
	At   time.Time `json:"at"`
	From Status    `json:"from,omitempty"` // "" at creation
	To   Status    `json:"to"`
	// Actor is who changed it: tpp, psu, admin or system; ActorID the
	// consumer or user id.
	Actor         string `json:"actor"`
	ActorID       string `json:"actor_id,omitempty"`
	Reason        string `json:"reason,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
}

// Consent is one consent, as the engine keeps it.
type Consent struct {
	ID string `json:"consent_id"`
	// Kind is what the consent grants: "account-access",
	// "domestic-payment", "funds-confirmation", "domestic-vrp".
	Kind string `json:"kind"`
	// ProfileID is the profile of the document it was created through;
	// EndpointID that document; BankID the bank it was created at ("" at
	// system level).
	ProfileID  string `json:"profile_id"`
	EndpointID string `json:"dynamic_endpoint_id"`
	BankID     string `json:"bank_id,omitempty"`
	// ConsumerID is the TPP that created it and alone may use it; UserID
	// the customer (PSU), once authorised.
	ConsumerID string `json:"consumer_id"`
	UserID     string `json:"user_id,omitempty"`
	Status     Status `json:"status"`
	// Reasons explain the current status; History lists every change.
	Reasons []Reason     `json:"status_reasons,omitempty"`
	History []Transition `json:"history"`
	// Permissions are as requested, in the standard's names; Accounts
	// those the customer chose, once authorised.
	Permissions []string `json:"permissions"`
	Accounts    []string `json:"accounts,omitempty"`
	// Access narrows permissions to some of Accounts each, when they
	// differ (a Berlin Group consent naming its balances' accounts apart
	// from its transactions'): permission -> accounts. A permission it
	// does not name covers every account; nil: every permission does.
	Access map[string][]string `json:"access,omitempty"`
	// Recurring tells whether the TPP may read again and again without
	// the customer (Berlin Group recurringIndicator), FrequencyPerDay how
	// often a day then (once in all when not recurring); 0: unbounded.
	Recurring       bool `json:"recurring,omitempty"`
	FrequencyPerDay int  `json:"frequency_per_day,omitempty"`
	// ExpiresAt is when it stops being usable (nil: never); the
	// transaction window bounds what it may read (nil: open).
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	TransactionFrom *time.Time `json:"transaction_from,omitempty"`
	TransactionTo   *time.Time `json:"transaction_to,omitempty"`
	// ValidFrom is when an OBP consent starts being usable (nil: once
	// authorised); Views are the accounts it grants (OBP account_access)
	// and Entitlements the customer's roles it delegates.
	ValidFrom    *time.Time                `json:"valid_from,omitempty"`
	Views        []engine.DelegatedAccount `json:"views,omitempty"`
	Entitlements []engine.DelegatedRole    `json:"entitlements,omitempty"`
	// JWTDigests are the SHA-256 (hex) of the Consent-JWTs issued for an
	// OBP consent: a call presents one of them exactly.
	JWTDigests []string `json:"jwt_sha256,omitempty"`
	// Request is the request body as accepted, byte for byte.
	Request json.RawMessage `json:"request"`
	// Resource is the consent as its standard's events name it (UK
	// consents: type, path and version), nil for the others.
	Resource *events.Resource `json:"resource,omitempty"`
	// NotificationURI is where its status changes are pushed (Berlin
	// Group TPP-Notification-URI, accepted at creation), "" for none.
	NotificationURI string    `json:"notification_uri,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	StatusAt        time.Time `json:"status_at"`
	// Revision counts the changes; each change checks the one it read.
	Revision uint64 `json:"revision"`
}

// Visible tells whether the consent may be shown to anyone at all: a
// deleted consent is answered as unknown.
func (c *Consent) Visible() bool { return c.Status != Deleted }

// transition moves c to status to at now, recording who and why.
func (c *Consent) transition(to Status, now time.Time, actor, actorID, reason, correlationID string) {
	c.record(to, now, actor, actorID, reason, correlationID)
	c.Status, c.StatusAt = to, now
}

// record adds a change of c, to status to, to its history and counts it
// in its revision; a change that keeps the status (the customer changing
// the accounts) is recorded with to the status c has.
func (c *Consent) record(to Status, now time.Time, actor, actorID, reason, correlationID string) {
	c.History = append(c.History, Transition{At: now, From: c.Status, To: to, Actor: actor, ActorID: actorID,
		Reason: reason, CorrelationID: correlationID})
	c.Revision++
}

// renderedStatus is the status c is shown with by p: the profile's word
// for it, or, for a status the standard has no word for (v3.1.7 has no
// expired), the word of the last status before it that has one.
func (p *Profile) renderedStatus(c *Consent) string {
	if s, ok := p.Statuses[c.Status]; ok {
		return s
	}
	for i := len(c.History) - 1; i >= 0; i-- {
		if s, ok := p.Statuses[c.History[i].From]; ok {
			return s
		}
	}
	return p.Statuses[AwaitingAuthorisation]
}
