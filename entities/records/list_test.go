package records

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// Values the generated offers draw from: duplicates, nulls, strings with
// NUL and 01 bytes, strings longer than the indexed prefix, negative and
// fractional numbers.
var (
	long       = strings.Repeat("x", maxExact)
	namePool   = []any{nil, "", "a", "a\x00", "a\x01", "a\x00b", "B", "b", "é", "zeta", long[1:], long, long + "a", long + "b", long + "\x00"}
	amountPool = []any{nil, -1000.5, -2, -0.5, 0, 0.25, 1, 2, 3.75, 1e9, int64(-2), 7}
	startPool  = []any{nil, "2023-12-31", "2024-01-01", "2024-02-29", "2024-10-05"}
	activePool = []any{nil, true, false}
)

func genOffer(r *rand.Rand) map[string]any {
	m := map[string]any{
		"loan_offer_id": fmt.Sprintf("%08x", r.Uint32()),
		"rate":          float64(r.IntN(1000)) / 100,
	}
	for field, pool := range map[string][]any{"name": namePool, "amount": amountPool, "start": startPool, "active": activePool} {
		if v := pool[r.IntN(len(pool))]; v != nil || r.IntN(2) == 0 {
			m[field] = v // nil: either null or missing
		}
	}
	return m
}

// model answers queries by brute force over the records as created.
type model struct {
	sc   *Schema
	recs []map[string]any
}

// value returns a comparable form of a record value, ok false for none.
func (m *model) value(field string, v any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch m.sc.Indexed[field] {
	case KindNumber:
		f, _ := number(v)
		return f, true
	case KindBool:
		if v.(bool) {
			return 1, true
		}
		return 0, true
	default:
		return v.(string), true
	}
}

func compareAny(a, b any) int {
	switch a := a.(type) {
	case float64:
		return cmp.Compare(a, b.(float64))
	case int:
		return cmp.Compare(a, b.(int))
	default:
		return strings.Compare(a.(string), b.(string))
	}
}

func (m *model) parse(field, text string) any {
	switch m.sc.Indexed[field] {
	case KindNumber:
		f, _ := strconv.ParseFloat(text, 64)
		return f
	case KindBool:
		if text == "true" {
			return 1
		}
		return 0
	default:
		return text
	}
}

func (m *model) matches(rec map[string]any, filters []Filter) bool {
	for _, f := range filters {
		v, ok := m.value(f.Field, rec[f.Field])
		if !ok {
			return false
		}
		any := false
		for _, text := range f.Values {
			c := compareAny(v, m.parse(f.Field, text))
			switch f.Op {
			case Eq:
				any = any || c == 0
			case Gt:
				any = any || c > 0
			case Gte:
				any = any || c >= 0
			case Lt:
				any = any || c < 0
			case Lte:
				any = any || c <= 0
			}
		}
		if !any {
			return false
		}
	}
	return true
}

// expect returns the ids a query should list, in order: by the sort value
// (none first; strings by their indexed prefix), then by id.
func (m *model) expect(q Query) []string {
	var out []map[string]any
	for _, r := range m.recs {
		if m.matches(r, q.Filters) {
			out = append(out, r)
		}
	}
	pk := m.sc.PrimaryKey
	slices.SortFunc(out, func(a, b map[string]any) int {
		if q.SortBy != "" && q.SortBy != pk {
			va, oka := m.value(q.SortBy, a[q.SortBy])
			vb, okb := m.value(q.SortBy, b[q.SortBy])
			if s, ok := va.(string); ok && len(s) > maxExact {
				va = s[:maxExact]
			}
			if s, ok := vb.(string); ok && len(s) > maxExact {
				vb = s[:maxExact]
			}
			switch {
			case oka != okb && !oka:
				return -1
			case oka != okb:
				return 1
			case oka:
				if c := compareAny(va, vb); c != 0 {
					return c
				}
			}
		}
		return strings.Compare(a[pk].(string), b[pk].(string))
	})
	if q.Descending {
		slices.Reverse(out)
	}
	return ids(out, pk)
}

