package records

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine"
)

// Op is a filter's comparison.
type Op int

const (
	Eq  Op = iota // equal to one of the values
	Gt            // greater than one of the values (than the least)
	Gte           // greater than or equal
	Lt            // less than
	Lte           // less than or equal
)

var opNames = [...]string{Eq: "eq", Gt: "gt", Gte: "gte", Lt: "lt", Lte: "lte"}

// String returns the operator as the query string writes it: eq, gt, gte,
// lt or lte.
func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Filter is one condition on an indexed field. Values are text from the
// query string, parsed per the field's Kind; a record matches when its
// value compares as Op says with any of them. A record without a value
// (missing or null) matches no filter.
type Filter struct {
	Field  string
	Op     Op
	Values []string
}

// Query selects a page of records.
//
// Every filter must hold (AND). The filtered fields' indexes are walked,
// never the whole entity: equality filters drive before range filters, and
// the other filters are checked on the records read (equality ones first
// on their index, by id, before the record is read). When the order wanted
// (SortBy, or primary key order when "") is not the driving index's, the
// matching records are collected and sorted in memory if there are at most
// MaxSortSet of them; beyond that the records are walked in the order
// wanted and checked against the filters instead. Either way a page looks
// at no more than MaxExamined records: a page that reached that bound is
// short, possibly empty, and still carries Next.
type Query struct {
	Filters    []Filter
	SortBy     string // an indexed field, or "" (or the primary key) for primary key order
	Descending bool
	Limit      int    // default DefaultLimit, at most MaxLimit
	Cursor     string // opaque, from Page.Next of the same query
	Count      bool   // fill Page.Total
	// Raw fills Page.Raw with the records as stored, JSON objects, instead
	// of Page.Records. Records are then decoded only when a filter the
	// indexes do not decide, or a sort in memory, needs their values (see
	// the package doc). The page is otherwise the same, cursors included.
	Raw bool
}

// Page is one page of a List.
type Page struct {
	Records []map[string]any
	// Raw holds the records as JSON objects, equal as JSON to the
	// encoding of the maps Records would hold, when Query.Raw asked (and
	// Records is then empty).
	Raw []json.RawMessage
	// Next is the cursor of the following page, "" after the last one.
	Next string
	// Total is how many records match the filters, when Query.Count asked.
	Total *int
}

// List limits.
const (
	DefaultLimit    = 50
	MaxLimit        = 1000
	MaxSortSet      = 10000 // matching records sorted in memory at most
	MaxExamined     = 10000 // records a page reads at most
	MaxFilterValues = 100   // values of one filter at most
)

// The bounds in force; tests lower them.
var (
	maxSortSet  = MaxSortSet
	maxExamined = MaxExamined
)

// span is a range [lo, hi) of index keys; hi "" is no upper bound.
type span struct{ lo, hi string }

// point reports whether s holds exactly the keys of one index position
// (encodedValue + "\x00" + any id), whose keys are then in id order.
func (s span) point() bool {
	n := len(s.lo)
	return n > 0 && s.lo[n-1] == 0 && s.hi == s.lo[:n-1]+"\x01"
}

// spanOf returns the keys a filter value selects in the index: part is the
// value's index position, exact whether that position is the value's alone.
func spanOf(op Op, part string, exact bool) span {
	at, past := part+"\x00", part+"\x01" // first key at part, first key past it
	switch op {
	case Eq:
		return span{at, past}
	case Gt:
		if exact {
			return span{past, valuesEnd}
		}
		return span{at, valuesEnd}
	case Gte:
		return span{at, valuesEnd}
	case Lt:
		if exact {
			return span{valuesStart, at}
		}
		return span{valuesStart, past}
	default: // Lte
		return span{valuesStart, past}
	}
}

// union sorts and merges spans (with finite bounds).
func union(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return strings.Compare(a.lo, b.lo) })
	var out []span
	for _, s := range spans {
		if s.lo >= s.hi {
			continue
		}
		if n := len(out); n > 0 && s.lo <= out[n-1].hi {
			out[n-1].hi = max(out[n-1].hi, s.hi)
			continue
		}
		out = append(out, s)
	}
	return out
}

