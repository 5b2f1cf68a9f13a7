package consent

import (
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// KindBerlinAIS is what a Berlin Group account information consent grants
// (Consent.Kind).
const KindBerlinAIS = "bg-ais"

// supersede expires, in tx, the other authorised recurring consents the
// customer of c, a recurring Berlin Group consent being authorised at now,
// gave its TPP: the standard lets a customer hold one at a time per TPP
// (NextGenPSD2 1.3.11, createConsent). Each is audited as consent.expire
// naming c. It returns ids with those it expired appended, for the caller
// to forget once the transaction is committed.
func (s *Service) supersede(tx engine.Tx, c *Consent, now time.Time, who audit.Actor, ids []string) ([]string, error) {
	if c.Kind != KindBerlinAIS || !c.Recurring {
		return ids, nil
	}
	prefix := c.UserID + "/"
	var keys []string
	err := tx.ScanFrom(userBucket, prefix, func(key string, _ []byte) error {
		if !strings.HasPrefix(key, prefix) || len(keys) == maxScan {
			return engine.ErrStop
		}
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return ids, err
	}
	for _, key := range keys {
		id := key[strings.LastIndexByte(key, '/')+1:]
		if id == c.ID {
			continue
		}
		old, err := s.read(tx, id)
		if notFound(err) {
			continue
		}
		if err != nil {
			return ids, err
		}
		if old.Kind != c.Kind || old.ConsumerID != c.ConsumerID || old.BankID != c.BankID || !old.Recurring || old.Status != Authorised {
			continue
		}
		if err := unindex(tx, old); err != nil {
			return ids, err
		}
		since := len(old.History)
		old.transition(Expired, now, "system", "", "superseded by consent "+c.ID, who.CorrelationID)
		if err := kvjson.Put(tx, bucket, id, old); err != nil {
			return ids, err
		}
		if err := s.emitChanges(tx, old, since, old.Accounts, now); err != nil {
			return ids, err
		}
		if err := s.audit.Append(tx, who, auditExpire, id, old.BankID,
			map[string]any{"superseded_by": c.ID, "revision": old.Revision}); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}
