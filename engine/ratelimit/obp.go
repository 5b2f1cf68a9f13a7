package ratelimit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// CallLimitsBody is the Open Bank Project's call limits JSON, as an admin
// sends it: each per_*_call_limit a whole number, as a string ("5") or a
// number (5), -1 for unlimited, a period left out unlimited; from_date and
// to_date (RFC 3339, optional) bound when the limits apply.
type CallLimitsBody struct {
	PerSecond json.RawMessage `json:"per_second_call_limit"`
	PerMinute json.RawMessage `json:"per_minute_call_limit"`
	PerHour   json.RawMessage `json:"per_hour_call_limit"`
	PerDay    json.RawMessage `json:"per_day_call_limit"`
	PerWeek   json.RawMessage `json:"per_week_call_limit"`
	PerMonth  json.RawMessage `json:"per_month_call_limit"`
	FromDate  json.RawMessage `json:"from_date"`
	ToDate    json.RawMessage `json:"to_date"`
}

// CallLimitsJSON is limits in OBP's JSON, each period's limit a string,
// "-1" for unlimited.
type CallLimitsJSON struct {
	PerSecond string     `json:"per_second_call_limit"`
	PerMinute string     `json:"per_minute_call_limit"`
	PerHour   string     `json:"per_hour_call_limit"`
	PerDay    string     `json:"per_day_call_limit"`
	PerWeek   string     `json:"per_week_call_limit"`
	PerMonth  string     `json:"per_month_call_limit"`
	FromDate  *time.Time `json:"from_date,omitempty"`
	ToDate    *time.Time `json:"to_date,omitempty"`
}

// JSONOf is l in OBP's JSON.
func JSONOf(l Limits) CallLimitsJSON {
	calls := [periods]string{}
	for p := range periods {
		calls[p] = strconv.FormatInt(l.Calls[p], 10)
		if l.Calls[p] == 0 {
			calls[p] = "-1"
		}
	}
	out := CallLimitsJSON{PerSecond: calls[Second], PerMinute: calls[Minute], PerHour: calls[Hour],
		PerDay: calls[Day], PerWeek: calls[Week], PerMonth: calls[Month]}
	if !l.From.IsZero() {
		out.FromDate = &l.From
	}
	if !l.To.IsZero() {
		out.ToDate = &l.To
	}
	return out
}

// Limits reads the body as limits, or refuses it with a 400 naming every
// fault: a limit that is not a whole number, 0, or over MaxCalls; no
// limit at all; to_date not after from_date.
func (b *CallLimitsBody) Limits() (Limits, error) {
	var l Limits
	var faults []engine.Violation
	given := false
	for p, raw := range [periods]json.RawMessage{b.PerSecond, b.PerMinute, b.PerHour, b.PerDay, b.PerWeek, b.PerMonth} {
		if raw == nil || bytes.Equal(raw, []byte("null")) {
			continue
		}
		given = true
		pointer := "/per_" + Period(p).String() + "_call_limit"
		n, err := wholeNumber(raw)
		if err != nil {
			faults = append(faults, engine.Violation{Location: "body", Pointer: pointer, Code: "type",
				Message: "a call limit is a whole number, as a string or a number"})
			continue
		}
		if msg := checkCalls(n); msg != "" {
			faults = append(faults, engine.Violation{Location: "body", Pointer: pointer, Code: "range", Message: msg})
			continue
		}
		l.Calls[p] = max(n, 0)
	}
	if !given {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "", Code: "required",
			Message: "give at least one of per_second_call_limit, per_minute_call_limit, per_hour_call_limit, per_day_call_limit, per_week_call_limit, per_month_call_limit"})
	}
	l.From = date(b.FromDate, "/from_date", &faults)
	l.To = date(b.ToDate, "/to_date", &faults)
	if !l.From.IsZero() && !l.To.IsZero() && !l.To.After(l.From) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/to_date", Code: "range",
			Message: "to_date must be after from_date"})
	}
	if faults != nil {
		return Limits{}, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the call limits are not valid", faults...)
	}
	return l, nil
}

// date reads raw, an RFC 3339 date-time string or null, adding a fault
// at pointer when it is neither; zero for none.
func date(raw json.RawMessage, pointer string, faults *[]engine.Violation) time.Time {
	var t *time.Time
	if raw != nil && json.Unmarshal(raw, &t) != nil {
		*faults = append(*faults, engine.Violation{Location: "body", Pointer: pointer, Code: "format",
			Message: "a date is an RFC 3339 date-time: 2030-01-31T00:00:00Z"})
		return time.Time{}
	}
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// wholeNumber reads raw, a JSON string or number, as a whole number.
func wholeNumber(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strconv.ParseInt(s, 10, 64)
	}
	return strconv.ParseInt(string(raw), 10, 64)
}
