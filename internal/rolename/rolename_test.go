package rolename

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"CanGetDynamicEndpoint_getAccounts", true},
		{"Can.X", true},
		{"role-1_a.b", true},
		{"a", true},
		{strings.Repeat("r", Max), true},
		{strings.Repeat("r", Max+1), false},
		{"", false},
		{"1role", false},
		{"_role", false},
		{"role name", false},
		{"role/x", false},
		{"rôle", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.name); got != tt.want {
				t.Fatalf("Valid(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestFit(t *testing.T) {
	long := "CanCreateDynamicEndpoint_" + strings.Repeat("o", 150)
	tests := []struct {
		name, in string
		same     bool
	}{
		{"short", "CanGetDynamicEndpoint_x", true},
		{"exactly max", strings.Repeat("r", Max), true},
		{"one over", strings.Repeat("r", Max+1), false},
		{"long operationId", long, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fit(tt.in)
			if tt.same {
				if got != tt.in {
					t.Fatalf("Fit changed a name that fits: %q", got)
				}
				return
			}
			if len(got) != Max || !Valid(got) || !strings.HasPrefix(got, tt.in[:Max-1-hashLen]+"_") {
				t.Fatalf("Fit(%d bytes) = %q (%d bytes), want a valid %d-byte prefix plus hash", len(tt.in), got, len(got), Max)
			}
			if again := Fit(tt.in); again != got {
				t.Fatalf("Fit is not deterministic: %q then %q", got, again)
			}
		})
	}
	// Names sharing the kept prefix and differing only past it still differ.
	if a, b := Fit(long+"A"), Fit(long+"B"); a == b {
		t.Fatalf("two different long names fit to the same %q", a)
	}
}

func TestVerbOf(t *testing.T) {
	tests := []struct {
		method string
		want   Verb
	}{
		{"GET", Get}, {"HEAD", Get}, {"POST", Create}, {"PUT", Update},
		{"PATCH", Patch}, {"DELETE", Delete}, {"OPTIONS", Options}, {"TRACE", Trace},
		{"CONNECT", ""}, {"get", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			if got := VerbOf(tt.method); got != tt.want {
				t.Fatalf("VerbOf(%q) = %q, want %q", tt.method, got, tt.want)
			}
		})
	}
}
