package ratelimit

import (
	"strconv"
	"strings"
	"time"
)

// The response fields of draft-ietf-httpapi-ratelimit-headers (-10 and
// later): Structured Field Lists whose items are a quoted policy name
// with parameters. RateLimit-Policy names the quota policies in force
// (q: the quota, w: the window in seconds, left out for a calendar
// month); RateLimit the one that refused the call (r: the calls
// remaining, t: seconds until its window resets).
const (
	HeaderRateLimitPolicy = "RateLimit-Policy"
	HeaderRateLimit       = "RateLimit"
)

// rateLimitFields are the RateLimit fields of a 429 by subject's limit of
// period refused, whose window resets in reset: every limited period of
// the subject's limits as policies, the refusing one as exhausted.
func rateLimitFields(s Subject, l *Limits, refused Period, reset time.Duration) map[string]string {
	var policies strings.Builder
	for p := range periods {
		if l.Calls[p] == 0 {
			continue
		}
		if policies.Len() > 0 {
			policies.WriteString(", ")
		}
		policies.WriteString(policyName(s, p))
		policies.WriteString(";q=")
		policies.WriteString(strconv.FormatInt(l.Calls[p], 10))
		if periodSeconds[p] > 0 {
			policies.WriteString(";w=")
			policies.WriteString(strconv.FormatInt(periodSeconds[p], 10))
		}
	}
	return map[string]string{
		HeaderRateLimitPolicy: policies.String(),
		HeaderRateLimit:       policyName(s, refused) + ";r=0;t=" + strconv.FormatInt(seconds(reset), 10),
	}
}

// policyName is the quoted name of subject's policy of period p:
// "consumer-second".
func policyName(s Subject, p Period) string { return `"` + s.String() + "-" + p.String() + `"` }