// listAll pages through a query and returns the ids in the order listed,
// checking page sizes and Total on the way.
func listAll(t *testing.T, s *Store, sc *Schema, q Query, want int) []string {
	t.Helper()
	var got []string
	limit := cmp.Or(q.Limit, DefaultLimit)
	for page := 0; ; page++ {
		q.Count = page == 0
		p, err := s.List(t.Context(), sc, "", q)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(p.Records) > limit {
			t.Fatalf("page %d holds %d records; limit %d", page, len(p.Records), limit)
		}
		if page == 0 && (p.Total == nil || *p.Total != want) {
			t.Fatalf("Total = %v; want %d", p.Total, want)
		}
		got = append(got, ids(p.Records, sc.PrimaryKey)...)
		if p.Next == "" {
			return got
		}
		if page > 1000 {
			t.Fatal("more than 1000 pages")
		}
		q.Cursor = p.Next
	}
}

func f(field string, op Op, values ...string) Filter {
	return Filter{Field: field, Op: op, Values: values}
}

func TestListMatchesModel(t *testing.T) {
	s, _ := open(t)
	sc := offerSchema("b1")
	r := rand.New(rand.NewPCG(7, 7))
	m := &model{sc: sc}
	for range 120 {
		m.recs = append(m.recs, mustCreate(t, s, sc, "", genOffer(r)))
	}
	// Replace some, so that the indexes see updates too.
	for i := 0; i < len(m.recs); i += 5 {
		next := genOffer(r)
		next["loan_offer_id"] = m.recs[i]["loan_offer_id"]
		st, err := s.Replace(t.Context(), sc, "", next["loan_offer_id"].(string), next, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.recs[i] = st.Record
	}
	mustCheck(t, s, sc)

	filterSets := map[string][]Filter{
		"none":                 nil,
		"name eq or":           {f("name", Eq, "a", "zeta", "a\x00")},
		"name eq long":         {f("name", Eq, long+"a")},
		"name eq at cut":       {f("name", Eq, long)},
		"name gt":              {f("name", Gt, "a")},
		"name lt at cut":       {f("name", Lt, long)},
		"name gte long":        {f("name", Gte, long+"a")},
		"name lte long":        {f("name", Lte, long+"a")},
		"amount gt negative":   {f("amount", Gt, "-1")},
		"amount lte fraction":  {f("amount", Lte, "0.25")},
		"amount range":         {f("amount", Gte, "-1000.5"), f("amount", Lt, "2")},
		"amount eq or":         {f("amount", Eq, "-2", "3.75", "1e9", "-0")},
		"amount gt or":         {f("amount", Gt, "5", "-0.6")},
		"date range":           {f("start", Gte, "2024-01-01"), f("start", Lt, "2024-10-05")},
		"active and amount":    {f("active", Eq, "true"), f("amount", Gt, "0")},
		"name and date eq":     {f("name", Eq, "a", "b", "B"), f("start", Eq, "2024-02-29", "2023-12-31")},
		"date and long names":  {f("start", Eq, "2024-02-29"), f("name", Eq, long+"a", long)},
		"rate and active":      {f("rate", Lt, "5"), f("active", Eq, "false")},
		"three filters":        {f("rate", Gte, "1.5"), f("amount", Lte, "3.75"), f("start", Gt, "2023-12-31")},
		"empty range":          {f("amount", Gt, "5"), f("amount", Lt, "1")},
		"nothing equal":        {f("name", Eq, "nobody")},
		"primary key range":    {f("loan_offer_id", Gte, "8")},
		"eq on sort and range": {f("start", Eq, "2024-01-01"), f("rate", Lt, "7")},
	}
	sorts := []string{"", "amount", "name", "start", "active", "rate", "loan_offer_id"}
	run := func(t *testing.T, limits []int) {
		for _, name := range slices.Sorted(mapsKeys(filterSets)) {
			for _, sortBy := range sorts {
				for _, desc := range []bool{false, true} {
					for _, limit := range limits {
						q := Query{Filters: filterSets[name], SortBy: sortBy, Descending: desc, Limit: limit}
						t.Run(fmt.Sprintf("%s/sort=%s/desc=%v/limit=%d", name, sortBy, desc, limit), func(t *testing.T) {
							want := m.expect(q)
							got := listAll(t, s, sc, q, len(want))
							if !slices.Equal(got, want) {
								t.Fatalf("listed %d: %q\nwant %d: %q", len(got), got, len(want), want)
							}
						})
					}
				}
			}
		}
	}
	t.Run("default bounds", func(t *testing.T) { run(t, []int{4, 0}) })
	// With tiny bounds every query sorted otherwise than its driving
	// index walks the order wanted instead of sorting, and pages end
	// early, some empty, yet the whole list comes out once, in order.
	t.Run("tiny bounds", func(t *testing.T) {
		defer func(a, b int) { maxSortSet, maxExamined = a, b }(maxSortSet, maxExamined)
		maxSortSet, maxExamined = 4, 6
		run(t, []int{5})
	})
	// With a tiny byte budget pages hold a few records each, and pages
	// that read more than 16 budgets stop short (sorts in memory give up
	// for the walk), yet the whole list comes out once, in order.
	t.Run("tiny page bytes", func(t *testing.T) {
		defer func(n int) { s.pageBytes = n }(s.pageBytes)
		s.pageBytes = 600
		run(t, []int{0})
	})
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestListPagesWhileWriting(t *testing.T) {
	s, _ := open(t)
	sc := offerSchema("b1")
	for i := range 40 {
		mustCreate(t, s, sc, "", map[string]any{"loan_offer_id": fmt.Sprintf("o%03d", i*2), "amount": i})
	}
	// Records added behind the cursor are not seen, those ahead are; none
	// repeats.
	q := Query{SortBy: "amount", Limit: 10}
	var got []string
	for page := 0; ; page++ {
		p, err := s.List(t.Context(), sc, "", q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(p.Records, "loan_offer_id")...)
		if page == 1 {
			mustCreate(t, s, sc, "", map[string]any{"loan_offer_id": "behind", "amount": 0.5})
			mustCreate(t, s, sc, "", map[string]any{"loan_offer_id": "ahead", "amount": 35.5})
			if err := s.Delete(t.Context(), sc, "", "o060", false, nil); err != nil { // amount 30, ahead
				t.Fatal(err)
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(got) != 40 || slices.Contains(got, "behind") || !slices.Contains(got, "ahead") || slices.Contains(got, "o060") {
		t.Fatalf("listed %d: %v", len(got), got)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s listed twice", id)
		}
		seen[id] = true
	}
}

func TestListErrors(t *testing.T) {
	s, _ := open(t)
	sc := offerSchema("b1")
	for i := range 5 {
		mustCreate(t, s, sc, "", map[string]any{"amount": i})
	}
	first, err := s.List(t.Context(), sc, "", Query{Limit: 2, SortBy: "amount"})
	if err != nil || first.Next == "" {
		t.Fatalf("List = %v, %v", first, err)
	}
	raw := []byte(first.Next)
	raw[len(raw)/2] ^= 1
	tampered := string(raw)

	tests := []struct {
		name    string
		q       Query
		code    string
		pointer string
	}{
		{"unknown field", Query{Filters: []Filter{f("nope", Eq, "1")}}, engine.CodeValidationFailed, "/nope"},
		{"bad number", Query{Filters: []Filter{f("amount", Gt, "ten")}}, engine.CodeValidationFailed, "/amount"},
		{"NaN", Query{Filters: []Filter{f("amount", Gt, "NaN")}}, engine.CodeValidationFailed, "/amount"},
		{"exponent past big.Rat", Query{Filters: []Filter{f("amount", Eq, "1e10000000")}}, engine.CodeValidationFailed, "/amount"},
		{"past float64", Query{Filters: []Filter{f("amount", Lt, "1e400")}}, engine.CodeValidationFailed, "/amount"},
		{"hex number", Query{Filters: []Filter{f("amount", Eq, "0x10")}}, engine.CodeValidationFailed, "/amount"},
		{"plus sign", Query{Filters: []Filter{f("amount", Eq, "+1")}}, engine.CodeValidationFailed, "/amount"},
		{"infinity", Query{Filters: []Filter{f("amount", Gt, "Inf")}}, engine.CodeValidationFailed, "/amount"},
		{"text not UTF-8", Query{Filters: []Filter{f("name", Eq, "a\xffb")}}, engine.CodeValidationFailed, "/name"},
		{"bad bool", Query{Filters: []Filter{f("active", Eq, "yes")}}, engine.CodeValidationFailed, "/active"},
		{"bad date", Query{Filters: []Filter{f("start", Eq, "2024-13-01")}}, engine.CodeValidationFailed, "/start"},
		{"no values", Query{Filters: []Filter{f("amount", Eq)}}, engine.CodeValidationFailed, "/amount"},
		{"bad operator", Query{Filters: []Filter{{Field: "amount", Op: Op(9), Values: []string{"1"}}}}, engine.CodeValidationFailed, "/amount"},
		{"limit too high", Query{Limit: MaxLimit + 1}, engine.CodeValidationFailed, "/limit"},
		{"negative limit", Query{Limit: -1}, engine.CodeValidationFailed, "/limit"},
		{"sort not indexed", Query{SortBy: "tags"}, engine.CodeValidationFailed, "/sort_by"},
		{"garbage cursor", Query{Cursor: "!!!"}, CodeBadCursor, "/cursor"},
		{"tampered cursor", Query{Limit: 2, SortBy: "amount", Cursor: tampered}, CodeBadCursor, "/cursor"},
		{"cursor of another order", Query{Limit: 2, SortBy: "amount", Descending: true, Cursor: first.Next}, CodeBadCursor, "/cursor"},
		{"cursor of other filters", Query{Limit: 2, SortBy: "amount", Cursor: first.Next,
			Filters: []Filter{f("amount", Gt, "0")}}, CodeBadCursor, "/cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.List(t.Context(), sc, "", tc.q)
			e := wantError(t, err, http.StatusBadRequest, tc.code)
			if len(e.Violations) == 0 || e.Violations[0].Pointer != tc.pointer || e.Violations[0].Location != "query" {
				t.Fatalf("violations = %+v; want %s in the query", e.Violations, tc.pointer)
			}
		})
	}
	// The cursor works with another limit, and filters in another order.
	q := Query{Limit: 2, Filters: []Filter{f("amount", Gte, "0"), f("amount", Lt, "4")}}
	p1, err := s.List(t.Context(), sc, "", q)
	if err != nil {
		t.Fatal(err)
	}
	q.Filters[0], q.Filters[1] = q.Filters[1], q.Filters[0]
	q.Limit, q.Cursor = 10, p1.Next
	p2, err := s.List(t.Context(), sc, "", q)
	if err != nil || len(p1.Records)+len(p2.Records) != 4 {
		t.Fatalf("second page: %v, %v", p2, err)
	}
	// The primary key sorts in primary key order even when not indexed.
	cust := customerSchema("b1")
	delete(cust.Indexed, "customer_id")
	mustCreate(t, s, cust, "", map[string]any{"customer_id": "b"})
	mustCreate(t, s, cust, "", map[string]any{"customer_id": "a"})
	p, err := s.List(t.Context(), cust, "", Query{SortBy: "customer_id", Descending: true})
	if err != nil || !slices.Equal(ids(p.Records, "customer_id"), []string{"b", "a"}) {
		t.Fatalf("sort by unindexed primary key: %v, %v", p, err)
	}
}
