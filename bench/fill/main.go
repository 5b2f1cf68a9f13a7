// Command fill writes the records of bench/run.sh's entity workloads
// straight into a stopped dynapi's data directory, many records per
// transaction, instead of one HTTP request (and one fsync) each.
//
// The entity must already be defined in that directory (bench/run.sh
// defines it over HTTP on a first start, then stops the server). fill loads
// the definitions with dynentity.NewRegistry, as the server does, and
// inserts the records with records.Store.Create, the record API's own write
// path, after checking each against the definition (Definition.Validate, as
// POST /entities/{Name} does). Each batch of creates runs in one bbolt
// transaction: the record store is handed a view of the store whose Update
// and View run inside that transaction. The store is opened with NoSync
// (a benchmark fixture, rebuilt at every run); the server that reads it
// afterwards opens it with the production configuration.
//
// The records fit the LoanOffer definition of bench/entity/loan_offer.json:
// amount (number), product (one of -products values P0, P1, ..., spread
// evenly, so an equality filter on product matches 1/products of them),
// valid_until (DATE_WITH_DAY), customer (string). The generated primary
// keys are written to -ids, one a line.
//
//	go run ./bench/fill -data-dir DIR -entity LoanOffer -records 100000 -ids ids.txt
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

func main() {
	dataDir := flag.String("data-dir", "", "dynapi data directory (holds dynapi.db); the server must be stopped")
	entity := flag.String("entity", "LoanOffer", "system-level entity to fill")
	n := flag.Int("records", 100_000, "records to insert")
	batch := flag.Int("batch", 5_000, "records per transaction")
	products := flag.Int("products", 10, "distinct product values P0..P<n-1>, spread evenly")
	idsFile := flag.String("ids", "", "file to write the new records' primary keys to, one a line (optional)")
	seed := flag.Uint64("seed", 1, "seed of the amounts, dates and customers")
	flag.Parse()
	if *dataDir == "" || *n < 1 || *batch < 1 || *products < 1 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	ids, err := fill(context.Background(), *dataDir, *entity, *n, *batch, *products, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
	if *idsFile != "" {
		if err := writeLines(*idsFile, ids); err != nil {
			fmt.Fprintln(os.Stderr, "fill:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("filled %d %s records in %.2f s\n", len(ids), *entity, time.Since(start).Seconds())
}

// unbounded lets the filler store more records than a user's quota: it
// writes as no one, for benchmarks.
var unbounded = records.Options{Quota: records.Quota{Records: -1, Bytes: -1}}

// fill inserts n records of entity into the store of dataDir and returns
// their primary keys.
func fill(ctx context.Context, dataDir, entity string, n, batch, products int, seed uint64) (ids []string, err error) {
	db, err := boltstore.Open(filepath.Join(dataDir, "dynapi.db"), boltstore.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	reg, err := dynentity.NewRegistry(ctx, db, records.New(db, records.Options{}))
	if err != nil {
		return nil, err
	}
	e, ok := reg.Lookup("", entity)
	if !ok {
		return nil, fmt.Errorf("no system-level entity %q in %s: define it first (POST /admin/v1/dynamic-entities)", entity, dataDir)
	}
	if e.Def.HasPersonalEntity {
		return nil, fmt.Errorf("entity %q has personal records; fill writes shared ones only", entity)
	}
	pk := e.Def.PrimaryKey()
	gen := generator(products, seed)
	ids = make([]string, 0, n)
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		err := db.Update(ctx, func(tx engine.Tx) error {
			recs := records.New(inTx{tx}, unbounded)
			for i := from; i < to; i++ {
				rec := gen(i)
				if v := e.Def.Validate(rec); len(v) > 0 {
					return fmt.Errorf("record %d does not fit the definition of %s: %s %s", i, entity, v[0].Pointer, v[0].Message)
				}
				saved, err := recs.Create(ctx, e.Schema, "", "", rec)
				if err != nil {
					return fmt.Errorf("record %d: %w", i, err)
				}
				id, _ := saved.Record[pk].(string)
				if id == "" {
					return fmt.Errorf("record %d: stored without %s", i, pk)
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	total, err := records.New(db, records.Options{}).Count(ctx, e.Schema, "")
	if err != nil {
		return nil, err
	}
	if total < n {
		return nil, fmt.Errorf("the store counts %d %s records after inserting %d", total, entity, n)
	}
	return ids, nil
}

// generator returns record i of the fill: product P(i mod products), the
// rest from a seeded source.
func generator(products int, seed uint64) func(i int) map[string]any {
	r := rand.New(rand.NewPCG(seed, 0x64796e617069))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(i int) map[string]any {
		return map[string]any{
			"amount":      float64(100_000+r.IntN(10_000_000)) / 100, // 1,000.00 to 100,999.99
			"product":     fmt.Sprintf("P%d", i%products),
			"valid_until": base.AddDate(0, 0, r.IntN(5*365)).Format(time.DateOnly),
			"customer":    fmt.Sprintf("customer-%05d", r.IntN(10_000)),
		}
	}
}

// inTx is an engine.Store whose View and Update run their callback inside
// one open transaction, so that many records.Store calls share it. A failed
// call leaves its partial writes in tx: the caller must then fail (roll
// back) the whole transaction, as fill does.
type inTx struct{ tx engine.Tx }

func (s inTx) View(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(s.tx)
}

func (s inTx) Update(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(s.tx)
}

func (inTx) Close() error { return nil }

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		if _, err := w.WriteString(l + "\n"); err != nil {
			return errors.Join(err, f.Close())
		}
	}
	return errors.Join(w.Flush(), f.Close())
}
