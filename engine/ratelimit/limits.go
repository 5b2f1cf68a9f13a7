package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// Period is the length of a window calls are counted in.
type Period int

// The periods of a call limit, shortest first.
const (
	Second Period = iota
	Minute
	Hour
	Day
	Week
	Month
	periods // how many there are
)

// periodNames are the periods' names in configuration ("second=5") and in
// messages.
var periodNames = [periods]string{"second", "minute", "hour", "day", "week", "month"}

// String names p: "second", ..., "month".
func (p Period) String() string { return periodNames[p] }

// MaxCalls is the largest limit of one period; more is refused (a limit
// that large is no limit: -1 says so).
const MaxCalls = 1_000_000_000

// Unlimited is the OBP value of a period without a limit.
const Unlimited = -1

// Limits are the call limits of one consumer or user. Calls[p] is how many
// calls period p allows, 0 when it has no limit (OBP's -1; a limit of no
// calls at all is refused: disable the consumer or lock the user
// instead). A set From or To bounds when the limits apply; outside, the
// default does. The zero value limits nothing.
type Limits struct {
	Calls    [periods]int64
	From, To time.Time
}

// Limited reports whether any period has a limit.
func (l *Limits) Limited() bool { return l.Calls != [periods]int64{} }

// appliesAt reports whether the limits are in force at t (From and To
// bound them when set, To excluded).
func (l *Limits) appliesAt(t time.Time) bool {
	return (l.From.IsZero() || !t.Before(l.From)) && (l.To.IsZero() || t.Before(l.To))
}

// Config is the default limits of consumers and of users without limits
// of their own. The zero value limits nothing.
type Config struct {
	Consumer, User Limits
}

// ParseLimits reads limits written as in the --consumer-call-limits flag:
// comma-separated period=calls pairs ("second=50,minute=2000,hour=-1"),
// -1 for unlimited; periods left out are unlimited, "" limits nothing.
func ParseLimits(s string) (Limits, error) {
	var l Limits
	seen := [periods]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		p, known := periodNamed(strings.TrimSpace(name))
		if !ok || !known {
			return Limits{}, fmt.Errorf("%q: %q is not period=calls with a period of %s", s, part, strings.Join(periodNames[:], ", "))
		}
		if seen[p] {
			return Limits{}, fmt.Errorf("%q: %s is given twice", s, p)
		}
		seen[p] = true
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return Limits{}, fmt.Errorf("%q: %s=%s is not a whole number", s, p, value)
		}
		if msg := checkCalls(n); msg != "" {
			return Limits{}, fmt.Errorf("%q: %s: %s", s, p, msg)
		}
		l.Calls[p] = max(n, 0)
	}
	return l, nil
}

// periodNamed is the period called name.
func periodNamed(name string) (Period, bool) {
	for p, n := range periodNames {
		if n == name {
			return Period(p), true
		}
	}
	return 0, false
}

// checkCalls is why n is not a limit of one period, "" when it is.
func checkCalls(n int64) string {
	switch {
	case n == Unlimited:
		return ""
	case n < 1:
		return "a limit is -1 (unlimited) or 1 to 1000000000 calls; to refuse every call, disable the consumer or lock the user"
	case n > MaxCalls:
		return "a limit is at most 1000000000 calls; -1 is unlimited"
	}
	return ""
}

// CodeRateLimited is the code of a call refused because its consumer or
// user reached a call limit (429).
const CodeRateLimited = "rate_limited"

// refusal is the 429 of a call over subject's limit of period p.
func refusal(s Subject, l *Limits, p Period, now time.Time) *engine.Error {
	reset := windowEnd(p, now).Sub(now)
	e := engine.Errorf(http.StatusTooManyRequests, CodeRateLimited,
		"the %s's call limit of %d per %s is reached; the %s ends in %s", s, l.Calls[p], p, p, time.Duration(seconds(reset))*time.Second)
	e.RetryAfter = reset
	e.Headers = rateLimitFields(s, l, p, reset)
	return e
}

// seconds is d in whole seconds, rounded up.
func seconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }
