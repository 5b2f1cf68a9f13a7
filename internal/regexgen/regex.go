// Package regexgen makes strings that match a regular expression, as JSON
// Schema's "pattern" keyword and OpenAPI documents write them: ECMAScript
// syntax, lookarounds and backreferences included, searched rather than
// anchored, within rune length limits. Patterns Go's RE2 engine accepts are
// walked directly; others are rewritten into an RE2 approximation that
// proposes candidates, each checked against the original pattern with
// regexp2. Results are deterministic and cached; all functions are safe for
// concurrent use.
package regexgen

import (
	"math/bits"
	"regexp"
	"regexp/syntax"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// StringMatching returns a deterministic string that matches the regular
// expression pattern (searched, as JSON Schema's "pattern" is) and has between
// minLen and maxLen runes (maxLen < 0 means no maximum), or ok=false if it
// cannot.
//
// Patterns Go's RE2 engine accepts are walked directly. Patterns it rejects
// (lookarounds, backreferences, atomic groups, \uXXXX escapes...) are
// rewritten into an RE2 approximation to generate candidates, and every
// candidate is checked against the original pattern with regexp2.
func StringMatching(pattern string, minLen, maxLen int) (string, bool) {
	return Variant(pattern, minLen, maxLen, 0)
}

const (
	// lenCap bounds the lengths the walker reasons about.
	lenCap = 4096
	// walkerWords bounds the memory (in 64-bit words) one walker may use
	// for length sets.
	walkerWords = 1 << 21
	// lenSlack is how far beyond the minimum length the walker looks first.
	lenSlack = 64
	// regexp2Timeout bounds a single backtracking match.
	regexp2Timeout = 100 * time.Millisecond
	cacheLimit     = 4096
)

type matchKey struct {
	pattern           string
	min, max, variant int
}

type matchResult struct {
	s  string
	ok bool
}

var (
	matchCacheMu sync.Mutex
	matchCache   = map[matchKey]matchResult{}
)

// Variant is StringMatching with a variant number: variant k > 0 asks for
// a (usually) different string than variant 0, to build unique items.
func Variant(pattern string, minLen, maxLen, variant int) (string, bool) {
	if minLen < 0 {
		minLen = 0
	}
	if maxLen >= 0 && maxLen < minLen {
		return "", false
	}
	key := matchKey{pattern, minLen, maxLen, variant}
	matchCacheMu.Lock()
	r, hit := matchCache[key]
	matchCacheMu.Unlock()
	if hit {
		return r.s, r.ok
	}
	s, ok := computeMatch(pattern, minLen, maxLen, variant)
	matchCacheMu.Lock()
	if len(matchCache) >= cacheLimit {
		clear(matchCache)
	}
	matchCache[key] = matchResult{s, ok}
	matchCacheMu.Unlock()
	return s, ok
}

func computeMatch(pattern string, minLen, maxLen, variant int) (string, bool) {
	m := compilePattern(pattern)
	if m == nil {
		return "", false
	}
	for _, tree := range m.trees {
		if s, ok := matchTree(m, tree, minLen, maxLen, variant); ok {
			return s, true
		}
	}
	return "", false
}

func matchTree(m *compiled, tree *syntax.Regexp, minLen, maxLen, variant int) (string, bool) {
	accept := func(s string) bool {
		n := utf8.RuneCountInString(s)
		return n >= minLen && (maxLen < 0 || n <= maxLen) && m.match(s)
	}
	shortest := minLength(tree)
	if maxLen >= 0 && shortest > maxLen {
		return "", false
	}
	base := max(minLen, shortest)
	if base > lenCap {
		return "", false
	}
	strategies := []int{modePlain, modeRotate, modeDigits, modeUpper, modePunct}
	windows := []int{base + lenSlack, base + 2048}
	var tried int
	for wi, n := range windows {
		n = min(n, lenCap)
		if maxLen >= 0 {
			n = min(n, maxLen)
		}
		if wi > 0 && n <= tried {
			break
		}
		tried = n
		w := newWalker(n)
		all := w.set(tree)
		if w.broke {
			return "", false
		}
		var lengths []int
		for l := minLen; l <= n && len(lengths) < 4+min(variant, 28); l++ {
			if all.has(l) {
				lengths = append(lengths, l)
			}
		}
		if len(lengths) == 0 {
			continue
		}
		// Variant k first varies the characters, then the length.
		for _, mode := range strategies {
			for li, l := range lengths {
				if li >= 3 && mode != modePlain {
					break
				}
				s := w.generate(tree, l, strategy{mode: mode, offset: variant})
				if accept(s) {
					return s, true
				}
			}
		}
		if variant > 0 && variant < len(lengths) {
			s := w.generate(tree, lengths[variant], strategy{mode: modePlain})
			if accept(s) {
				return s, true
			}
		}
		break // a wider window only helps when this one had no length
	}
	// The pattern is searched, not anchored: pad a short match.
	n := min(base+lenSlack, lenCap)
	if maxLen >= 0 {
		n = min(n, maxLen)
	}
	w := newWalker(n)
	all := w.set(tree)
	if w.broke {
		return "", false
	}
	for l := 0; l <= n; l++ {
		if !all.has(l) {
			continue
		}
		s := w.generate(tree, l, strategy{mode: modePlain, offset: variant})
		if k := minLen - l; k > 0 {
			pad := repeatRune('a', k)
			for _, c := range []string{s + pad, pad + s, s + repeatRune(' ', k)} {
				if accept(c) {
					return c, true
				}
			}
		} else if accept(s) {
			return s, true
		}
		break
	}
	return "", false
}

func repeatRune(r rune, n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = r
	}
	return string(b)
}

