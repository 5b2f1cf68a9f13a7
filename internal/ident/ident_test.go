package ident

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"gh.29.uk", true},
		{"0bank", true},
		{"a_b-c.d", true},
		{strings.Repeat("b", MaxLen), true},
		{strings.Repeat("b", MaxLen+1), false},
		{"", false},
		{".bank", false},
		{"-bank", false},
		{"_bank", false},
		{"bank/1", false},
		{"bank 1", false},
		{"bänk", false},
		{"bank~1", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := Valid(tt.id); got != tt.want {
				t.Fatalf("Valid(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}
