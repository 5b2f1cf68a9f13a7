package regexgen_test

import (
	"regexp"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"

	"github.com/dynapi/dynapi/internal/regexgen"
)

var patternCases = []struct {
	pattern  string
	min, max int
}{
	// UK Open Banking and Berlin Group patterns
	{`^(?!\s)(.*)(\S)$`, 0, -1},
	{`^(?!\s)(.*)(\S)$`, 1, 140},
	{`^(?!\s)(.*)(\S)$`, 35, 35},
	{`^\d{1,6}$`, 0, -1},
	{`^\d{1,6}$`, 6, 6},
	{`^[A-Z]{3,3}$`, 0, -1},
	{`^-?\d{1,13}$|^-?\d{1,13}\.\d{1,5}$`, 0, -1},
	{`^-?\d{1,13}$|^-?\d{1,13}\.\d{1,5}$`, 16, 20},
	{`^(-?\d{1,14}){1}(\.\d{1,4}){0,1}$`, 0, -1},
	{`^(-?\d{1,14}){1}(\.\d{1,4}){0,1}$`, 19, -1},
	{`^\w{0,4}$`, 1, -1},
	{`^[A-Z0-9]{18,18}[0-9]{2,2}$`, 0, -1},
	{`^[0-9]{4}[0]{2}[A-Z0-9]{12}[0-9]{2}`, 0, -1},
	{`\+[0-9]{1,3}-[0-9()+\-]{1,30}`, 0, 35},
	{`[A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}`, 11, 11},
	{`GEO:-?[0-9]{1,2}\.[0-9]{6};-?[0-9]{1,3}\.[0-9]{6}`, 0, -1},
	{`[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}`, 0, 34},
	{`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC)$`, 0, -1},
	{`^(NotKnown)$|^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$`, 10, -1},
	{`^([01]\d|2[0-3]):?([0-5]\d)$`, 5, -1},
	// alternations
	{`^(a|bb|ccc)$`, 3, 3},
	{`cat|dog`, 0, -1},
	{`^(ab|c)+$`, 7, 7},
	{`^(x|yy|zzzzz)*$`, 9, 9},
	// anchors
	{`^abc$`, 0, -1},
	{`\Aabc\z`, 0, -1},
	{`(?m)^abc$`, 0, -1},
	{`^$`, 0, 0},
	{`\bword\b`, 0, -1},
	{`[A-Z]{2}`, 10, 12}, // unanchored: padded
	{``, 3, 3},
	// classes, flags, unicode
	{`(?i)^abc$`, 0, -1},
	{`^[^a-z]{3}$`, 0, -1},
	{`^\p{L}+$`, 4, -1},
	{`^\S+@\S+\.\S+$`, 0, -1},
	{`^[[:alpha:]]+$`, 0, -1},
	{`^[\x{4e00}-\x{9fff}]{2}$`, 0, -1},
	{`^[\x00-\x1f]$`, 0, -1},
	{`(?s)^.{3}$`, 0, -1},
	// not RE2: lookarounds, backreferences, .NET/ECMAScript syntax
	{`(?<=foo)bar`, 0, -1},
	{`(?<!x)y$`, 0, -1},
	{`^(?=.*\d)(?=.*[a-z])(?=.*[A-Z]).{6,}$`, 0, -1},
	{`^(?=.*[0-9])(?=.*[A-Z])(?=.*[!@#]).{8,16}$`, 0, -1},
	{`^(?!000)\d{3}$`, 0, -1},
	{`^(?!\s)(.*)(\S)$|^$`, 0, 0},
	{`^(\w+)-\1$`, 0, -1},
	{`^(?<y>\d{2})/\k<y>$`, 0, -1},
	{`^[\u0041-\u005A]{2}$`, 0, -1},
	{`^(?>ab|a)c$`, 0, -1},
	{`^a\Z`, 0, -1},
}

func TestStringMatching(t *testing.T) {
	for _, c := range patternCases {
		t.Run(c.pattern, func(t *testing.T) {
			s, ok := regexgen.StringMatching(c.pattern, c.min, c.max)
			if !ok {
				t.Fatalf("StringMatching(%q, %d, %d) failed", c.pattern, c.min, c.max)
			}
			checkMatch(t, c.pattern, c.min, c.max, s)
			if again, _ := regexgen.StringMatching(c.pattern, c.min, c.max); again != s {
				t.Errorf("not deterministic: %q then %q", s, again)
			}
			t.Logf("%q", s)
			// Variants must match too.
			for v := 1; v < 4; v++ {
				if s, ok := regexgen.Variant(c.pattern, c.min, c.max, v); ok {
					checkMatch(t, c.pattern, c.min, c.max, s)
				}
			}
		})
	}
}

