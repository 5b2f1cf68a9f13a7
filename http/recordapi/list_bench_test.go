package recordapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// benchOfferDef is bench/entity/loan_offer.json, the entity of bench/run.sh,
// with personal records too.
const benchOfferDef = `{"LoanOffer": {"description": "A loan offer", "required": ["amount", "product", "valid_until", "customer"],
  "properties": {
    "amount": {"type": "number", "minimum": 0, "example": 1000.0},
    "product": {"type": "string", "enum": ["P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"], "example": "P3"},
    "valid_until": {"type": "DATE_WITH_DAY", "example": "2027-06-30"},
    "customer": {"type": "string", "minLength": 1, "maxLength": 64, "example": "customer-00042"}}},
  "hasPersonalEntity": true}`

// inTx is an engine.Store running every View and Update in one open
// transaction, to fill many records at once (as bench/fill does).
type inTx struct{ tx engine.Tx }

func (s inTx) View(_ context.Context, fn func(engine.Tx) error) error   { return fn(s.tx) }
func (s inTx) Update(_ context.Context, fn func(engine.Tx) error) error { return fn(s.tx) }
func (inTx) Close() error                                               { return nil }

// listFixture is a record API over a bbolt store holding n LoanOffer
// records shaped as bench/fill writes them (products P0..P9 evenly), with
// a fiber app whose routes /entities/:name and /my/entities/:name (the
// owner in header X-Owner) list them as the real routes do, minus
// authentication.
type listFixture struct {
	api    *API
	entity *dynentity.Entity
	app    *fiber.App
	ids    []string // of the shared records, in the order written
}

func newListFixture(tb testing.TB, n int) *listFixture {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "bench.db")
	db, err := boltstore.Open(path, boltstore.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	recs := records.New(db, records.Options{})
	reg, err := dynentity.NewRegistry(ctx, db, recs)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := reg.Create(ctx, dynentity.NewEntity{Definition: []byte(benchOfferDef)})
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, 0, n)
	for from := 0; from < n; from += 5000 {
		err := db.Update(ctx, func(tx engine.Tx) error {
			s := records.New(inTx{tx}, records.Options{Quota: records.Quota{Records: -1, Bytes: -1}})
			for i := from; i < min(from+5000, n); i++ {
				rec := map[string]any{
					"amount":      float64(100_000+r.IntN(10_000_000)) / 100,
					"product":     fmt.Sprintf("P%d", i%10),
					"valid_until": base.AddDate(0, 0, r.IntN(5*365)).Format(time.DateOnly),
					"customer":    fmt.Sprintf("customer-%05d", r.IntN(10_000)),
				}
				st, err := s.Create(ctx, e.Schema, "", "", rec)
				if err != nil {
					return err
				}
				ids = append(ids, st.Record[e.Def.PrimaryKey()].(string))
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	if db, err = boltstore.Open(path, boltstore.Options{}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	f := &listFixture{api: &API{Entities: reg, Records: records.New(db, records.Options{})}, entity: e, app: fiber.New(), ids: ids}
	f.app.Get("/entities/:name", func(c *fiber.Ctx) error {
		return f.api.list(&call{c: c, ctx: c.UserContext(), entity: f.entity, schema: f.entity.Schema})
	})
	f.app.Get("/entities/:name/:id", func(c *fiber.Ctx) error {
		return f.api.get(&call{c: c, ctx: c.UserContext(), entity: f.entity, schema: f.entity.Schema, id: c.Params("id")})
	})
	f.app.Get("/my/entities/:name", func(c *fiber.Ctx) error {
		return f.api.list(&call{c: c, ctx: c.UserContext(), entity: f.entity, schema: f.entity.PersonalSchema,
			owner: c.Get("X-Owner")})
	})
	return f
}

// get runs one request through the app's handler into ctx.
func (f *listFixture) get(ctx *fasthttp.RequestCtx, uri string) {
	f.getAs(ctx, uri, "")
}

// getAs is get with header X-Owner (none if "").
func (f *listFixture) getAs(ctx *fasthttp.RequestCtx, uri, owner string) {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.Header.SetMethod(fiber.MethodGet)
	ctx.Request.SetRequestURI(uri)
	if owner != "" {
		ctx.Request.Header.Set("X-Owner", owner)
	}
	f.app.Handler()(ctx)
}

// BenchmarkList measures GET /entities/LoanOffer?product=P3&limit=50 (the
// list workload of bench/run.sh) over 100,000 records through the fiber
// handler: query parsing, the store's page and the response body.
func BenchmarkList(b *testing.B) {
	f := newListFixture(b, 100_000)
	for _, uri := range []string{
		"/entities/LoanOffer?product=P3&limit=50",
		"/entities/LoanOffer?limit=50",
		"/entities/LoanOffer?amount[gte]=50000&sort_by=amount&sort_direction=desc&limit=50",
		"/entities/LoanOffer?product=P3&sort_by=valid_until&limit=50",
	} {
		b.Run(uri[len("/entities/LoanOffer?"):], func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			f.get(&ctx, uri)
			if ctx.Response.StatusCode() != fiber.StatusOK || len(ctx.Response.Body()) < 1000 {
				b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
			b.ReportAllocs()
			for b.Loop() {
				f.get(&ctx, uri)
			}
		})
	}
}

// BenchmarkGet measures GET /entities/LoanOffer/{id} (the get by id
// workload of bench/run.sh) over 100,000 records through the fiber
// handler, the ids in a scattered order: the store's read and the answer
// with its ETag.
func BenchmarkGet(b *testing.B) {
	f := newListFixture(b, 100_000)
	uris := make([]string, len(f.ids))
	for i, id := range f.ids {
		uris[i] = "/entities/LoanOffer/" + id
	}
	var ctx fasthttp.RequestCtx
	f.get(&ctx, uris[0])
	if ctx.Response.StatusCode() != fiber.StatusOK || len(ctx.Response.Header.Peek(fiber.HeaderETag)) == 0 {
		b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.get(&ctx, uris[(i*7919)%len(uris)])
	}
}
