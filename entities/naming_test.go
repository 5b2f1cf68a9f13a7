package entities

import (
	"regexp"
	"strings"
	"testing"
)

// The two rewrites of OBP's snakify as regular expressions, the definition
// SnakeCase must agree with.
var (
	snakeUpperRun   = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
	snakeLowerUpper = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

func snakeCaseRegexp(name string) string {
	s := strings.ReplaceAll(name, "-", "_")
	s = snakeUpperRun.ReplaceAllString(s, "${1}_${2}")
	s = snakeLowerUpper.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(s)
}

func FuzzSnakeCase(f *testing.F) {
	for _, s := range []string{"", "LoanOffer", "FooBAR", "HTTPServer", "loan-offer", "ABCDefGHIjk", "aB", "a1B",
		"AB", "ABc", "A-Bc", "XMLHttpRequest2Go", "ÄBCdé", "already_snake", "x9Y", "ABC_Def"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := SnakeCase(s), snakeCaseRegexp(s); got != want {
			t.Fatalf("SnakeCase(%q) = %q; the regular expressions give %q", s, got, want)
		}
	})
}
