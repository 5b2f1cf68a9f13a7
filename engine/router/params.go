package router

// MaxParams is the most path parameters one template may declare. It bounds
// Params to a fixed array, which is what lets Match run without allocating.
const MaxParams = 16

// Params receives the path parameter values of a match. It is a fixed array
// rather than a map or slice so that a request can keep one (for instance in
// a pooled per-request struct) and Match never allocates to fill it. Values
// are in the order the parameters appear in the matched template; unless
// percent-decoded they alias the path passed to Match.
//
// A Params is used by one goroutine at a time; the zero value is ready.
type Params struct {
	values   [MaxParams]string
	names    []string // shared with the Table: never written
	template string
	n        int
}

// Len returns how many parameters the last successful Match captured, so
// callers can bounds-check indexes computed from another source (a compiled
// operation) before calling Value.
func (p *Params) Len() int { return p.n }

// Value returns the i-th parameter value by template position, the cheap
// access path for callers that resolved names to positions ahead of time. It
// panics if i is not in [0, Len()), like a slice index.
func (p *Params) Value(i int) string { return p.values[:p.n][i] }

// Name returns the name of the i-th parameter as written in the matched
// template, for callers (logs, errors) that need names rather than positions.
// It panics if i is not in [0, Len()).
func (p *Params) Name(i int) string { return p.names[:p.n][i] }

// Get returns the value of the parameter called name, for callers that did not
// precompute positions. It scans at most MaxParams names.
func (p *Params) Get(name string) (string, bool) {
	for i, n := range p.names[:p.n] {
		if n == name {
			return p.values[i], true
		}
	}
	return "", false
}

// Template returns the template of the last matched route, as given to
// Build, which is a low-cardinality label for metrics and logs where the raw
// path is not.
func (p *Params) Template() string { return p.template }

// Reset forgets the last match and drops every reference it held, including
// values left behind by backtracking, so a pooled Params does not pin request
// memory.
func (p *Params) Reset() {
	clear(p.values[:])
	p.names = nil
	p.template = ""
	p.n = 0
}