// compiled is a pattern compiled for matching and, where possible, parsed
// for generation.
type compiled struct {
	re2  *regexp.Regexp
	net  *regexp2.Regexp // .NET syntax, used when re2 is nil
	ecma *regexp2.Regexp // ECMAScript syntax, also checked when it compiles
	// trees are parsed (approximations of) the pattern to generate from.
	trees []*syntax.Regexp
}

func (c *compiled) match(s string) bool {
	if c.re2 != nil {
		return c.re2.MatchString(s)
	}
	ok, err := c.net.MatchString(s)
	if err != nil || !ok {
		return false
	}
	if c.ecma != nil {
		ok, err = c.ecma.MatchString(s)
		return err == nil && ok
	}
	return true
}

var (
	compileMu    sync.Mutex
	compileCache = map[string]*compiled{}
)

// compilePattern compiles pattern for matching (nil if no engine accepts it).
func compilePattern(pattern string) *compiled {
	compileMu.Lock()
	c, hit := compileCache[pattern]
	compileMu.Unlock()
	if hit {
		return c
	}
	c = doCompile(pattern)
	compileMu.Lock()
	if len(compileCache) >= cacheLimit {
		clear(compileCache)
	}
	compileCache[pattern] = c
	compileMu.Unlock()
	return c
}

func doCompile(pattern string) *compiled {
	if re, err := regexp.Compile(pattern); err == nil {
		c := &compiled{re2: re}
		if tree, err := syntax.Parse(pattern, syntax.Perl); err == nil {
			c.trees = append(c.trees, tree)
		}
		return c
	}
	c := &compiled{}
	if re, err := regexp2.Compile(pattern, regexp2.None); err == nil {
		re.MatchTimeout = regexp2Timeout
		c.net = re
	}
	if re, err := regexp2.Compile(pattern, regexp2.ECMAScript); err == nil {
		re.MatchTimeout = regexp2Timeout
		if c.net == nil {
			c.net = re
		} else {
			c.ecma = re
		}
	}
	if c.net == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, consume := range []bool{false, true} {
		if rewritten, ok := rewriteForRE2(pattern, consume); ok && !seen[rewritten] {
			seen[rewritten] = true
			if tree, err := syntax.Parse(rewritten, syntax.Perl); err == nil {
				c.trees = append(c.trees, tree)
			}
		}
	}
	return c
}

