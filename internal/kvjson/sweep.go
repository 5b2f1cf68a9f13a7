package kvjson

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// expiring is what SweepExpired reads of every row.
type expiring struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// SweepExpired removes the rows of each bucket whose JSON member
// expires_at is not after now (and rows that are not such JSON), at most
// max of each bucket per run, and reports how many it removed. It reads
// in one transaction and deletes in another: a row that expired is never
// used anyway, swept or not.
func SweepExpired(ctx context.Context, store engine.Store, now time.Time, max int, buckets ...string) (int, error) {
	total := 0
	for _, bucket := range buckets {
		var due []string
		if err := store.View(ctx, func(tx engine.Tx) error {
			return tx.Scan(bucket, "", func(k string, v []byte) error {
				var e expiring
				if json.Unmarshal(v, &e) != nil || !now.Before(e.ExpiresAt) {
					due = append(due, k)
				}
				if len(due) >= max {
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
		if err := store.Update(ctx, func(tx engine.Tx) error {
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
