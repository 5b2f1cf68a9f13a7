package corestore

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Errors of ParseAmount, matched with errors.Is.
var (
	// ErrAmountSyntax reports a string that is not a decimal number of the
	// form [-]digits[.digits].
	ErrAmountSyntax = errors.New("mapped: not a decimal amount")
	// ErrAmountPrecision reports more decimal places than the currency has.
	ErrAmountPrecision = errors.New("mapped: too many decimal places for the currency")
	// ErrAmountRange reports an amount too large to hold in minor units.
	ErrAmountRange = errors.New("mapped: amount out of range")
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not 2.
var minorDigits = map[string]int{
	"JPY": 0, "KRW": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// MinorDigits returns how many decimal places amounts in currency have: 0
// for JPY and KRW, 3 for BHD, KWD, OMR, JOD and TND, 2 for the others.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// validCurrency tells whether c is three upper-case ASCII letters.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range len(c) {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// ParseAmount parses a decimal string such as "10.50" or "-3" into minor
// units of a currency with digits decimal places ("10.50" with 2 digits is
// 1050). It accepts an optional leading '-', at least one digit before an
// optional '.', and at least one and at most digits digits after it. It never
// goes through floating point and fails with ErrAmountRange rather than
// overflow int64.
func ParseAmount(s string, digits int) (int64, error) {
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, rest
	}
	whole, frac, dot := strings.Cut(s, ".")
	if !allDigits(whole) || dot && !allDigits(frac) {
		return 0, ErrAmountSyntax
	}
	if len(frac) > digits {
		return 0, ErrAmountPrecision
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // -9223372036854775808 fits
	}
	var v uint64
	add := func(d uint64) bool {
		if v > (limit-d)/10 {
			return false
		}
		v = v*10 + d
		return true
	}
	for i := range len(whole) {
		if !add(uint64(whole[i] - '0')) {
			return 0, ErrAmountRange
		}
	}
	for i := range digits {
		d := uint64(0)
		if i < len(frac) {
			d = uint64(frac[i] - '0')
		}
		if !add(d) {
			return 0, ErrAmountRange
		}
	}
	if neg {
		return int64(-v), nil // two's complement: also right for 1<<63
	}
	return int64(v), nil
}

// allDigits tells whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatAmount formats minor units v of a currency with digits decimal
// places, always with exactly digits decimals: 1050 with 2 digits is
// "10.50", -5 is "-0.05", 7 with 0 digits is "7".
func FormatAmount(v int64, digits int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// addAmounts returns a+b, or false if the sum overflows int64.
func addAmounts(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}
