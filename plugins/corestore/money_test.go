package corestore

import (
	"errors"
	"math"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in     string
		digits int
		want   int64
		err    error
	}{
		{"0", 2, 0, nil},
		{"10", 2, 1000, nil},
		{"10.5", 2, 1050, nil},
		{"10.50", 2, 1050, nil},
		{"0.01", 2, 1, nil},
		{"007.10", 2, 710, nil},
		{"-30.00", 2, -3000, nil},
		{"-0", 2, 0, nil},
		{"1000", 0, 1000, nil},
		{"1.234", 3, 1234, nil},
		{"1.2", 3, 1200, nil},
		{"92233720368547758.07", 2, math.MaxInt64, nil},
		{"-92233720368547758.08", 2, math.MinInt64, nil},
		{"9223372036854775807", 0, math.MaxInt64, nil},
		{"000000000000000000000000000001", 2, 100, nil},

		{"92233720368547758.08", 2, 0, ErrAmountRange},
		{"-92233720368547758.09", 2, 0, ErrAmountRange},
		{"9223372036854775808", 0, 0, ErrAmountRange},
		{"99999999999999999999999", 2, 0, ErrAmountRange},
		{"92233720368547759", 2, 0, ErrAmountRange},

		{"10.505", 2, 0, ErrAmountPrecision},
		{"100.0", 0, 0, ErrAmountPrecision},
		{"1.2345", 3, 0, ErrAmountPrecision},

		{"", 2, 0, ErrAmountSyntax},
		{"-", 2, 0, ErrAmountSyntax},
		{".5", 2, 0, ErrAmountSyntax},
		{"5.", 2, 0, ErrAmountSyntax},
		{"+1", 2, 0, ErrAmountSyntax},
		{"--1", 2, 0, ErrAmountSyntax},
		{"1,00", 2, 0, ErrAmountSyntax},
		{"1e3", 2, 0, ErrAmountSyntax},
		{" 1", 2, 0, ErrAmountSyntax},
		{"1 ", 2, 0, ErrAmountSyntax},
		{"1.2.3", 2, 0, ErrAmountSyntax},
		{"0x10", 2, 0, ErrAmountSyntax},
		{"NaN", 2, 0, ErrAmountSyntax},
		{"１", 2, 0, ErrAmountSyntax},
		{"1.５", 2, 0, ErrAmountSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAmount(tc.in, tc.digits)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("ParseAmount(%q, %d) error %v, want %v", tc.in, tc.digits, err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("ParseAmount(%q, %d) = %d, want %d", tc.in, tc.digits, got, tc.want)
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		v      int64
		digits int
		want   string
	}{
		{0, 2, "0.00"},
		{1, 2, "0.01"},
		{-5, 2, "-0.05"},
		{1050, 2, "10.50"},
		{-3000, 2, "-30.00"},
		{7, 0, "7"},
		{-7, 0, "-7"},
		{1234, 3, "1.234"},
		{5, 3, "0.005"},
		{math.MaxInt64, 2, "92233720368547758.07"},
		{math.MinInt64, 2, "-92233720368547758.08"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatAmount(tc.v, tc.digits); got != tc.want {
				t.Fatalf("FormatAmount(%d, %d) = %q, want %q", tc.v, tc.digits, got, tc.want)
			}
			back, err := ParseAmount(tc.want, tc.digits)
			if err != nil || back != tc.v {
				t.Fatalf("ParseAmount(%q) = %d, %v; want %d back", tc.want, back, err, tc.v)
			}
		})
	}
}

func TestMinorDigits(t *testing.T) {
	for cur, want := range map[string]int{"EUR": 2, "GBP": 2, "USD": 2, "JPY": 0, "KRW": 0,
		"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3} {
		if got := MinorDigits(cur); got != want {
			t.Errorf("MinorDigits(%s) = %d, want %d", cur, got, want)
		}
	}
}

func TestAddAmounts(t *testing.T) {
	tests := []struct {
		a, b, want int64
		ok         bool
	}{
		{1, 2, 3, true},
		{5, -7, -2, true},
		{math.MaxInt64, 1, 0, false},
		{math.MinInt64, -1, 0, false},
		{math.MaxInt64, -1, math.MaxInt64 - 1, true},
	}
	for _, tc := range tests {
		if got, ok := addAmounts(tc.a, tc.b); got != tc.want || ok != tc.ok {
			t.Errorf("addAmounts(%d, %d) = %d, %v; want %d, %v", tc.a, tc.b, got, ok, tc.want, tc.ok)
		}
	}
}