// intersect returns the keys in both sorted, disjoint span lists.
func intersect(a, b []span) []span {
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if lo < hi {
			out = append(out, span{lo, hi})
		}
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// cond is a compiled Filter, checked on records.
type cond struct {
	field  string
	kind   Kind
	op     Op
	full   []string // the values' full encodings
	parts  []string // the values' index positions
	exact  bool     // every value's position is its own (see encodeText)
	probed bool     // checked on its index by a probe before the record is read
}

// holds reports whether a record value, fully encoded, passes c.
func (c *cond) holds(v string) bool {
	if v == "" || v[0] != tagValue {
		return false
	}
	for _, w := range c.full {
		var ok bool
		switch c.op {
		case Eq:
			ok = v == w
		case Gt:
			ok = v > w
		case Gte:
			ok = v >= w
		case Lt:
			ok = v < w
		case Lte:
			ok = v <= w
		}
		if ok {
			return true
		}
	}
	return false
}

// mode is how a plan finds its page.
type mode int

const (
	byRecords mode = iota // walk the records in primary key order
	byIndex               // walk the sort field's index over the spans
	byPoints              // merge the driving index's equality spans by id
	byCollect             // collect the filtered set and sort it in memory
)

// plan is a compiled Query.
type plan struct {
	l      *layout
	owner  string
	conds  []cond
	spans  map[string][]span // per filtered field, the keys all its filters allow
	drive  string            // the driving field, "" without filters
	sort   string            // the sort field, "" primary key order
	desc   bool
	mode   mode
	limit  int
	empty  bool   // a field's filters exclude each other: nothing matches
	exact  bool   // the driving index alone decides the filters
	after  string // the cursor's position: an order key
	probes []probe
	finger [32]byte
	raw    bool   // fill Page.Raw
	arena  []byte // copies of the records of Page.Raw
	// maxBytes bounds the stored bytes of the records a page holds beyond
	// its first; bytes counts them. read counts the stored bytes of the
	// records read to check them, bounded by readFactor × maxBytes.
	maxBytes, bytes, read int
}

// readFactor bounds the bytes of records a page reads, in page budgets:
// like MaxExamined, it ends a page whose filters reject much, short.
const readFactor = 16

// readEnough reports whether the page has read as many record bytes as
// one page may.
func (p *plan) readEnough() bool { return p.read >= readFactor*p.maxBytes }

// probe is an equality filter on a field other than the driving one,
// checked on the field's index before the record is read: a record whose
// value is one of the filter's has the key part+"\x00"+id for one of
// them. (Not the reverse for long strings, whose positions are shared,
// which is why the filters are still checked on the record.)
type probe struct {
	bucket string
	parts  []string
}

// maxProbeValues bounds the values of an equality filter worth probing
// for rather than checking on the record.
const maxProbeValues = 4

// probe reports whether id passes the probes.
func (p *plan) probe(tx engine.Tx, id string) (bool, error) {
	for _, pr := range p.probes {
		found := false
		for _, part := range pr.parts {
			_, err := tx.Get(pr.bucket, indexKey(part, id))
			if err == nil {
				found = true
				break
			}
			if !errors.Is(err, engine.ErrNotFound) {
				return false, err
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// compile checks q against l and plans it. Problems are one 400 listing
// them, each naming its field or parameter.
func compile(l *layout, owner string, q Query) (*plan, error) {
	p := &plan{l: l, owner: owner, desc: q.Descending, limit: q.Limit, spans: map[string][]span{}, raw: q.Raw}
	var faults []engine.Violation
	fault := func(param, code, format string, args ...any) {
		faults = append(faults, engine.Violation{Location: "query", Pointer: "/" + param, Code: code,
			Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case q.Limit == 0:
		p.limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		fault("limit", "range", "limit must be from 1 to %d", MaxLimit)
	}
	if q.SortBy != "" {
		if _, ok := l.kindOf(q.SortBy); ok {
			p.sort = q.SortBy
		} else if q.SortBy != l.pk {
			fault("sort_by", "not_sortable", "cannot sort %s by %q: not an indexed field", l.entity, q.SortBy)
		}
	}
	exact := true
	for _, f := range q.Filters {
		kind, ok := l.kindOf(f.Field)
		switch {
		case !ok:
			fault(f.Field, "not_filterable", "%s has no indexed field %q to filter on", l.entity, f.Field)
			continue
		case f.Op < Eq || f.Op > Lte:
			fault(f.Field, "operator", "unknown operator %v for %s", f.Op, f.Field)
			continue
		case len(f.Values) == 0 || len(f.Values) > MaxFilterValues:
			fault(f.Field, "values", "a filter on %s needs 1 to %d values", f.Field, MaxFilterValues)
			continue
		}
		c := cond{field: f.Field, kind: kind, op: f.Op, exact: true}
		var spans []span
		for _, v := range f.Values {
			full, part, ex, err := encodeText(kind, v)
			if err != nil {
				fault(f.Field, "type", "%s: %q %v", f.Field, v, err)
				continue
			}
			exact = exact && ex
			c.exact = c.exact && ex
			c.full = append(c.full, full)
			c.parts = append(c.parts, part)
			spans = append(spans, spanOf(f.Op, part, ex))
		}
		spans = union(spans)
		if prev, ok := p.spans[f.Field]; ok {
			spans = intersect(prev, spans)
		}
		p.spans[f.Field] = spans
		p.conds = append(p.conds, c)
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the list query is not valid", faults...)
	}
	p.exact = exact && len(p.spans) == 1

	// The driving index: equality before range (the fewer values the
	// better), then the sort field, then by name for a stable choice.
	type score struct {
		ranges, points, notSort int
		field                   string
	}
	var best *score
	for _, f := range slices.Sorted(maps.Keys(p.spans)) {
		spans := p.spans[f]
		if len(spans) == 0 {
			p.empty = true
		}
		sc := score{field: f, notSort: 1}
		if allPoints(spans) {
			sc.points = len(spans)
		} else {
			sc.ranges = 1
		}
		if f == p.sort {
			sc.notSort = 0
		}
		if best == nil || sc.ranges < best.ranges || sc.ranges == best.ranges &&
			(sc.points < best.points || sc.points == best.points && sc.notSort < best.notSort) {
			best = &sc
		}
	}
	switch {
	case best == nil && p.sort == "":
		p.mode = byRecords
	case best == nil:
		p.mode = byIndex
	case best.field == p.sort:
		p.drive, p.mode = best.field, byIndex
	case p.sort == "" && best.ranges == 0:
		p.drive, p.mode = best.field, byPoints
	default:
		p.drive, p.mode = best.field, byCollect
	}
	for i := range p.conds {
		if c := &p.conds[i]; c.op == Eq && c.field != p.drive && len(c.parts) <= maxProbeValues {
			c.probed = true
			p.probes = append(p.probes, probe{bucket: l.index(owner, c.field), parts: c.parts})
		}
	}
	p.finger = fingerprint(l, owner, p.sort, p.desc, q.Filters)
	if q.Cursor != "" {
		after, err := p.readCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		p.after = after
	}
	return p, nil
}

// decided reports whether a walk over the index of field (its spans in
// p.spans, all of them, or the records bucket for "") followed by the
// probes decides every filter, so that the records need no check. A
// filter on field is decided by its spans when each of its values has an
// index position of its own; an equality filter on another field, by its
// probe, on the same condition: the value's index key then exists for
// exactly the records holding that value.
func (p *plan) decided(field string) bool {
	for _, c := range p.conds {
		switch {
		case !c.exact:
			return false
		case field != "" && c.field == field:
		case c.probed:
		default:
			return false
		}
	}
	return true
}

func allPoints(spans []span) bool {
	for _, s := range spans {
		if !s.point() {
			return false
		}
	}
	return true
}

// fingerprint identifies a query for its cursors: the scope, the order and
// the filters (in any order), not the limit.
func fingerprint(l *layout, owner, sort string, desc bool, filters []Filter) [32]byte {
	var b strings.Builder
	put := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	put(l.bank)
	put(l.entity)
	put(owner)
	put(sort)
	put(strconv.FormatBool(desc))
	fs := make([]string, 0, len(filters))
	for _, f := range filters {
		var fb strings.Builder
		vals := slices.Sorted(slices.Values(f.Values))
		for _, s := range append([]string{f.Field, f.Op.String()}, vals...) {
			fb.WriteString(strconv.Itoa(len(s)))
			fb.WriteByte(':')
			fb.WriteString(s)
		}
		fs = append(fs, fb.String())
	}
	slices.Sort(fs)
	for _, f := range fs {
		put(f)
	}
	return sha256.Sum256([]byte(b.String()))
}

// Cursors are base64url of: version byte, position, 8 bytes of
// SHA-256(query fingerprint, version, position). The check catches edits
// and cursors of another query; it is not a secret, and a forged position
// only moves a page within what the caller may see anyway.
const (
	cursorVersion = 1
	cursorMAC     = 8
)

func (p *plan) cursor(pos string) string {
	payload := append([]byte{cursorVersion}, pos...)
	mac := p.mac(payload)
	return base64.RawURLEncoding.EncodeToString(append(payload, mac[:cursorMAC]...))
}

func (p *plan) mac(payload []byte) [32]byte {
	return sha256.Sum256(append(p.finger[:], payload...))
}

func (p *plan) readCursor(s string) (string, error) {
	bad := engine.NewError(http.StatusBadRequest, CodeBadCursor, "the cursor is not one this query returned",
		engine.Violation{Location: "query", Pointer: "/cursor", Code: CodeBadCursor,
			Message: "pass next_cursor of the previous page of the same query unchanged"})
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 2+cursorMAC || raw[0] != cursorVersion {
		return "", bad
	}
	payload, got := raw[:len(raw)-cursorMAC], raw[len(raw)-cursorMAC:]
	want := p.mac(payload)
	if subtle.ConstantTimeCompare(got, want[:cursorMAC]) != 1 {
		return "", bad
	}
	return string(payload[1:]), nil
}

// List returns a page of owner's records matching q (see Query). A page
// ends at q.Limit records or before the record that would take its stored
// bytes past Options.PageBytes, whichever comes first, with Next set when
// more may follow; it always holds at least one record if any matches.
func (s *Store) List(ctx context.Context, sc *Schema, owner string, q Query) (*Page, error) {
	l, err := scope(sc, owner)
	if err != nil {
		return nil, err
	}
	p, err := compile(l, owner, q)
	if err != nil {
		return nil, err
	}
	p.maxBytes = s.pageBytes
	var page *Page
	err = s.db.View(ctx, func(tx engine.Tx) error {
		if err := ensureSchema(tx, l, false); err != nil {
			return err
		}
		page = &Page{Records: []map[string]any{}}
		if p.raw {
			page.Raw = make([]json.RawMessage, 0, min(p.limit, 64))
		}
		return p.run(tx, page, q.Count)
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return page, nil
}

// run fills page.
func (p *plan) run(tx engine.Tx, page *Page, count bool) error {
	if p.empty {
		if count {
			page.Total = new(int)
		}
		return nil
	}
	m := p.mode
	if m == byCollect {
		keys, over, err := p.driveKeys(tx, maxSortSet)
		if err != nil {
			return err
		}
		if !over {
			sorted, err := p.collect(tx, keys, page)
			if err != nil || sorted {
				return err
			}
			p.read = 0 // the walk reads afresh, so that it gets somewhere
		}
		// Too many to sort: walk the order wanted, checking the filters.
		m = byIndex
		if p.sort == "" {
			m = byRecords
		}
	}
	walked := p.drive // the field whose index the sources walk
	switch m {
	case byRecords:
		walked = ""
	case byIndex:
		walked = p.sort
	}
	if err := p.walk(tx, p.sources(tx, m), m != byIndex, p.decided(walked), page); err != nil {
		return err
	}
	if count {
		n, err := p.total(tx)
		if err != nil {
			return err
		}
		page.Total = &n
	}
	return nil
}

// sources returns what mode m walks, positioned after the cursor.
func (p *plan) sources(tx engine.Tx, m mode) []*source {
	batch := p.limit + 1
	switch m {
	case byRecords:
		return []*source{{tx: tx, bucket: p.l.records(p.owner), desc: p.desc, after: p.after, batch: batch, records: true}}
	case byPoints:
		spans := p.spans[p.drive]
		if len(spans) > 1 {
			batch = min(batch, 16)
		}
		out := make([]*source, len(spans))
		for i, sp := range spans {
			out[i] = &source{tx: tx, bucket: p.l.index(p.owner, p.drive), lo: sp.lo, hi: sp.hi, desc: p.desc, batch: batch}
			if p.after != "" {
				out[i].after = sp.lo + p.after // ids in the point after the cursor's
			}
		}
		return out
	default: // byIndex over the sort field
		spans, ok := p.spans[p.sort] // its filters' ranges, in order
		if !ok {
			spans = []span{{}} // the whole index, nulls too
		}
		out := make([]*source, len(spans))
		for i, sp := range spans {
			out[i] = &source{tx: tx, bucket: p.l.index(p.owner, p.sort), lo: sp.lo, hi: sp.hi, desc: p.desc, after: p.after, batch: batch}
		}
		return out
	}
}

// walk reads records from srcs in order (merged by id if byID, else by
// key), keeps those that pass every filter, and sets Next when more may
// follow. With decided (see plan.decided) a raw page checks no record.
func (p *plan) walk(tx engine.Tx, srcs []*source, byID, decided bool, page *Page) error {
	orderKey := func(s *source, key string) string {
		if byID && !s.records {
			return idOfIndexKey(key)
		}
		return key
	}
	last, prev := "", "" // order keys of the last record kept, and looked at
	records := p.l.records(p.owner)
	for examined := 0; ; examined++ {
		src, e, err := pick(srcs, p.desc, orderKey)
		if err != nil || e == nil {
			return err
		}
		if p.kept(page) == p.limit && len(p.conds) == 0 {
			page.Next = p.cursor(last) // one more exists
			return nil
		}
		if examined == maxExamined || p.readEnough() {
			// Enough work for one page: hand back what there is, with a
			// cursor past everything looked at.
			page.Next = p.cursor(prev)
			return nil
		}
		src.pos++
		key := orderKey(src, e.key)
		prev = key
		id := e.key
		if !src.records {
			id = idOfIndexKey(e.key)
		}
		if ok, err := p.probe(tx, id); err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		raw := e.val
		if !src.records {
			if raw, err = tx.Get(records, id); err != nil {
				return fmt.Errorf("records: index %s of %s lists %q: %w", src.bucket, p.l.entity, id, err)
			}
		}
		p.read += len(raw)
		var m map[string]any
		if !p.raw || !decided {
			if m, err = decode(raw); err != nil {
				return err
			}
			if !p.check(m) {
				continue
			}
		}
		if p.full(page, len(raw)) {
			page.Next = p.cursor(last)
			return nil
		}
		if err := p.keep(page, raw, m); err != nil {
			return err
		}
		last = key
	}
}

// kept returns how many records page holds.
func (p *plan) kept(page *Page) int {
	if p.raw {
		return len(page.Raw)
	}
	return len(page.Records)
}

// full reports whether page can take no record of size bytes more: it
// holds the limit, or the record would take it past the byte budget (a
// page always takes its first record).
func (p *plan) full(page *Page, size int) bool {
	n := p.kept(page)
	return n == p.limit || n > 0 && p.bytes+size > p.maxBytes
}

// keep adds a record to page: raw is as stored (valid for the
// transaction), m the same decoded, or nil when it was not.
func (p *plan) keep(page *Page, raw []byte, m map[string]any) error {
	p.bytes += len(raw)
	if !p.raw {
		if m == nil {
			var err error
			if m, err = decode(raw); err != nil {
				return err
			}
		}
		page.Records = append(page.Records, m)
		return nil
	}
	// Stored records are what json.Marshal made of a map: a JSON object.
	// Check its ends, so that damage cannot pass as part of the page.
	if n := len(raw); n < 2 || raw[0] != '{' || raw[n-1] != '}' {
		return fmt.Errorf("records: stored record is not a JSON object: %.40q", raw)
	}
	// Copies go to a chunk sized for the rest of the page (as many more
	// records of this size, within what is left of the byte budget); a
	// record that does not fit starts a new one, leaving those before
	// untouched.
	if cap(p.arena)-len(p.arena) < len(raw) {
		rest := min(len(raw)*(p.limit-len(page.Raw)), p.maxBytes-p.bytes+len(raw))
		p.arena = make([]byte, 0, max(len(raw), rest, 4096))
	}
	at := len(p.arena)
	p.arena = append(p.arena, raw...)
	page.Raw = append(page.Raw, p.arena[at:len(p.arena):len(p.arena)])
	return nil
}

// pick returns the source whose next entry comes first, and that entry.
func pick(srcs []*source, desc bool, orderKey func(*source, string) string) (*source, *entry, error) {
	var bs *source
	var be *entry
	var bk string
	for _, s := range srcs {
		e, err := s.peek()
		if err != nil {
			return nil, nil, err
		}
		if e == nil {
			continue
		}
		k := orderKey(s, e.key)
		if bs == nil || (!desc && k < bk) || (desc && k > bk) {
			bs, be, bk = s, e, k
		}
	}
	return bs, be, nil
}

// check reports whether a record passes every filter.
func (p *plan) check(m map[string]any) bool {
	for i := range p.conds {
		c := &p.conds[i]
		v, err := encode(c.kind, m[c.field], false)
		if err != nil || !c.holds(v) {
			return false
		}
	}
	return true
}

// driveKeys returns the keys of the driving index in its spans, or over
// when there are more than max.
func (p *plan) driveKeys(tx engine.Tx, max int) (keys []string, over bool, err error) {
	for _, sp := range p.spans[p.drive] {
		src := &source{tx: tx, bucket: p.l.index(p.owner, p.drive), lo: sp.lo, hi: sp.hi, batch: max + 1 - len(keys)}
		for {
			e, err := src.peek()
			if err != nil {
				return nil, false, err
			}
			if e == nil {
				break
			}
			src.pos++
			if len(keys) == max {
				return nil, true, nil
			}
			keys = append(keys, e.key)
		}
	}
	return keys, false, nil
}

// collect reads the records of keys, keeps those that pass the filters,
// sorts them in the order wanted and fills page from the cursor on. It
// gives up, leaving page as it was and returning false, when the records
// it reads take more bytes than a page may read.
func (p *plan) collect(tx engine.Tx, keys []string, page *Page) (bool, error) {
	type hit struct {
		key string
		raw []byte // valid for the transaction; nil when lazy
	}
	var hits []hit
	total := 0
	kind, _ := p.l.kindOf(p.sort)
	// A raw page in primary key order over decided filters needs only
	// the ids; it reads the records it returns.
	lazy := p.raw && p.sort == "" && p.decided(p.drive)
	read := func(id string) ([]byte, error) {
		raw, err := tx.Get(p.l.records(p.owner), id)
		if err != nil {
			return nil, fmt.Errorf("records: index %s of %s lists %q: %w", p.drive, p.l.entity, id, err)
		}
		return raw, nil
	}
	for _, k := range keys {
		id := idOfIndexKey(k)
		if ok, err := p.probe(tx, id); err != nil || !ok {
			if err != nil {
				return false, err
			}
			continue
		}
		var raw []byte
		var m map[string]any
		if !lazy {
			var err error
			if raw, err = read(id); err != nil {
				return false, err
			}
			if p.read += len(raw); p.readEnough() {
				return false, nil
			}
			if m, err = decode(raw); err != nil {
				return false, err
			}
			if !p.check(m) {
				continue
			}
		}
		total++
		ok := id
		if p.sort != "" {
			part, err := encode(kind, m[p.sort], true)
			if err != nil {
				return false, fmt.Errorf("records: stored %s %q: %s %w", p.l.entity, id, p.sort, err)
			}
			ok = indexKey(part, id)
		}
		if p.after != "" && (!p.desc && ok <= p.after || p.desc && ok >= p.after) {
			continue
		}
		hits = append(hits, hit{ok, raw})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if p.desc {
			return strings.Compare(b.key, a.key)
		}
		return strings.Compare(a.key, b.key)
	})
	page.Total = &total
	for i, h := range hits {
		if lazy { // the key is the id
			var err error
			if h.raw, err = read(h.key); err != nil {
				return false, err
			}
		}
		if p.full(page, len(h.raw)) {
			page.Next = p.cursor(hits[i-1].key)
			return true, nil
		}
		// Decoded again rather than kept from the check: the collected set
		// may be large, the page is not.
		if err := p.keep(page, h.raw, nil); err != nil {
			return false, err
		}
	}
	return true, nil
}

// total counts the records matching the filters.
func (p *plan) total(tx engine.Tx) (int, error) {
	if len(p.spans) == 0 {
		return readCount(tx, countKey(p.l.bank, p.l.entity, p.owner))
	}
	n := 0
	for _, sp := range p.spans[p.drive] {
		src := &source{tx: tx, bucket: p.l.index(p.owner, p.drive), lo: sp.lo, hi: sp.hi, batch: 1024}
		for {
			e, err := src.peek()
			if err != nil {
				return 0, err
			}
			if e == nil {
				break
			}
			src.pos++
			if p.exact {
				n++
				continue
			}
			id := idOfIndexKey(e.key)
			if ok, err := p.probe(tx, id); err != nil || !ok {
				if err != nil {
					return 0, err
				}
				continue
			}
			raw, err := tx.Get(p.l.records(p.owner), id)
			if err != nil {
				return 0, err
			}
			m, err := decode(raw)
			if err != nil {
				return 0, err
			}
			if p.check(m) {
				n++
			}
		}
	}
	return n, nil
}

// source walks one span of a bucket in batches, in either direction.
type source struct {
	tx      engine.Tx
	bucket  string
	lo, hi  string // the span; hi "" unbounded
	desc    bool
	after   string // resume past this key ("" from the span's start)
	batch   int
	records bool // the records bucket: keys are ids, values records
	buf     []entry
	pos     int
	done    bool
}

type entry struct {
	key string
	val []byte // records only; valid for the transaction
}

// peek returns the next entry without consuming it, nil at the end.
func (s *source) peek() (*entry, error) {
	for s.pos >= len(s.buf) {
		if s.done {
			return nil, nil
		}
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
	return &s.buf[s.pos], nil
}

// fill reads the next batch; later batches grow, up to 4096 keys.
func (s *source) fill() error {
	s.buf, s.pos = s.buf[:0], 0
	batch := max(s.batch, 1)
	s.batch = min(batch*2, 4096)
	ended := false
	add := func(k string, v []byte) error {
		e := entry{key: k}
		if s.records {
			e.val = v
		}
		s.buf = append(s.buf, e)
		if len(s.buf) >= batch {
			return engine.ErrStop
		}
		return nil
	}
	var err error
	if !s.desc {
		start := s.lo
		if s.after != "" && s.after+"\x00" > start {
			start = s.after + "\x00"
		}
		err = s.tx.ScanFrom(s.bucket, start, func(k string, v []byte) error {
			if s.hi != "" && k >= s.hi {
				ended = true
				return engine.ErrStop
			}
			return add(k, v)
		})
	} else {
		from := s.hi
		if s.after != "" && (from == "" || s.after < from) {
			from = s.after
		}
		err = s.tx.ScanReverse(s.bucket, from, func(k string, v []byte) error {
			if from != "" && k >= from {
				return nil
			}
			if k < s.lo {
				ended = true
				return engine.ErrStop
			}
			return add(k, v)
		})
	}
	if err != nil {
		return err
	}
	if ended || len(s.buf) < batch {
		s.done = true
	}
	if n := len(s.buf); n > 0 {
		s.after = s.buf[n-1].key
	}
	return nil
}
