package events

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
)

// Types of the events the engine emits. A script's own types
// (events.emit) may not start with one of the engine's namespaces
// (consent., payment., transaction., record.), so that no script can
// forge them.
const (
	TypeConsentCreated          = "consent.created"
	TypeConsentStatusChanged    = "consent.status_changed"
	TypeConsentAccountsChanged  = "consent.accounts_changed"
	TypeConsentSCAStatusChanged = "consent.sca_status_changed"
	TypePaymentStatusChanged    = "payment.status_changed"
	TypeTransactionCreated      = "transaction.created"
	TypeRecordCreated           = "record.created"
	TypeRecordUpdated           = "record.updated"
	TypeRecordDeleted           = "record.deleted"
)

// engineNamespaces are the type prefixes only the engine emits.
var engineNamespaces = []string{"consent.", "payment.", "transaction.", "record."}

// Bounds on an event.
const (
	// MaxTypeLength and MaxSubjectLength bound an event's names.
	MaxTypeLength    = 64
	MaxSubjectLength = 256
	// MaxDataBytes bounds an event's data once encoded.
	MaxDataBytes = 16 << 10
)

// Event is one change that subscribers may learn of. It is written to the
// outbox in the transaction that makes the change (Emit), so it exists if
// and only if the change was committed.
type Event struct {
	// ID names the event; Emit assigns a fresh one when empty.
	ID string `json:"id"`
	// Type is what happened: one of the Type constants or a script's own.
	Type string `json:"type"`
	// Subject names what changed, a path such as "consents/{id}" or
	// "entities/{entity}/records/{id}"; Seq orders the events of one
	// subject (1, 2, ...), assigned by Emit, since deliveries may arrive
	// out of order.
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	// BankID is the bank the change belongs to, "" for system level.
	BankID string `json:"bank_id,omitempty"`
	// ConsumerID is the TPP (consumer) the change concerns: the owner of
	// the consent or payment. Only that consumer's subscriptions receive
	// it; "" for changes that concern no TPP (bank systems only).
	ConsumerID string `json:"consumer_id,omitempty"`
	// OccurredAt is when the change was made (Emit sets it when zero).
	OccurredAt time.Time `json:"occurred_at"`
	// CorrelationID is the correlation id of the request that made the
	// change, "" for background work.
	CorrelationID string `json:"correlation_id,omitempty"`
	// Data says what changed, in the shape of Type.
	Data json.RawMessage `json:"data,omitempty"`
	// Resource, when set, is the standard resource the change is about, as
	// a UK Open Banking SET names it.
	Resource *Resource `json:"resource,omitempty"`
	// Notify, when set, is a URL this event is pushed to besides any
	// subscription's: a Berlin Group consent's TPP-Notification-URI.
	Notify string `json:"notify,omitempty"`
	// NotifyBody is the JSON body pushed to Notify, in its standard's
	// shape.
	NotifyBody json.RawMessage `json:"notify_body,omitempty"`
}

// Resource is the standard resource an event is about: UK Open Banking
// names it in a SET's subject (rid, rty, rlk).
type Resource struct {
	// ID is the resource's id (a consent id, a payment id).
	ID string `json:"id"`
	// Type is the standard's resource type: "account-access-consent",
	// "domestic-payment-consent", "domestic-payment", ...
	Type string `json:"type"`
	// Path is the resource's path as served (e.g.
	// "/open-banking/v4.0/aisp/account-access-consents/{id}"); the SET's
	// sub is the engine's public base URL followed by it.
	Path string `json:"path"`
	// Version is the standard's version of the document that serves it
	// ("4.0").
	Version string `json:"version"`
}

// Buckets of the outbox.
const (
	outboxBucket   = "event_outbox"
	subjectsBucket = "event_subjects"
)

// CodeInvalidEvent: an event a script emits is not valid (400).
const CodeInvalidEvent = "invalid_event"

// typePattern is what an event type looks like.
var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// Emit writes ev to the outbox in tx, the write transaction that makes the
// change ev reports: it is delivered if and only if tx commits. It fills
// in the ID, Seq and OccurredAt (when zero: now). The delivery worker
// finds it after the commit, woken by WakeOnCommit or Service.Kick.
func Emit(tx engine.Tx, ev *Event, now time.Time) error {
	if ev.Type == "" || ev.Subject == "" {
		return errors.New("events: an event has a type and a subject")
	}
	if ev.ID == "" {
		ev.ID = uuid.NewString()
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = now
	}
	ev.OccurredAt = ev.OccurredAt.UTC()
	var seq [8]byte
	prev, err := tx.Get(subjectsBucket, ev.Subject)
	switch {
	case err == nil && len(prev) == 8:
		ev.Seq = binary.BigEndian.Uint64(prev) + 1
	case err == nil || errors.Is(err, engine.ErrNotFound):
		ev.Seq = 1
	default:
		return err
	}
	binary.BigEndian.PutUint64(seq[:], ev.Seq)
	if err := tx.Put(subjectsBucket, ev.Subject, seq[:]); err != nil {
		return err
	}
	n, err := tx.NextSequence(outboxBucket)
	if err != nil {
		return err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("events: encode %s: %w", ev.Type, err)
	}
	return tx.Put(outboxBucket, outboxKey(n), b)
}

// outboxKey orders the outbox by emission: n in 20 decimal digits.
func outboxKey(n uint64) string {
	var b [20]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// CheckCustom refuses an event a script emits that is not valid: its
// type must look like "a.b_c" within MaxTypeLength and stay out of the
// engine's namespaces, its subject within MaxSubjectLength and its data
// within MaxDataBytes.
func CheckCustom(typ, subject string, data []byte) error {
	var faults []engine.Violation
	fault := func(ptr, code, msg string) {
		faults = append(faults, engine.Violation{Location: "event", Pointer: ptr, Code: code, Message: msg})
	}
	switch {
	case len(typ) == 0 || len(typ) > MaxTypeLength || !typePattern.MatchString(typ):
		fault("/type", "format", fmt.Sprintf("an event type is 1 to %d lower-case words joined by dots, like order.shipped", MaxTypeLength))
	case reservedType(typ):
		fault("/type", "reserved", "event types under "+strings.Join(engineNamespaces, ", ")+" are the engine's own")
	}
	if subject == "" || len(subject) > MaxSubjectLength {
		fault("/subject", "length", fmt.Sprintf("an event subject is 1 to %d bytes", MaxSubjectLength))
	}
	if len(data) > MaxDataBytes {
		fault("/data", "max_bytes", fmt.Sprintf("an event's data is at most %d bytes", MaxDataBytes))
	}
	if faults != nil {
		return engine.NewError(http.StatusBadRequest, CodeInvalidEvent, "the event cannot be emitted", faults...)
	}
	return nil
}

// reservedType tells whether typ is in one of the engine's namespaces.
func reservedType(typ string) bool {
	for _, ns := range engineNamespaces {
		if strings.HasPrefix(typ, ns) {
			return true
		}
	}
	return false
}
