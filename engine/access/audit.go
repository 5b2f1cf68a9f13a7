package access

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dynapi/dynapi/engine"
)

// auditKey is the key of sequence number seq: zero-padded so that key
// order is sequence order.
func auditKey(seq uint64) string { return fmt.Sprintf("%020d", seq) }

// Audit appends an entry to the audit log in a transaction of its own, for
// events that change nothing else (login events). A change is audited
// inside its own transaction instead (Tx.Audit, AuditTx), so the two are
// never apart. details must not
// hold passwords, secrets or tokens; keys that look like one ("password",
// "secret", "token") are redacted anyway.
func (s *Service) Audit(ctx context.Context, a Actor, action, target, bankID string, details map[string]any) error {
	return wrapErr(s.store.Update(ctx, func(tx engine.Tx) error {
		return s.AuditTx(tx, a, action, target, bankID, details)
	}))
}

// AuditTx appends an entry to the audit log inside tx, a read-write
// transaction, so it commits (or not) with the change it records. The
// entry's sequence number comes from the audit bucket's NextSequence and
// its time from Options.Now. Details are copied with secret-looking keys
// redacted, like Audit's.
func (s *Service) AuditTx(tx engine.Tx, a Actor, action, target, bankID string, details map[string]any) error {
	if action == "" {
		return errors.New("access: audit entry without action")
	}
	seq, err := tx.NextSequence(bucketAudit)
	if err != nil {
		return err
	}
	e := AuditEntry{Seq: seq, At: s.now().UTC(), UserID: a.UserID, ConsumerID: a.ConsumerID, Action: action,
		Target: target, BankID: bankID, Details: redact(details), CorrelationID: a.CorrelationID, Address: a.Address}
	return putJSON(tx, bucketAudit, auditKey(seq), &e)
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

// AuditLog returns up to limit entries (default 100, at most 1000) with a
// sequence number above after, oldest first. next is the after of the
// following page, 0 after the last one. A page costs its own size, not the
// entries before it.
func (s *Service) AuditLog(ctx context.Context, after uint64, limit int) (entries []AuditEntry, next uint64, err error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	from := ""
	if after > 0 {
		from = auditKey(after)
	}
	err = s.view(ctx, func(tx engine.Tx) error {
		entries, next = nil, 0
		err := scanAfter(tx, bucketAudit, from, "0123456789", func(_ string, v []byte) error {
			if len(entries) == limit {
				next = entries[len(entries)-1].Seq
				return errStop
			}
			e, err := decode[AuditEntry](v)
			if err != nil {
				return err
			}
			entries = append(entries, *e)
			return nil
		})
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return entries, next, nil
}
