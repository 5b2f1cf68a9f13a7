package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a script run (Scripts.Ran).
const (
	ScriptOK      = "ok"
	ScriptError   = "error"   // the script threw, or its result was refused
	ScriptTimeout = "timeout" // stopped at its deadline or cancelled
	ScriptMemory  = "memory"  // stopped by the memory watchdog
)

// scriptOutcomes are the outcomes labelled; Ran counts any other as an
// error.
var scriptOutcomes = []string{ScriptOK, ScriptError, ScriptTimeout, ScriptMemory}

// Scripts records JavaScript connector method runs and the waits for a
// runtime of the pool. A nil *Scripts records nothing.
type Scripts struct {
	runs     map[string]prometheus.Counter // by outcome, read only
	duration prometheus.Histogram
	waits    prometheus.Counter
	waited   prometheus.Histogram
}

func newScripts(reg *prometheus.Registry) *Scripts {
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_script_runs_total",
		Help: "JavaScript connector method runs, by outcome (ok, error, timeout, memory)."}, []string{"outcome"})
	s := &Scripts{runs: map[string]prometheus.Counter{},
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dynapi_script_run_duration_seconds",
			Help: "Time JavaScript connector method runs took, waiting for a runtime included.", Buckets: seconds}),
		waits: prometheus.NewCounter(prometheus.CounterOpts{Name: "dynapi_script_pool_waits_total",
			Help: "Script runs that found every runtime of the pool busy and waited for one."}),
		waited: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dynapi_script_pool_wait_duration_seconds",
			Help: "Time script runs waited for a runtime of the pool, when they had to.", Buckets: seconds}),
	}
	for _, o := range scriptOutcomes {
		s.runs[o] = runs.WithLabelValues(o)
	}
	reg.MustRegister(runs, s.duration, s.waits, s.waited)
	return s
}

// Scripts returns the script recorder; nil when s is nil.
func (s *Set) Scripts() *Scripts {
	if s == nil {
		return nil
	}
	return s.scripts
}

// Start is the start of a run, a Clock reading; 0 when s is nil, so that
// metrics turned off read no clock.
func (s *Scripts) Start() time.Duration {
	if s == nil {
		return 0
	}
	return Clock()
}

// Ran records a run that started at start (Start) and ended with outcome
// (ScriptOK, ...).
func (s *Scripts) Ran(outcome string, start time.Duration) {
	if s == nil {
		return
	}
	c, ok := s.runs[outcome]
	if !ok {
		c = s.runs[ScriptError]
	}
	c.Inc()
	s.duration.Observe((Clock() - start).Seconds())
}

// Waited records a run that waited d for a runtime.
func (s *Scripts) Waited(d time.Duration) {
	if s == nil {
		return
	}
	s.waits.Inc()
	s.waited.Observe(d.Seconds())
}
