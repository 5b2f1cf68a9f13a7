package ratelimit

import "time"

// stored is the limits of one consumer or user as kept in the store: the
// calls allowed by period name, unlimited periods left out.
type stored struct {
	Calls map[string]int64 `json:"calls"`
	From  *time.Time       `json:"from_date,omitempty"`
	To    *time.Time       `json:"to_date,omitempty"`
}

// storedOf is l as stored.
func storedOf(l *Limits) *stored {
	rec := &stored{Calls: map[string]int64{}}
	for p := range periods {
		if l.Calls[p] > 0 {
			rec.Calls[p.String()] = l.Calls[p]
		}
	}
	if !l.From.IsZero() {
		rec.From = &l.From
	}
	if !l.To.IsZero() {
		rec.To = &l.To
	}
	return rec
}

// limits is rec as the limits in force; unknown period names (of a later
// version) are ignored.
func (rec *stored) limits() Limits {
	var l Limits
	for name, n := range rec.Calls {
		if p, ok := periodNamed(name); ok && n > 0 {
			l.Calls[p] = n
		}
	}
	if rec.From != nil {
		l.From = *rec.From
	}
	if rec.To != nil {
		l.To = *rec.To
	}
	return l
}