// Matches reports whether pattern matches (somewhere in) s, with the
// engines StringMatching checks its results with; a pattern no engine can
// compile matches nothing.
func Matches(pattern, s string) bool {
	c := compilePattern(pattern)
	return c != nil && c.match(s)
}

// minLength is the length of the shortest string tree can match (saturating).
func minLength(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpNoMatch:
		return lenCap + 1
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return lenCap + 1
		}
		return 1
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture:
		return minLength(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		return 0
	case syntax.OpPlus:
		return minLength(re.Sub[0])
	case syntax.OpRepeat:
		return min(lenCap+1, re.Min*minLength(re.Sub[0]))
	case syntax.OpConcat:
		t := 0
		for _, s := range re.Sub {
			t = min(lenCap+1, t+minLength(s))
		}
		return t
	case syntax.OpAlternate:
		t := lenCap + 1
		for _, s := range re.Sub {
			t = min(t, minLength(s))
		}
		return t
	}
	return 0
}

// lenSet is a bit set of string lengths 0..n.
type lenSet []uint64

func newLenSet(n int) lenSet { return make(lenSet, n/64+1) }

func (s lenSet) has(i int) bool {
	if i < 0 || i/64 >= len(s) {
		return false
	}
	return s[i/64]&(1<<(uint(i)%64)) != 0
}

func (s lenSet) add(i int) {
	if i >= 0 && i/64 < len(s) {
		s[i/64] |= 1 << (uint(i) % 64)
	}
}

func (s lenSet) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

func (s lenSet) equal(t lenSet) bool {
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// orShifted sets s |= t << k, dropping bits beyond the size (n). s and t
// may be the same set: words are read before the words above them change.
func (s lenSet) orShifted(t lenSet, k, n int) {
	words, bits := k/64, uint(k%64)
	for i := len(t) - 1; i >= 0; i-- {
		v := t[i]
		if v == 0 {
			continue
		}
		j := i + words
		if bits != 0 && j+1 < len(s) {
			s[j+1] |= v >> (64 - bits)
		}
		if j < len(s) {
			s[j] |= v << bits
		}
	}
	s.trim(n)
}

func (s lenSet) trim(n int) {
	if last := n / 64; last < len(s) {
		// 1<<64 is 0 in Go, so n%64 == 63 keeps the whole word.
		s[last] &= (1 << (uint(n)%64 + 1)) - 1
	}
}

// addRange adds [a, b] (clipped to the set's size).
func (s lenSet) addRange(a, b int) {
	a = max(a, 0)
	b = min(b, len(s)*64-1)
	for a <= b {
		if a%64 == 0 && b-a >= 63 {
			s[a/64] = ^uint64(0)
			a += 64
			continue
		}
		s.add(a)
		a++
	}
}

func (s lenSet) members(f func(int) bool) {
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			if !f(i*64 + b) {
				return
			}
			w &^= 1 << uint(b)
		}
	}
}

// interval reports whether s is a non-empty contiguous range [lo, hi].
func (s lenSet) interval() (lo, hi int, ok bool) {
	lo, hi = -1, -1
	contiguous := true
	s.members(func(i int) bool {
		if lo < 0 {
			lo, hi = i, i
			return true
		}
		if i != hi+1 {
			contiguous = false
			return false
		}
		hi = i
		return true
	})
	return lo, hi, lo >= 0 && contiguous
}

// sum returns {a+b : a in s, b in t} truncated to 0..n. It works interval
// by interval of t: s + [a, b] is s shifted by a, then smeared over b-a
// further positions with O(log(b-a)) shift-ors.
func (w *walker) sum(s, t lenSet) lenSet {
	n := w.n
	r := w.newSet()
	tmp := newLenSet(n)
	lo, hi := -1, -1
	flush := func() {
		if lo < 0 || lo > n {
			return
		}
		clear(tmp)
		tmp.orShifted(s, lo, n)
		for done := 0; done < hi-lo; {
			step := min(done+1, hi-lo-done)
			tmp.orShifted(tmp, step, n)
			done += step
		}
		for i := range r {
			r[i] |= tmp[i]
		}
	}
	t.members(func(b int) bool {
		if b > n {
			return false
		}
		if lo >= 0 && b == hi+1 {
			hi = b
			return true
		}
		flush()
		lo, hi = b, b
		return true
	})
	flush()
	return r
}

