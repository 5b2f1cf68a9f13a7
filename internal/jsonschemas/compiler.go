package jsonschemas

import (
	"fmt"
	"regexp"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// NewCompiler returns a compiler that asserts formats, knows the given
// extra formats, compiles patterns with CompilePattern (each distinct
// pattern once) and loads nothing: a URL it would fetch fails with "URL is
// not loaded: " + why.
func NewCompiler(why string, formats ...*jsonschema.Format) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range formats {
		c.RegisterFormat(f)
	}
	c.UseRegexpEngine(patternCache{}.compile)
	c.UseLoader(refuseLoader(why))
	return c
}

// refuseLoader keeps the compiler from fetching anything: schemas must be
// self-contained, and a server must never fetch what a schema names.
type refuseLoader string

func (why refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not loaded: %s", url, string(why))
}

// patternCache compiles each distinct pattern of one compiler once: bank
// documents repeat the same few patterns hundreds of times. A compiler is
// used by one goroutine, so the cache needs no lock.
type patternCache map[string]jsonschema.Regexp

func (c patternCache) compile(pattern string) (jsonschema.Regexp, error) {
	if re, ok := c[pattern]; ok {
		return re, nil
	}
	re, err := CompilePattern(pattern)
	if err != nil {
		return nil, err
	}
	c[pattern] = re
	return re, nil
}

// CompilePattern is a jsonschema.RegexpEngine: Go's linear-time regexp when
// it accepts the pattern, else regexp2 (ECMAScript, then default syntax)
// for lookarounds and backreferences. Matches of a backtracking pattern
// are bounded twice: each by PatternTimeout, and all of one validation
// together by its Budget (see Schema.ValidateWithin).
func CompilePattern(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	return compileBacktracking(pattern)
}

// compileBacktracking compiles a pattern with regexp2 once per entry of
// matchTimeouts.
func compileBacktracking(pattern string) (*backtrackingPattern, error) {
	p := &backtrackingPattern{pattern: pattern}
	var options regexp2.RegexOptions = regexp2.ECMAScript
	if _, err := regexp2.Compile(pattern, options); err != nil {
		options = regexp2.None
	}
	for i, timeout := range matchTimeouts {
		re, err := regexp2.Compile(pattern, options)
		if err != nil {
			return nil, err
		}
		re.MatchTimeout = timeout
		p.byTimeout[i] = re
	}
	return p, nil
}

// isBacktracking reports whether re is a pattern CompilePattern handed to
// the backtracking engine.
func isBacktracking(re jsonschema.Regexp) bool {
	_, ok := re.(*backtrackingPattern)
	return ok
}
