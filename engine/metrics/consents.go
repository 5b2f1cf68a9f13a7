package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// maxRefusalCodes bounds the refusal codes labelled; further ones are
// counted as "other". The consent check's codes are a handful of
// constants.
const maxRefusalCodes = 32

// ConsentDecisions records the consent check's decisions on consent-checked
// calls. A nil *ConsentDecisions records nothing.
type ConsentDecisions struct {
	decisions *prometheus.CounterVec
	allowed   prometheus.Counter
	refused   sync.Map // code -> prometheus.Counter
	codes     atomic.Int32
}

func newConsentDecisions(reg *prometheus.Registry) *ConsentDecisions {
	d := &ConsentDecisions{decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_consent_decisions_total",
		Help: `Consent checks of consent-checked calls, by outcome (allowed, refused) and refusal code ("" when allowed).`},
		[]string{"outcome", "code"})}
	d.allowed = d.decisions.WithLabelValues("allowed", "")
	reg.MustRegister(d.decisions)
	return d
}

// ConsentDecisions returns the consent decision recorder; nil when s is
// nil.
func (s *Set) ConsentDecisions() *ConsentDecisions {
	if s == nil {
		return nil
	}
	return s.consents
}

// Allowed records a call the consent allowed.
func (d *ConsentDecisions) Allowed() {
	if d != nil {
		d.allowed.Inc()
	}
}

// Refused records a call refused with code, the refusal's stable error
// code.
func (d *ConsentDecisions) Refused(code string) {
	if d == nil {
		return
	}
	if c, ok := d.refused.Load(code); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	label := code
	if d.codes.Add(1) > maxRefusalCodes {
		label = "other"
	}
	c, _ := d.refused.LoadOrStore(code, d.decisions.WithLabelValues("refused", label))
	c.(prometheus.Counter).Inc()
}
