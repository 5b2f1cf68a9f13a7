package ratelimit

import (
	"strings"
	"testing"
	"time"
)

// TestParseLimits: the flag's syntax, -1 and left-out periods unlimited,
// and what it refuses.
func TestParseLimits(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    [periods]int64
		wantErr string
	}{
		{"", [periods]int64{}, ""},
		{"second=50,minute=2000,hour=-1,day=-1", [periods]int64{50, 2000}, ""},
		{" week = 7 , month=30 ", [periods]int64{0, 0, 0, 0, 7, 30}, ""},
		{"second=5,second=6", [periods]int64{}, "given twice"},
		{"fortnight=2", [periods]int64{}, "period of second"},
		{"second", [periods]int64{}, "period=calls"},
		{"second=many", [periods]int64{}, "whole number"},
		{"second=0", [periods]int64{}, "-1 (unlimited)"},
		{"day=1000000001", [periods]int64{}, "at most 1000000000"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLimits(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Calls != tc.want {
				t.Fatalf("%v %v, want %v", got.Calls, err, tc.want)
			}
		})
	}
}

// TestWindows: each period's window ends where the calendar says: weeks on
// Monday, months on the first, in UTC.
func TestWindows(t *testing.T) {
	// A Thursday, mid-afternoon.
	at := time.Date(2030, 1, 31, 15, 4, 5, 500_000_000, time.FixedZone("CET", 3600))
	for p, want := range map[Period]time.Time{
		Second: time.Date(2030, 1, 31, 14, 4, 6, 0, time.UTC),
		Minute: time.Date(2030, 1, 31, 14, 5, 0, 0, time.UTC),
		Hour:   time.Date(2030, 1, 31, 15, 0, 0, 0, time.UTC),
		Day:    time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC),
		Week:   time.Date(2030, 2, 4, 0, 0, 0, 0, time.UTC),
		Month:  time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(p.String(), func(t *testing.T) {
			if got := windowEnd(p, at); !got.Equal(want) {
				t.Errorf("window end %v, want %v", got.UTC(), want)
			}
			if windowIndex(p, want.Add(-time.Nanosecond)) != windowIndex(p, at) || windowIndex(p, want) != windowIndex(p, at)+1 {
				t.Errorf("the window does not change exactly at its end")
			}
		})
	}
}

// TestCounter: a call refused by a longer period, or given back, does not
// use up the shorter ones; a counter is idle once its windows ended.
func TestCounter(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	l := &Limits{Calls: [periods]int64{Second: 3, Minute: 2}}
	var c counter
	for i, want := range []bool{true, true, false, false} {
		if _, ok := c.take(l, at); ok != want {
			t.Fatalf("call %d: taken %v, want %v", i+1, ok, want)
		}
	}
	if used := c.used(Second, at); used != 2 {
		t.Errorf("the second counts %d calls, want the 2 the minute let through", used)
	}
	c.giveBack(l, periods, at)
	if c.used(Second, at) != 1 || c.used(Minute, at) != 1 {
		t.Errorf("after giving one back: %d and %d calls", c.used(Second, at), c.used(Minute, at))
	}
	// The minute of 03:04:05 ends in 55 seconds.
	if c.idle(at.Add(54 * time.Second)) {
		t.Error("idle while the minute runs")
	}
	if !c.idle(at.Add(55 * time.Second)) {
		t.Error("not idle once the minute ended")
	}
}
