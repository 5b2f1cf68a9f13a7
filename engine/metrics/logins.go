package metrics

import "github.com/prometheus/client_golang/prometheus"

// Logins records failed password logins and the lockouts they start. The
// labels are the login method and the failure's reason, both from the
// engine's constants, never the user name or address. A nil *Logins
// records nothing.
type Logins struct {
	failures, lockouts *prometheus.CounterVec
}

func newLogins(reg *prometheus.Registry) *Logins {
	l := &Logins{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_login_failures_total",
			Help: "Failed password logins, by login method and reason (wrong_password, unknown_user, locked_out, ...)."},
			[]string{"method", "reason"}),
		lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynapi_login_lockouts_total",
			Help: "Lockouts of a user from an address after too many failed logins, by login method."}, []string{"method"}),
	}
	reg.MustRegister(l.failures, l.lockouts)
	return l
}

// Logins returns the login recorder; nil when s is nil.
func (s *Set) Logins() *Logins {
	if s == nil {
		return nil
	}
	return s.logins
}

// Failed records a failed login by method for reason.
func (l *Logins) Failed(method, reason string) {
	if l != nil {
		l.failures.WithLabelValues(method, reason).Inc()
	}
}

// LockedOut records a lockout started by a failed login by method.
func (l *Logins) LockedOut(method string) {
	if l != nil {
		l.lockouts.WithLabelValues(method).Inc()
	}
}
