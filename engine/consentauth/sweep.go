package consentauth

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// expiring is what Sweep reads of every swept row.
type expiring struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// Sweep removes the pushed requests, authorisations and authorization
// codes that expired, at most 10,000 of each per run, and reports how
// many. The engine's housekeeping calls it every minute; nothing expired
// is ever used, swept or not.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.now()
	total := 0
	for _, bucket := range []string{bucketPushed, bucketSessions, bucketCodes, bucketLinks} {
		var due []string
		if err := s.o.Store.View(ctx, func(tx engine.Tx) error {
			return tx.Scan(bucket, "", func(k string, v []byte) error {
				var e expiring
				if json.Unmarshal(v, &e) != nil || !now.Before(e.ExpiresAt) {
					due = append(due, k)
				}
				if len(due) >= maxSweep {
					return engine.ErrStop
				}
				return nil
			})
		}); err != nil {
			return total, err
		}
		if len(due) == 0 {
			continue
		}
		if err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
			for _, k := range due {
				if err := tx.Delete(bucket, k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return total, err
		}
		total += len(due)
	}
	return total, nil
}
