package identity

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
	"golang.org/x/time/rate"
)

// Actions of the security events in the audit log.
const (
	ActionLoginFailure = "login.failure"  // a login or password check failed; Reason says why
	ActionLoginLockout = "login.lockout"  // a user is locked out from one address
	ActionLoginSlowed  = "login.slowdown" // an address, or a user, is slowed from now
	ActionTokenIssue   = "token.issue"    // a DirectLogin token or an access token was issued
	ActionTokenRevoke  = "token.revoke"   // a DirectLogin token was revoked by its holder
)

// Reasons of failed logins, in the Reason of a login.failure event.
const (
	ReasonUnknownUser     = "unknown_user"
	ReasonWrongPassword   = "wrong_password"
	ReasonNoPassword      = "no_password" // an external user has no local password
	ReasonUserLocked      = "user_locked"
	ReasonLockedOut       = "locked_out" // too many failures from this address
	ReasonInvalidClient   = "invalid_client"
	ReasonUnknownConsumer = "unknown_consumer"
)

// SecurityEvent is a login event for the audit log: who (the user, when
// one is known; a username is never recorded for an unknown user, as it
// may be a password typed in the wrong field), through which consumer,
// from which address, why. It never holds a secret.
type SecurityEvent struct {
	Action        string
	Method        string // the login method, e.g. direct_login
	UserID        string
	Username      string
	ConsumerID    string
	Address       string
	Reason        string
	CorrelationID string
	// Details are added to the entry; secret-looking keys are redacted.
	Details map[string]any
}

// securityLog bounds the login events written: the anonymous can cause
// them at will, and each is a disk write.
type securityLog struct {
	limit   *rate.Limiter
	dropped atomic.Int64 // events left out since the last one written
}

func newSecurityLog(perMinute int) *securityLog {
	if perMinute <= 0 {
		perMinute = 120
	}
	return &securityLog{limit: rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), perMinute)}
}

// RecordSecurityEvent appends e to the audit log, within
// Options.LoginEventsPerMinute: past it the event is only counted, and
// the next entry written carries the count as "events_left_out". A failure
// to write is returned; the login it describes has happened regardless.
func (s *Service) RecordSecurityEvent(ctx context.Context, e SecurityEvent) error {
	if !s.events.limit.AllowN(s.now(), 1) {
		s.events.dropped.Add(1)
		return nil
	}
	details := make(map[string]any, len(e.Details)+4)
	for k, v := range e.Details {
		details[k] = v
	}
	for k, v := range map[string]string{"method": e.Method, "reason": e.Reason, "username": e.Username} {
		if v != "" {
			details[k] = v
		}
	}
	if n := s.events.dropped.Swap(0); n > 0 {
		details["events_left_out"] = n
	}
	if e.CorrelationID == "" {
		e.CorrelationID = correlationID(ctx)
	}
	a := audit.Actor{UserID: e.UserID, ConsumerID: e.ConsumerID, CorrelationID: e.CorrelationID, Address: e.Address}
	return s.audit.Record(context.WithoutCancel(ctx), a, e.Action, e.UserID, "", details)
}

// correlationKey keys the correlation id in a context.
type correlationKey struct{}

// WithCorrelationID returns ctx carrying the request's correlation id, for
// the security events recorded while serving it.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

func correlationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
