package consentauth

import (
	"context"

	"github.com/dynapi/dynapi/internal/kvjson"
)

// Sweep removes the pushed requests, authorisations and authorization
// codes that expired, at most 10,000 of each per run, and reports how
// many. The engine's housekeeping calls it every minute; nothing expired
// is ever used, swept or not.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return kvjson.SweepExpired(ctx, s.o.Store, s.now(), maxSweep, bucketPushed, bucketSessions, bucketCodes, bucketLinks)
}
