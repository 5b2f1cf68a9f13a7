package ratelimit

import "time"

// Windows are fixed and aligned to the clock in UTC: a second's window is
// that second, a day's that day, a week's from Monday 00:00, a month's the
// calendar month. Every caller's window of a period starts and ends at
// once, so a window is named by one number and checked with one compare.

// periodSeconds is the length of the periods of fixed length.
var periodSeconds = [periods]int64{1, 60, 3600, 86400, 7 * 86400, 0}

// epochMonday shifts the Unix epoch (a Thursday) to count weeks from
// Mondays.
const epochMonday = 3 * 86400

// windowIndex numbers the window of period p that t falls in. The
// divisors are constants, which the compiler turns into multiplications:
// this runs for every limited period of every limited call.
func windowIndex(p Period, t time.Time) int64 {
	sec := t.Unix()
	switch p {
	case Second:
		return sec
	case Minute:
		return sec / 60
	case Hour:
		return sec / 3600
	case Day:
		return sec / 86400
	case Week:
		return (sec + epochMonday) / (7 * 86400)
	}
	y, m, _ := t.UTC().Date()
	return int64(y)*12 + int64(m) - 1
}

// windowEnd is when the window of period p that now falls in ends.
func windowEnd(p Period, now time.Time) time.Time {
	switch p {
	case Month:
		y, m, _ := now.UTC().Date()
		return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	case Week:
		return time.Unix((windowIndex(Week, now)+1)*periodSeconds[Week]-epochMonday, 0)
	}
	return time.Unix((windowIndex(p, now)+1)*periodSeconds[p], 0)
}
