package jsonschemas

import (
	"sync"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/petermattis/goid"
)

// PatternTimeout bounds one match of a pattern that needs the backtracking
// engine, so a hostile pattern cannot stall a request (ReDoS).
const PatternTimeout = 50 * time.Millisecond

// DefaultPatternBudget bounds the time every backtracking match of one
// validation takes together when the caller gives no Budget of its own.
const DefaultPatternBudget = 100 * time.Millisecond

// CodePatternBudget is the violation code of a value whose backtracking
// match could not finish in the time allowed: PatternTimeout, or what was
// left of its request's budget.
const CodePatternBudget = "pattern_budget"

// matchTimeouts are the per-match timeouts each backtracking pattern is
// compiled with, longest first (regexp2 reads a timeout from the compiled
// pattern, never per call). A match runs with the longest one that what is
// left of its budget covers; with less left than the shortest, the budget
// counts as spent.
var matchTimeouts = [...]time.Duration{PatternTimeout, 20 * time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond}

// patternClockPeriod is how often regexp2's timeout clock ticks while
// matches with a timeout run. A match stops within about two ticks of its
// deadline; regexp2's default tick, 100 ms, would let a 5 ms timeout run
// for 200 ms.
const patternClockPeriod = 5 * time.Millisecond

func init() {
	// regexp2 reads the period without synchronisation: it must be set
	// before any match runs, so here rather than at configuration time.
	regexp2.SetTimeoutCheckPeriod(patternClockPeriod)
}

// backtrackingPattern adapts regexp2 to jsonschema.Regexp, charging each
// match to the budget of the validation running on the calling goroutine.
type backtrackingPattern struct {
	pattern string
	// byTimeout holds the pattern compiled with each of matchTimeouts.
	byTimeout [len(matchTimeouts)]*regexp2.Regexp
}

// MatchString matches s within the budget of the validation running on
// this goroutine. When the match cannot finish in time, the validation is
// abandoned (see Schema.ValidateWithin) and s is named as the value that
// could not be checked. Outside a budgeted validation a match is bounded
// by PatternTimeout alone and a timed-out match counts as no match.
func (p *backtrackingPattern) MatchString(s string) bool {
	b := budgets.of(goid.Get())
	if b == nil {
		ok, err := p.byTimeout[0].MatchString(s)
		return err == nil && ok
	}
	return b.match(p, s)
}

func (p *backtrackingPattern) String() string { return p.pattern }

// Budget is the time one request may spend in backtracking pattern
// matches, shared by every schema validated for it. It belongs to one
// request and is used by one goroutine at a time.
type Budget struct {
	limit, left time.Duration
}

// NewBudget returns a budget of d; d <= 0 means DefaultPatternBudget.
func NewBudget(d time.Duration) *Budget {
	if d <= 0 {
		d = DefaultPatternBudget
	}
	return &Budget{limit: d, left: d}
}

// match runs one match of p against s for at most PatternTimeout or what
// is left of the budget, whichever is less, charging the time it took. A
// match that cannot finish panics with an *unchecked, which
// Schema.ValidateWithin recovers.
//
// regexp2 measures timeouts on a clock that a goroutine of its own
// advances; when a busy machine runs that goroutine late, a deadline set
// from the stale clock passes early. So a timeout counts only once the
// match has really run its time (on the monotonic clock); before that,
// the match starts again with the longest timeout the rest covers.
func (b *Budget) match(p *backtrackingPattern, s string) bool {
	start := time.Now()
	limit := min(PatternTimeout, b.left)
	for {
		level := timeoutFor(limit - time.Since(start))
		if level < 0 {
			break
		}
		ok, err := p.byTimeout[level].MatchString(s)
		if err == nil {
			b.left -= time.Since(start)
			return ok
		}
	}
	b.left -= time.Since(start)
	why := b.spent()
	if limit == PatternTimeout {
		why = "its match ran past the " + PatternTimeout.String() + " one match may take"
	}
	panic(&unchecked{pattern: p.pattern, value: s, why: why})
}

// timeoutFor returns the index in matchTimeouts of the longest timeout
// that left covers, or -1 when it covers none.
func timeoutFor(left time.Duration) int {
	for i, timeout := range matchTimeouts {
		if timeout <= left {
			return i
		}
	}
	return -1
}

func (b *Budget) spent() string {
	return "the request had used up its " + b.limit.String() + " for pattern matching"
}

// unchecked is a value whose match could not finish, and why: the panic
// value that ends a validation, and what its PatternError reports.
type unchecked struct {
	pattern, value, why string
}

// budgets maps a goroutine running a budgeted validation to its budget.
// jsonschema hands a Regexp no context of the validation calling it, and a
// validation runs on its caller's goroutine from start to end, so the
// goroutine id is what ties a match to its request. Only validations of
// schemas that reach a backtracking pattern register, so every other
// validation pays nothing.
var budgets budgetTable

const budgetShards = 64

// budgetTable is a map from goroutine id to budget, sharded so that
// concurrent requests rarely share a lock.
type budgetTable [budgetShards]budgetShard

type budgetShard struct {
	mu sync.Mutex
	m  map[int64]*Budget
	_  [48]byte // one shard per cache line
}

func (t *budgetTable) shard(id int64) *budgetShard { return &t[uint64(id)%budgetShards] }

// of returns the budget registered for goroutine id, or nil.
func (t *budgetTable) of(id int64) *Budget {
	s := t.shard(id)
	s.mu.Lock()
	b := s.m[id]
	s.mu.Unlock()
	return b
}

// swap registers b for goroutine id (nil removes it) and returns what was
// registered before, so nested validations restore their caller's.
func (t *budgetTable) swap(id int64, b *Budget) *Budget {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.m[id]
	switch {
	case b != nil && s.m == nil:
		s.m = map[int64]*Budget{id: b}
	case b != nil:
		s.m[id] = b
	default:
		delete(s.m, id)
	}
	return prev
}
