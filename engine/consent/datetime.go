package consent

import "regexp"

// The forms of date-time query parameters a profile may accept
// (Profile.QueryDateTimes).
const (
	// DateTimesUTCWallClock: UK Open Banking's filters (fromBookingDateTime,
	// ...). The value is a UTC date-time in ISO 8601, extended or basic,
	// with or without seconds' fractions; the time may be left out
	// (midnight); a time zone, when given, is ignored, as the standard
	// says. It reaches connectors as RFC 3339 in UTC:
	// 2017-04-05T10:43:07Z.
	DateTimesUTCWallClock = "utc-wall-clock"
)

// isoDateTime is an ISO 8601 date, then optionally a time (hours and
// minutes at least, seconds and a fraction optional), in the extended or
// the basic format, then optionally a zone: Z, ±hh, ±hhmm or ±hh:mm.
var isoDateTime = regexp.MustCompile(`^(\d{4})-?(\d{2})-?(\d{2})` +
	`(?:[Tt](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?` +
	`(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$`)

// NormaliseDateTime rewrites a date-time query value in form (a
// DateTimes constant) as RFC 3339; ok is false for a value that is not in
// the form, which is left to the document's validation to refuse.
func NormaliseDateTime(form, v string) (string, bool) {
	if form != DateTimesUTCWallClock {
		return "", false
	}
	m := isoDateTime.FindStringSubmatch(v)
	if m == nil || m[2] > "12" || m[2] == "00" || m[3] > "31" || m[3] == "00" || m[4] > "23" || m[5] > "59" || m[6] > "59" {
		return "", false
	}
	out := m[1] + "-" + m[2] + "-" + m[3] + "T" + or00(m[4]) + ":" + or00(m[5]) + ":" + or00(m[6])
	if m[7] != "" {
		out += "." + m[7]
	}
	return out + "Z", true
}

// or00 is s, or "00" when it is empty.
func or00(s string) string {
	if s == "" {
		return "00"
	}
	return s
}