func checkMatch(t testing.TB, pattern string, minLen, maxLen int, s string) {
	t.Helper()
	if n := utf8.RuneCountInString(s); n < minLen || maxLen >= 0 && n > maxLen {
		t.Errorf("%q has %d runes, want [%d, %d]", s, n, minLen, maxLen)
	}
	if !utf8.ValidString(s) {
		t.Errorf("%q is not valid UTF-8", s)
	}
	if !testMatch(t, pattern, s) {
		t.Errorf("%q does not match %q", s, pattern)
	}
}

func TestStringMatchingImpossible(t *testing.T) {
	for _, c := range []struct {
		pattern  string
		min, max int
	}{
		{`^\d{1,6}$`, 7, -1},
		{`^.{2,3}$`, 5, -1},
		{`^a{5}$`, 0, 3},
		{`a^b`, 0, -1},
		{`[^\x00-\x{10FFFF}]`, 0, -1},
		{`(`, 0, -1},
		{`[a-`, 0, -1},
		{`abc`, 4, 2},
		{`^$`, 1, -1},
		{`(?<=a)b`, 0, 1},
	} {
		if s, ok := regexgen.StringMatching(c.pattern, c.min, c.max); ok {
			t.Errorf("StringMatching(%q, %d, %d) = %q, want failure", c.pattern, c.min, c.max, s)
		}
	}
}

func FuzzStringMatching(f *testing.F) {
	for _, c := range patternCases {
		f.Add(c.pattern, c.min, c.max)
	}
	f.Add(`(a|ab)(c|bcd)(d*)`, 3, 9)
	f.Add(`^(?:(a)|b)\1$`, 0, -1)
	f.Add(`[\d\D]{0,1000}x{0,1000}`, 40, 2000)
	f.Fuzz(func(t *testing.T, pattern string, minLen, maxLen int) {
		if len(pattern) > 256 {
			return
		}
		minLen = abs(minLen) % 300
		if maxLen = maxLen % 400; maxLen < 0 {
			maxLen = -1
		}
		s, ok := regexgen.StringMatching(pattern, minLen, maxLen)
		if !ok {
			return
		}
		checkMatch(t, pattern, minLen, maxLen, s)
	})
}

func abs(x int) int {
	if x < 0 {
		if -x < 0 {
			return 0
		}
		return -x
	}
	return x
}

// testMatch is the independent oracle: Go's regexp when it accepts the
// pattern, else regexp2 (ECMAScript, then .NET syntax) with a generous
// timeout.
func testMatch(t testing.TB, pattern, s string) bool {
	t.Helper()
	if re, err := regexp.Compile(pattern); err == nil {
		return re.MatchString(s)
	}
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		if re, err = regexp2.Compile(pattern, regexp2.None); err != nil {
			t.Fatalf("pattern %q does not compile: %v", pattern, err)
		}
	}
	re.MatchTimeout = time.Second
	ok, err := re.MatchString(s)
	return err == nil && ok
}

// TestConcurrent generates from every pattern in parallel, for the shared
// caches under -race: every goroutine gets the same strings.
func TestConcurrent(t *testing.T) {
	results := make([][]string, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			for _, c := range patternCases {
				s, _ := regexgen.StringMatching(c.pattern, c.min, c.max)
				results[i] = append(results[i], s)
			}
		})
	}
	wg.Wait()
	for i, r := range results[1:] {
		for j := range r {
			if r[j] != results[0][j] {
				t.Errorf("goroutine %d, pattern %q: %q, want %q", i+1, patternCases[j].pattern, r[j], results[0][j])
			}
		}
	}
}

// TestMatches checks the matcher the generator verifies with, on both
// engines: RE2 patterns and ECMAScript ones Go's regexp refuses.
func TestMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{`^\d{2}$`, "12", true},
		{`^\d{2}$`, "123", false},
		{`\d`, "a1b", true},
		{`^(?!000)\d{3}$`, "001", true},
		{`^(?!000)\d{3}$`, "000", false},
		{`^(\w+)-\1$`, "ab-ab", true},
		{`^(\w+)-\1$`, "ab-ba", false},
		{`(`, "(", false},
	} {
		t.Run(c.pattern+" "+c.s, func(t *testing.T) {
			if got := regexgen.Matches(c.pattern, c.s); got != c.want {
				t.Errorf("Matches(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
			}
		})
	}
}
