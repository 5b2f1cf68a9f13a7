package consent

import (
	"testing"
	"time"
)

// TestPeriodStart: the start of the period holding a moment, for every
// period type, aligned to the calendar or to the consent's start.
func TestPeriodStart(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	from := at("2026-01-20T10:30:00Z")
	for _, tc := range []struct {
		kind     string
		calendar bool
		now      string
		want     string
	}{
		{"Day", true, "2026-03-11T23:59:59Z", "2026-03-11T00:00:00Z"},
		{"Week", true, "2026-03-11T12:00:00Z", "2026-03-09T00:00:00Z"}, // a Wednesday: from Monday
		{"Fortnight", true, "2026-03-11T12:00:00Z", "2026-03-02T00:00:00Z"},
		{"Month", true, "2026-03-11T12:00:00Z", "2026-03-01T00:00:00Z"},
		{"Half-year", true, "2026-09-11T12:00:00Z", "2026-07-01T00:00:00Z"},
		{"Year", true, "2026-09-11T12:00:00Z", "2026-01-01T00:00:00Z"},
		{"Day", false, "2026-01-21T10:29:59Z", "2026-01-20T10:30:00Z"},
		{"Day", false, "2026-01-21T10:30:00Z", "2026-01-21T10:30:00Z"},
		{"Week", false, "2026-02-03T10:30:00Z", "2026-02-03T10:30:00Z"},
		{"Month", false, "2026-02-20T10:29:00Z", "2026-01-20T10:30:00Z"},
		{"Month", false, "2026-03-25T00:00:00Z", "2026-03-20T10:30:00Z"},
		{"Half-year", false, "2026-07-19T00:00:00Z", "2026-01-20T10:30:00Z"},
		{"Year", false, "2027-01-20T10:30:00Z", "2027-01-20T10:30:00Z"},
	} {
		t.Run(tc.kind+" "+tc.now, func(t *testing.T) {
			got, err := periodStart(tc.kind, tc.calendar, from, at(tc.now))
			if err != nil || !got.Equal(at(tc.want)) {
				t.Errorf("periodStart(%s, calendar %v, %s) = %s, %v; want %s", tc.kind, tc.calendar, tc.now, got, err, tc.want)
			}
		})
	}
	if _, err := periodStart("Quarter", true, from, from); err == nil {
		t.Error("a Quarter period was accepted")
	}
}
