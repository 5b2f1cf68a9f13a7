package core

import (
	"net/http"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
)

// dateTimeLayouts are the forms a date-time query value is read in: RFC
// 3339, or UK Open Banking's zone-less form (read as UTC), or a date.
var dateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

// window reads the transaction window from the query parameters from and
// to, both inclusive: date-times, or dates when dates is set (to then
// covering its whole day). A value that is not one is a 400 naming it.
func (k *call) window(from, to string, dates bool) (banking.TransactionQuery, error) {
	var q banking.TransactionQuery
	var faults []engine.Violation
	kind, layouts := "date-time", dateTimeLayouts
	if dates {
		kind, layouts = "date", dateTimeLayouts[len(dateTimeLayouts)-1:]
	}
	read := func(name string) *time.Time {
		v := k.query.Get(name)
		if v == "" {
			return nil
		}
		for _, layout := range layouts {
			if t, err := time.Parse(layout, v); err == nil {
				t = t.UTC()
				return &t
			}
		}
		faults = append(faults, engine.Violation{Location: "query", Pointer: "/" + name, Code: "format",
			Message: name + " is not a " + kind})
		return nil
	}
	q.FromDate = read(from)
	if t := read(to); t != nil {
		end := t.Add(time.Nanosecond)
		if dates {
			end = t.AddDate(0, 0, 1)
		}
		q.ToDate = &end
	}
	if faults != nil {
		return q, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the transaction window is not valid", faults...)
	}
	return q, nil
}

// signed splits a core amount ("-12.50") into its magnitude and whether
// it is a debit.
func signed(a banking.Amount) (magnitude string, debit bool) {
	if rest, ok := strings.CutPrefix(a.Amount, "-"); ok {
		return rest, rest != "" && strings.Trim(rest, "0.") != ""
	}
	return strings.TrimPrefix(a.Amount, "+"), false
}
