package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// rawTestOffer is genOffer with what the indexes do not see: nested
// values, exact numbers, text json.Marshal escapes.
func rawTestOffer(r *rand.Rand, i int) map[string]any {
	m := genOffer(r)
	m["terms"] = map[string]any{"months": json.Number("12"), "fees": []any{"<arrangement>", "early & late", nil, 1.5}}
	switch i % 4 {
	case 0:
		m["rate"] = json.Number("1.50")
	case 1:
		m["rate"] = json.Number("12345678901234567890.000")
	case 2:
		m["note"] = "line\nbreak \u2028 \"quoted\" é \x01"
	}
	return m
}

// listPages pages through q (Raw as given) and returns every page.
func listPages(t *testing.T, s *Store, sc *Schema, owner string, q Query) []*Page {
	t.Helper()
	var pages []*Page
	for range 1000 {
		p, err := s.List(t.Context(), sc, owner, q)
		if err != nil {
			t.Fatalf("page %d: %v", len(pages), err)
		}
		pages = append(pages, p)
		if p.Next == "" {
			return pages
		}
		q.Cursor = p.Next
	}
	t.Fatal("more than 1000 pages")
	return nil
}

// sameAsDecoded checks that a raw page holds the records of the decoded
// one, as JSON: each raw record decodes (numbers as json.Number) to the
// decoded record, and encodes as json.Marshal encodes the decoded record.
func sameAsDecoded(t *testing.T, raw, dec *Page) {
	t.Helper()
	if len(raw.Records) != 0 {
		t.Fatalf("raw page with %d decoded records", len(raw.Records))
	}
	if raw.Next != dec.Next || (raw.Total == nil) != (dec.Total == nil) || raw.Total != nil && *raw.Total != *dec.Total {
		t.Fatalf("raw page next %q total %v; decoded next %q total %v", raw.Next, raw.Total, dec.Next, dec.Total)
	}
	if len(raw.Raw) != len(dec.Records) {
		t.Fatalf("raw page of %d records; decoded of %d", len(raw.Raw), len(dec.Records))
	}
	for i, r := range raw.Raw {
		m, err := decode(r)
		if err != nil {
			t.Fatalf("record %d: %v: %s", i, err, r)
		}
		if !reflect.DeepEqual(m, dec.Records[i]) {
			t.Fatalf("record %d: raw %s\ndecoded %v", i, r, dec.Records[i])
		}
		enc, err := json.Marshal(dec.Records[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, r) {
			t.Fatalf("record %d: raw %s\nencoded %s", i, r, enc)
		}
	}
}

func TestListRawMatchesDecoded(t *testing.T) {
	s, _ := open(t)
	sc := offerSchema("b1")
	r := rand.New(rand.NewPCG(3, 9))
	for i := range 150 {
		mustCreate(t, s, sc, "", rawTestOffer(r, i))
	}
	wish := wishSchema("b1")
	for i := range 40 {
		w := map[string]any{"note": namePool[i%len(namePool)], "priority": json.Number(fmt.Sprint(i % 7)),
			"extra": map[string]any{"z": 1, "a": []any{"<b>"}}}
		if i%3 == 0 {
			w["wish_id"] = fmt.Sprintf("w%02d", i)
		}
		mustCreate(t, s, wish, []string{"u1", "u2"}[i%2], w)
	}

	offers := map[string][]Filter{
		"none":                     nil,
		"name eq or":               {f("name", Eq, "a", "zeta", "a\x00")},
		"name eq long":             {f("name", Eq, long+"a")},
		"name eq at cut":           {f("name", Eq, long)},
		"name gt":                  {f("name", Gt, "a")},
		"name lt at cut":           {f("name", Lt, long)},
		"name gte long":            {f("name", Gte, long+"a")},
		"amount gt negative":       {f("amount", Gt, "-1")},
		"amount range":             {f("amount", Gte, "-1000.5"), f("amount", Lt, "2")},
		"amount eq or":             {f("amount", Eq, "-2", "3.75", "1e9", "-0")},
		"date range":               {f("start", Gte, "2024-01-01"), f("start", Lt, "2024-10-05")},
		"active and amount":        {f("active", Eq, "true"), f("amount", Gt, "0")},
		"date eq and name eq":      {f("start", Eq, "2024-02-29", "2023-12-31"), f("name", Eq, "a", "b", "B")},
		"date eq and long names":   {f("start", Eq, "2024-02-29"), f("name", Eq, long+"a", long)},
		"active eq and rate range": {f("active", Eq, "false"), f("rate", Lt, "5")},
		"three filters":            {f("rate", Gte, "1.5"), f("amount", Lte, "3.75"), f("start", Gt, "2023-12-31")},
		"empty range":              {f("amount", Gt, "5"), f("amount", Lt, "1")},
		"primary key range":        {f("loan_offer_id", Gte, "8")},
		"many values":              {f("amount", Eq, "-2", "0", "1", "2", "7", "3.75")},
	}
	wishes := map[string][]Filter{
		"none":          nil,
		"note eq":       {f("note", Eq, "a", "b")},
		"note long":     {f("note", Gte, long)},
		"priority":      {f("priority", Lt, "4")},
		"note and prio": {f("priority", Eq, "1", "2", "3"), f("note", Eq, "a", "zeta", "")},
	}
	type scope struct {
		sc      *Schema
		owner   string
		filters map[string][]Filter
		sorts   []string
	}
	scopes := []scope{
		{sc, "", offers, []string{"", "amount", "name", "start", "rate", "loan_offer_id"}},
		{wish, "u1", wishes, []string{"", "note", "priority"}},
		{wish, "u2", wishes, []string{"", "priority"}},
	}
	run := func(t *testing.T, limits []int) {
		for _, sp := range scopes {
			for _, name := range slices.Sorted(mapsKeys(sp.filters)) {
				for _, sortBy := range sp.sorts {
					for _, desc := range []bool{false, true} {
						for _, limit := range limits {
							q := Query{Filters: sp.filters[name], SortBy: sortBy, Descending: desc, Limit: limit, Count: true}
							t.Run(fmt.Sprintf("%s%s/%s/sort=%s/desc=%v/limit=%d", sp.sc.Entity, sp.owner, name, sortBy, desc, limit), func(t *testing.T) {
								dec := listPages(t, s, sp.sc, sp.owner, q)
								q.Raw = true
								raw := listPages(t, s, sp.sc, sp.owner, q)
								if len(raw) != len(dec) {
									t.Fatalf("%d raw pages; %d decoded", len(raw), len(dec))
								}
								for i := range raw {
									sameAsDecoded(t, raw[i], dec[i])
								}
							})
						}
					}
				}
			}
		}
	}
	t.Run("default bounds", func(t *testing.T) { run(t, []int{7, 0}) })
	t.Run("tiny bounds", func(t *testing.T) {
		defer func(a, b int) { maxSortSet, maxExamined = a, b }(maxSortSet, maxExamined)
		maxSortSet, maxExamined = 4, 6
		run(t, []int{5})
	})
}

// TestDecided pins down which plans skip reading records for their
// filters: those the walked index and the probes decide exactly.
func TestDecided(t *testing.T) {
	l, err := layoutOf(offerSchema("b1"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		q      Query
		walked string // "" the records bucket, else the index walked
		want   bool
	}{
		{"no filter", Query{}, "", true},
		{"eq on walked", Query{Filters: []Filter{f("name", Eq, "a", "b")}}, "name", true},
		{"range on walked", Query{Filters: []Filter{f("amount", Gte, "1"), f("amount", Lt, "9")}}, "amount", true},
		{"eq on records walk", Query{Filters: []Filter{f("name", Eq, "a")}}, "", false},
		{"long value on walked", Query{Filters: []Filter{f("name", Eq, long)}}, "name", false},
		{"long range on walked", Query{Filters: []Filter{f("name", Gt, long+"x")}}, "name", false},
		{"just short of the cut", Query{Filters: []Filter{f("name", Lte, long[1:])}}, "name", true},
		{"eq driving, eq probed", Query{Filters: []Filter{f("active", Eq, "true"), f("start", Eq, "2024-01-01")}}, "active", true},
		{"eq driving, long probed", Query{Filters: []Filter{f("active", Eq, "true"), f("name", Eq, long+"a")}}, "active", false},
		{"eq driving, range elsewhere", Query{Filters: []Filter{f("active", Eq, "true"), f("amount", Gt, "0")}}, "active", false},
		{"eq driving, five values elsewhere", Query{Filters: []Filter{f("active", Eq, "true"),
			f("amount", Eq, "1", "2", "3", "4", "5")}}, "active", false},
		{"sort walk, driving filter unchecked", Query{Filters: []Filter{f("active", Eq, "true")}, SortBy: "amount"}, "amount", false},
		{"sort walk, other filter driving", Query{Filters: []Filter{f("active", Eq, "true"), f("amount", Gt, "0")},
			SortBy: "amount"}, "amount", false},
		{"sort walk driving, eq probed", Query{Filters: []Filter{f("active", Eq, "true"), f("amount", Eq, "1")},
			SortBy: "amount"}, "amount", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := compile(l, "", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.decided(tc.walked); got != tc.want {
				t.Fatalf("decided(%q) = %v; want %v (drive %q)", tc.walked, got, tc.want, p.drive)
			}
		})
	}
}