// walker computes feasible lengths of regexp nodes and generates strings of
// a chosen length.
type walker struct {
	n      int
	words  int  // allocated so far
	broke  bool // over walkerWords: results are unusable
	sets   map[*syntax.Regexp]lenSet
	pows   map[*syntax.Regexp][]lenSet
	suffix map[*syntax.Regexp][]lenSet
	prefs  map[*rune]*classPrefs
}

func newWalker(n int) *walker {
	return &walker{
		n:      n,
		sets:   map[*syntax.Regexp]lenSet{},
		pows:   map[*syntax.Regexp][]lenSet{},
		suffix: map[*syntax.Regexp][]lenSet{},
		prefs:  map[*rune]*classPrefs{},
	}
}

// newSet allocates an empty length set, within the walker's budget.
func (w *walker) newSet() lenSet {
	w.words += w.n/64 + 1
	if w.words > walkerWords {
		w.broke = true
	}
	return newLenSet(w.n)
}

func (w *walker) single(i int) lenSet {
	s := w.newSet()
	s.add(i)
	return s
}

// set returns the lengths (0..n) of strings re can match.
func (w *walker) set(re *syntax.Regexp) lenSet {
	if s, ok := w.sets[re]; ok {
		return s
	}
	var s lenSet
	switch re.Op {
	case syntax.OpNoMatch:
		s = w.newSet()
	case syntax.OpLiteral:
		s = w.single(len(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) == 0 || !hasValidRune(re.Rune) {
			s = w.newSet()
		} else {
			s = w.single(1)
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		s = w.single(1)
	case syntax.OpCapture:
		s = w.set(re.Sub[0])
	case syntax.OpStar:
		s = w.repeatSet(re, 0, -1)
	case syntax.OpPlus:
		s = w.repeatSet(re, 1, -1)
	case syntax.OpQuest:
		s = w.repeatSet(re, 0, 1)
	case syntax.OpRepeat:
		s = w.repeatSet(re, re.Min, re.Max)
	case syntax.OpConcat:
		s = w.single(0)
		for _, sub := range re.Sub {
			s = w.sum(s, w.set(sub))
		}
	case syntax.OpAlternate:
		s = w.newSet()
		for _, sub := range re.Sub {
			for i, x := range w.set(sub) {
				s[i] |= x
			}
		}
	default: // empty match, anchors, word boundaries
		s = w.single(0)
	}
	w.sets[re] = s
	return s
}

// pow returns the lengths of k repetitions of re's sub-expression.
func (w *walker) pow(re *syntax.Regexp, k int) lenSet {
	p := w.powers(re)
	if k < len(p) {
		return p[k]
	}
	return p[len(p)-1]
}

// powers lists R_0, R_1, ... for re's sub-expression until the sequence
// becomes empty or constant (so R_k for larger k equals the last one), or
// until the repeat maximum.
func (w *walker) powers(re *syntax.Regexp) []lenSet {
	if p, ok := w.pows[re]; ok {
		return p
	}
	_, maxRep := repeatBounds(re)
	f := w.set(re.Sub[0])
	p := []lenSet{w.single(0)}
	for k := 1; (maxRep < 0 || k <= maxRep) && !w.broke; k++ {
		next := w.sum(p[k-1], f)
		p = append(p, next)
		if next.empty() || next.equal(p[k-1]) {
			break
		}
	}
	w.pows[re] = p
	return p
}

func repeatBounds(re *syntax.Regexp) (int, int) {
	switch re.Op {
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		return 1, -1
	case syntax.OpQuest:
		return 0, 1
	}
	return re.Min, re.Max
}

func (w *walker) repeatSet(re *syntax.Regexp, minRep, maxRep int) lenSet {
	f := w.set(re.Sub[0])
	out := w.newSet()
	if lo, hi, ok := f.interval(); ok {
		// k repetitions of [lo, hi] cover exactly [k*lo, k*hi].
		if lo == 0 {
			top := w.n
			if maxRep >= 0 {
				top = min(top, maxRep*hi)
			}
			out.addRange(0, top)
			return out
		}
		for k := minRep; maxRep < 0 || k <= maxRep; k++ {
			a := k * lo
			if a > w.n {
				break
			}
			out.addRange(a, min(k*hi, w.n))
		}
		out.trim(w.n)
		return out
	}
	p := w.powers(re)
	last := len(p) - 1
	if maxRep >= 0 {
		last = min(last, maxRep)
	}
	for k := minRep; k <= last; k++ {
		for i, x := range p[k] {
			out[i] |= x
		}
	}
	if minRep > last {
		for i, x := range w.pow(re, minRep) {
			out[i] |= x
		}
	}
	return out
}

// Character choice strategies.
const (
	modePlain  = iota // letters first (lower, upper), then digits
	modeRotate        // cycle through the categories the class offers
	modeDigits        // digits first
	modeUpper         // upper-case first
	modePunct         // punctuation first
)

type strategy struct {
	mode   int
	offset int // variant: pick the offset-th preferred character
	count  int // characters emitted so far
}

var categories = [...]string{
	"abcdefghijklmnopqrstuvwxyz",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"0123456789",
	"-_.@!#:/+*=$%&?,;~^'\"()[]{}<>|\\` ",
}

func (st *strategy) order() []int {
	switch st.mode {
	case modeDigits:
		return []int{2, 0, 1, 3}
	case modeUpper:
		return []int{1, 0, 2, 3}
	case modePunct:
		return []int{3, 2, 1, 0}
	}
	return []int{0, 1, 2, 3}
}

func inClass(ranges []rune, r rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if r >= ranges[i] && r <= ranges[i+1] {
			return true
		}
	}
	return false
}

func hasValidRune(ranges []rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo <= hi && (lo < 0xD800 || hi > 0xDFFF) && lo <= utf8.MaxRune {
			return true
		}
	}
	return false
}

