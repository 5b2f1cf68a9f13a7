package ratelimit

// PeriodState is how many calls a consumer or user made in the current
// window of one period, on this node, and the seconds until the window
// resets; both -1 for a period without a limit (OBP's current_state).
type PeriodState struct {
	CallsMade      int64 `json:"calls_made"`
	ResetInSeconds int64 `json:"reset_in_seconds"`
}

// CurrentState is the PeriodState of every period, in OBP's JSON.
type CurrentState struct {
	PerSecond PeriodState `json:"per_second"`
	PerMinute PeriodState `json:"per_minute"`
	PerHour   PeriodState `json:"per_hour"`
	PerDay    PeriodState `json:"per_day"`
	PerWeek   PeriodState `json:"per_week"`
	PerMonth  PeriodState `json:"per_month"`
}

// State is the calls subject s with id made, on this node, in the current
// window of each period its limits in force limit.
func (s *Service) State(subj Subject, id string) CurrentState {
	now := s.now()
	l, c := s.inForce(subj, id, s.view.Load().set[subj][id], now)
	var states [periods]PeriodState
	for p := range periods {
		states[p] = PeriodState{CallsMade: -1, ResetInSeconds: -1}
		if l != nil && l.Calls[p] > 0 {
			states[p] = PeriodState{CallsMade: int64(c.used(p, now)), ResetInSeconds: seconds(windowEnd(p, now).Sub(now))}
		}
	}
	return CurrentState{PerSecond: states[Second], PerMinute: states[Minute], PerHour: states[Hour],
		PerDay: states[Day], PerWeek: states[Week], PerMonth: states[Month]}
}
