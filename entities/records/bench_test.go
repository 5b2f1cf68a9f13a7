package records

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/plugins/boltstore"
)

const (
	benchRecords   = 100_000
	benchCustomers = 1_000
	benchBatch     = 5_000 // records per transaction while filling
)

var benchStatuses = []string{"draft", "offered", "accepted", "declined", "expired", "withdrawn", "paid", "late", "closed", "sold"}

func benchSchema() *Schema {
	sc := offerSchema("b1")
	sc.Indexed["status"] = KindString
	return sc
}

func benchOffer(r *rand.Rand, customers []string, i int) map[string]any {
	return map[string]any{
		"name":        fmt.Sprintf("offer %d", i),
		"amount":      float64(r.IntN(10_000_000)) / 100,
		"rate":        float64(r.IntN(2000)) / 100,
		"active":      r.IntN(2) == 0,
		"start":       time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(2000)).Format(time.DateOnly),
		"status":      benchStatuses[r.IntN(len(benchStatuses))],
		"customer_id": customers[r.IntN(len(customers))],
		"terms":       map[string]any{"months": 12 + r.IntN(48), "fees": []any{"arrangement", "early repayment"}},
	}
}

// BenchmarkStore measures single operations on an entity of 100,000
// records (8 indexed fields, one reference), built once per run with
// NoSync and batched transactions; the operations then run with the
// production configuration (fsync on commit), except Create/nosync.
func BenchmarkStore(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := boltstore.Open(path, boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	s := New(db, Options{})
	sc, cust := benchSchema(), customerSchema("b1")
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	customers := fill(b, s, cust, "", benchCustomers, benchBatch, func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprint("customer ", i), "age": 18 + i%70}
	})
	ids := fill(b, s, sc, "", benchRecords, benchBatch, func(i int) map[string]any { return benchOffer(r, customers, i) })
	b.Logf("filled %d records in %v", benchRecords, time.Since(start).Round(time.Millisecond))
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}

	reopen := func(opts boltstore.Options) {
		if db, err = boltstore.Open(path, opts); err != nil {
			b.Fatal(err)
		}
		s = New(db, Options{Quota: Quota{Records: -1, Bytes: -1}}) // Create runs past any quota
	}
	reopen(boltstore.Options{})
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := getRecord(s, b.Context(), sc, "", ids[(i*7919)%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Each list runs twice: decoded (Page.Records), and raw (Page.Raw, as
	// the record API lists) as name+"Raw".
	listBench := func(name string, q func(i int) Query, wantFull bool) {
		for _, raw := range []bool{false, true} {
			if raw {
				name += "Raw"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					query := q(i)
					query.Raw = raw
					page, err := s.List(b.Context(), sc, "", query)
					if err != nil {
						b.Fatal(err)
					}
					if n := len(page.Records) + len(page.Raw); wantFull && (n != 50 || page.Next == "") {
						b.Fatalf("page of %d records, next %q", n, page.Next)
					}
				}
			})
		}
	}
	// About 10,000 records per status; primary key order, limit 50.
	listBench("ListFiltered", func(i int) Query {
		return Query{Filters: []Filter{{Field: "status", Op: Eq, Values: []string{benchStatuses[i%len(benchStatuses)]}}}, Limit: 50}
	}, true)
	listBench("ListFilteredTwoValues", func(i int) Query {
		return Query{Filters: []Filter{{Field: "status", Op: Eq, Values: []string{benchStatuses[i%5], benchStatuses[5+i%5]}}}, Limit: 50}
	}, true)
	listBench("ListRangeSorted", func(i int) Query {
		return Query{Filters: []Filter{{Field: "amount", Op: Gte, Values: []string{fmt.Sprint(i % 50_000)}}}, SortBy: "amount", Descending: i%2 == 0, Limit: 50}
	}, true)
	listBench("ListTwoFilters", func(i int) Query {
		return Query{Filters: []Filter{{Field: "status", Op: Eq, Values: []string{benchStatuses[i%len(benchStatuses)]}},
			{Field: "active", Op: Eq, Values: []string{"true"}}}, Limit: 50}
	}, true)
	b.Run("Create", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Create(b.Context(), sc, "", "", benchOffer(r, customers, i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// 64 concurrent writers, as bench/run.sh's 64 connections: their
	// Updates share commits (boltstore's group commit).
	b.Run("CreateParallel64", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(uint64(n.Add(1)), 3))
			for i := 0; pb.Next(); i++ {
				if _, err := s.Create(b.Context(), sc, "", "", benchOffer(r, customers, i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	reopen(boltstore.Options{NoSync: true})
	defer db.Close()
	b.Run("Create/nosync", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Create(b.Context(), sc, "", "", benchOffer(r, customers, i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateEvents measures what the event outbox adds to a Create:
// the same records created on a fresh store without Options.Events
// (outbox=off) and with it (outbox=on), each on a bbolt file of its own
// with NoSync, so that the figure is the work of the write itself and not
// the disk's flush, which both pay alike.
func BenchmarkCreateEvents(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("outbox=%s", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			db, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			s := New(db, Options{Quota: Quota{Records: -1, Bytes: -1}, Events: on})
			sc, cust := benchSchema(), customerSchema("b1")
			r := rand.New(rand.NewPCG(1, 2))
			customers := fill(b, s, cust, "", benchCustomers, benchBatch, func(i int) map[string]any {
				return map[string]any{"name": fmt.Sprint("customer ", i), "age": 18 + i%70}
			})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Create(b.Context(), sc, "", "", benchOffer(r, customers, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