var (
	anyNotNL = []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}
	anyRune  = []rune{0, utf8.MaxRune}
)

// classPrefs lists a class's preferred characters by category, and a few
// other printable members for classes with none of those.
type classPrefs struct {
	cats     [4][]rune
	fallback []rune
}

func (w *walker) classPrefs(ranges []rune) *classPrefs {
	if len(ranges) == 0 {
		return &classPrefs{}
	}
	if p, ok := w.prefs[&ranges[0]]; ok {
		return p
	}
	p := &classPrefs{}
	for ci, cat := range categories {
		for _, r := range cat {
			if inClass(ranges, r) {
				p.cats[ci] = append(p.cats[ci], r)
			}
		}
	}
	for i := 0; i+1 < len(ranges) && len(p.fallback) < 16; i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r <= utf8.MaxRune && len(p.fallback) < 16; r++ {
			if r >= 0xD800 && r <= 0xDFFF {
				r = 0xDFFF
				continue
			}
			if r >= 0x20 && r != 0x7f {
				p.fallback = append(p.fallback, r)
			}
		}
	}
	if len(p.fallback) == 0 {
		for i := 0; i+1 < len(ranges); i += 2 {
			if r := ranges[i]; utf8.ValidRune(r) {
				p.fallback = append(p.fallback, r)
				break
			}
		}
	}
	w.prefs[&ranges[0]] = p
	return p
}

