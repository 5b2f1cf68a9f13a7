// Package audit is the audit log: who changed what, and the security
// events of logins, in an engine.Store bucket ordered by sequence number.
// A change appends its entry inside its own transaction (Log.Append), so
// the change and its entry commit together or not at all.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// bucket holds the entries: %020d sequence -> Entry. Its name predates
// this package and is kept so existing stores read on.
const bucket = "access_audit"

// Actor is who makes a change, for authorisation and the audit log. An
// empty UserID is the system itself (bootstrap, internal housekeeping).
type Actor struct {
	UserID, ConsumerID, CorrelationID string
	// Address is the client address the change came from.
	Address string
}

// Entry records one management or entitlement change, or a security
// event (a login failure, a lockout, a token issued or revoked).
type Entry struct {
	Seq           uint64         `json:"seq"`
	At            time.Time      `json:"at"`
	UserID        string         `json:"user_id"`
	ConsumerID    string         `json:"consumer_id,omitempty"`
	Action        string         `json:"action"` // e.g. "dynamic_endpoint.create"
	Target        string         `json:"target"` // e.g. the id changed
	BankID        string         `json:"bank_id,omitempty"`
	Details       map[string]any `json:"details,omitempty"`
	CorrelationID string         `json:"correlation_id"`
	// Address is the client address the change or event came from.
	Address string `json:"address,omitempty"`
}

// Log is the audit log of a store. It is safe for concurrent use.
type Log struct {
	store engine.Store
	now   func() time.Time
}

// New returns the audit log kept in store, timing entries with now
// (time.Now when nil).
func New(store engine.Store, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{store: store, now: now}
}

// key is the key of sequence number seq: zero-padded so that key order is
// sequence order.
func key(seq uint64) string { return fmt.Sprintf("%020d", seq) }

// Record appends an entry in a transaction of its own, for events that
// change nothing else (login events). A change is audited inside its own
// transaction instead (Append), so the two are never apart. details must
// not hold passwords, secrets or tokens; keys that look like one
// ("password", "secret", "token") are redacted anyway.
func (l *Log) Record(ctx context.Context, a Actor, action, target, bankID string, details map[string]any) error {
	return engine.Surface(l.store.Update(ctx, func(tx engine.Tx) error {
		return l.Append(tx, a, action, target, bankID, details)
	}))
}

// Append appends an entry inside tx, a read-write transaction, so it
// commits (or not) with the change it records. The entry's sequence number
// comes from the bucket's NextSequence and its time from the log's clock.
// Details are copied with secret-looking keys redacted, like Record's.
func (l *Log) Append(tx engine.Tx, a Actor, action, target, bankID string, details map[string]any) error {
	if action == "" {
		return errors.New("audit: entry without action")
	}
	seq, err := tx.NextSequence(bucket)
	if err != nil {
		return err
	}
	e := Entry{Seq: seq, At: l.now().UTC(), UserID: a.UserID, ConsumerID: a.ConsumerID, Action: action,
		Target: target, BankID: bankID, Details: redact(details), CorrelationID: a.CorrelationID, Address: a.Address}
	return kvjson.Put(tx, bucket, key(seq), &e)
}

// redact copies details, replacing values under secret-looking keys.
func redact(details map[string]any) map[string]any {
	if details == nil {
		return nil
	}
	out := make(map[string]any, len(details))
	for k, v := range details {
		lk := strings.ToLower(k)
		switch {
		case strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token"):
			out[k] = "[redacted]"
		default:
			if m, ok := v.(map[string]any); ok {
				v = redact(m)
			}
			out[k] = v
		}
	}
	return out
}

// List returns up to limit entries (default 100, at most 1000) with a
// sequence number above after, oldest first. next is the after of the
// following page, 0 after the last one. A page costs its own size, not the
// entries before it.
func (l *Log) List(ctx context.Context, after uint64, limit int) (entries []Entry, next uint64, err error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	from := ""
	if after > 0 {
		from = key(after)
	}
	err = l.store.View(ctx, func(tx engine.Tx) error {
		entries, next = nil, 0
		err := kvjson.ScanAfter(tx, bucket, from, "0123456789", func(_ string, v []byte) error {
			if len(entries) == limit {
				next = entries[len(entries)-1].Seq
				return kvjson.ErrStop
			}
			e, err := kvjson.Decode[Entry](v)
			if err != nil {
				return err
			}
			entries = append(entries, *e)
			return nil
		})
		if errors.Is(err, kvjson.ErrStop) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, 0, engine.Surface(err)
	}
	return entries, next, nil
}
