package jsonschemas

import (
	"fmt"
	"regexp"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// PatternTimeout bounds one match of a pattern that needs the backtracking
// engine, so a hostile pattern cannot stall a request (ReDoS).
const PatternTimeout = 50 * time.Millisecond

// NewCompiler returns a compiler that asserts formats, knows the given
// extra formats, compiles patterns with CompilePattern and loads nothing:
// a URL it would fetch fails with "URL is not loaded: " + why.
func NewCompiler(why string, formats ...*jsonschema.Format) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range formats {
		c.RegisterFormat(f)
	}
	c.UseRegexpEngine(CompilePattern)
	c.UseLoader(refuseLoader(why))
	return c
}

// refuseLoader keeps the compiler from fetching anything: schemas must be
// self-contained, and a server must never fetch what a schema names.
type refuseLoader string

func (why refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not loaded: %s", url, string(why))
}

// CompilePattern is a jsonschema.RegexpEngine: Go's linear-time regexp when
// it accepts the pattern, else regexp2 (ECMAScript, then default syntax)
// for lookarounds and backreferences, with a match timeout of
// PatternTimeout; a timed-out match counts as no match.
func CompilePattern(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		if re, err = regexp2.Compile(pattern, regexp2.None); err != nil {
			return nil, err
		}
	}
	re.MatchTimeout = PatternTimeout
	return backtrackingPattern{re}, nil
}

// backtrackingPattern adapts regexp2 to jsonschema.Regexp. A match that
// times out counts as no match.
type backtrackingPattern struct{ re *regexp2.Regexp }

func (p backtrackingPattern) MatchString(s string) bool {
	ok, err := p.re.MatchString(s)
	return err == nil && ok
}

func (p backtrackingPattern) String() string { return p.re.String() }
