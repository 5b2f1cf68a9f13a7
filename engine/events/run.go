package events

import (
	"context"
	"time"
)

// sweepEvery is how often the worker drops what Retention no longer
// keeps.
const sweepEvery = time.Minute

// gather is the least time between two runs of the worker that a commit
// woke: under a stream of writes it takes their events in one fan-out
// transaction instead of a write of its own after each of theirs.
const gather = 50 * time.Millisecond

// Run is the worker: it fans the outbox out into deliveries and attempts
// those due, whenever Kick or a commit wakes it (at most every gather)
// and every PollInterval, until ctx ends. Failures are logged and tried again at the next turn.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(s.o.PollInterval)
	defer tick.Stop()
	lastSweep := time.Time{}
	for {
		if now := s.now(); now.Sub(lastSweep) >= sweepEvery {
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log("events: sweep", err)
			}
			lastSweep = now
		}
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.log("events: worker", err)
		}
		ran := time.Now()
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			wait := time.NewTimer(gather - time.Since(ran))
			select {
			case <-ctx.Done():
				wait.Stop()
				return
			case <-wait.C:
			}
		case <-tick.C:
		}
	}
}

// Drain fans out every outbox row and attempts every delivery due now,
// until nothing is left to do at this moment. It returns the attempts
// made.
func (s *Service) Drain(ctx context.Context) (int, error) {
	s.working.Lock()
	defer s.working.Unlock()
	total := 0
	for ctx.Err() == nil {
		fanned, err := s.fanOut(ctx)
		if err != nil {
			return total, err
		}
		attempted, err := s.deliverDue(ctx)
		total += attempted
		if err != nil {
			return total, err
		}
		if fanned == 0 && attempted == 0 {
			break
		}
	}
	return total, ctx.Err()
}

// log reports a failure of background work.
func (s *Service) log(msg string, err error) {
	if s.o.Logger != nil {
		s.o.Logger.Error(msg, "error", err)
	}
}