// pick chooses a character of the class described by ranges.
func (w *walker) pick(st *strategy, ranges []rune) rune {
	defer func() { st.count++ }()
	p := w.classPrefs(ranges)
	order := st.order()
	if st.mode == modeRotate {
		var present []int
		for _, ci := range order {
			if len(p.cats[ci]) > 0 {
				present = append(present, ci)
			}
		}
		if len(present) > 0 {
			// Cycle through the categories, and through each category.
			c := p.cats[present[st.count%len(present)]]
			return c[(st.offset+st.count/len(present))%len(c)]
		}
	} else {
		n := 0
		for _, ci := range order {
			n += len(p.cats[ci])
		}
		if n > 0 {
			i := st.offset % n
			for _, ci := range order {
				if i < len(p.cats[ci]) {
					return p.cats[ci][i]
				}
				i -= len(p.cats[ci])
			}
		}
	}
	if len(p.fallback) == 0 {
		return 'a'
	}
	return p.fallback[st.offset%len(p.fallback)]
}

// generate returns a string of exactly l runes matched by re; l must be in
// w.set(re).
func (w *walker) generate(re *syntax.Regexp, l int, st strategy) string {
	var out []rune
	w.emit(re, l, &st, &out)
	return string(out)
}

func (w *walker) emit(re *syntax.Regexp, l int, st *strategy, out *[]rune) {
	switch re.Op {
	case syntax.OpLiteral:
		*out = append(*out, re.Rune...)
	case syntax.OpCharClass:
		*out = append(*out, w.pick(st, re.Rune))
	case syntax.OpAnyCharNotNL:
		*out = append(*out, w.pick(st, anyNotNL))
	case syntax.OpAnyChar:
		*out = append(*out, w.pick(st, anyRune))
	case syntax.OpCapture:
		w.emit(re.Sub[0], l, st, out)
	case syntax.OpConcat:
		// suffix[i] = lengths of re.Sub[i:]
		suffix, ok := w.suffix[re]
		if !ok {
			suffix = make([]lenSet, len(re.Sub)+1)
			suffix[len(re.Sub)] = w.single(0)
			for i := len(re.Sub) - 1; i >= 0; i-- {
				suffix[i] = w.sum(w.set(re.Sub[i]), suffix[i+1])
			}
			w.suffix[re] = suffix
		}
		for i, sub := range re.Sub {
			chosen := -1
			w.set(sub).members(func(x int) bool {
				if x > l {
					return false
				}
				if suffix[i+1].has(l - x) {
					chosen = x
					return false
				}
				return true
			})
			if chosen < 0 {
				return
			}
			w.emit(sub, chosen, st, out)
			l -= chosen
		}
	case syntax.OpAlternate:
		var fits []*syntax.Regexp
		for _, sub := range re.Sub {
			if w.set(sub).has(l) {
				fits = append(fits, sub)
			}
		}
		if len(fits) > 0 {
			w.emit(fits[st.offset%len(fits)], l, st, out)
		}
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		w.emitRepeat(re, l, st, out)
	}
}

func (w *walker) emitRepeat(re *syntax.Regexp, l int, st *strategy, out *[]rune) {
	minRep, maxRep := repeatBounds(re)
	sub := re.Sub[0]
	f := w.set(sub)
	if lo, hi, ok := f.interval(); ok {
		// Smallest k with k*lo <= l <= k*hi.
		k := minRep
		if hi > 0 && l > k*hi {
			k = (l + hi - 1) / hi
		}
		if maxRep >= 0 && k > maxRep {
			return
		}
		if k*lo > l {
			return
		}
		for j := range k {
			rest := k - j - 1
			x := max(lo, l-rest*hi)
			w.emit(sub, x, st, out)
			l -= x
		}
		return
	}
	k := -1
	limit := len(w.powers(re)) + minRep
	for c := minRep; (maxRep < 0 || c <= maxRep) && c <= limit; c++ {
		if w.pow(re, c).has(l) {
			k = c
			break
		}
	}
	if k < 0 {
		return
	}
	for j := range k {
		rest := w.pow(re, k-j-1)
		chosen := -1
		f.members(func(x int) bool {
			if x > l {
				return false
			}
			if rest.has(l - x) {
				chosen = x
				return false
			}
			return true
		})
		if chosen < 0 {
			return
		}
		w.emit(sub, chosen, st, out)
		l -= chosen
	}
}
