package recordapi

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/internal/strictjson"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// fuzzOfferDef has a field of every kind, with limits: bounded numbers
// and integers, strings with lengths, a pattern and a format, a date, a
// reference, nested objects and arrays, and free JSON.
const fuzzOfferDef = `{"Offer": {"required": ["amount"], "properties": {
  "amount": {"type": "number", "minimum": 0, "maximum": 1000000, "example": 10},
  "months": {"type": "integer", "minimum": 1, "maximum": 600, "example": 12},
  "product": {"type": "string", "minLength": 2, "maxLength": 30, "pattern": "^[A-Z][A-Z0-9_]*$", "example": "PERSONAL"},
  "email": {"type": "string", "format": "email", "example": "a@example.com"},
  "valid_until": {"type": "DATE_WITH_DAY", "example": "2025-12-31"},
  "active": {"type": "boolean", "example": true},
  "customer_id": {"type": "reference:Customer", "example": "c1"},
  "terms": {"type": "object", "required": ["months"], "properties": {
    "months": {"type": "integer", "minimum": 1, "example": 12},
    "fees": {"type": "array", "maxItems": 5, "items": {"type": "number", "minimum": 0, "example": 1}, "example": [1]}}},
  "tags": {"type": "array", "maxItems": 8, "items": {"type": "string", "maxLength": 10, "example": "a"}, "example": ["a"]},
  "extra": {"type": "json", "example": {"a": 1}}}}, "hasPersonalEntity": true}`

// Bounds of the fuzzed record API: small, so that one input reaches them.
const (
	fuzzMaxBody      = 4096
	fuzzQuotaRecords = 3
	fuzzQuotaBytes   = 3000
	fuzzUser         = "fuzzer"
	fuzzFixedID      = "fixed"
)

// writeFixture is the record API over a bbolt store, its write routes
// mounted without authentication for the fuzzer: every request acts as
// fuzzUser, on shared records or, with header X-Owner, on that
// owner's personal records.
type writeFixture struct {
	api    *API
	entity *dynentity.Entity
	app    *fiber.App
	ctx    fasthttp.RequestCtx
}

func newWriteFixture(tb testing.TB) *writeFixture {
	tb.Helper()
	ctx := context.Background()
	db, err := boltstore.Open(filepath.Join(tb.TempDir(), "fuzz.db"), boltstore.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	recs := records.New(db, records.Options{Quota: records.Quota{Records: fuzzQuotaRecords, Bytes: fuzzQuotaBytes}})
	reg, err := dynentity.NewRegistry(ctx, db, recs)
	if err != nil {
		tb.Fatal(err)
	}
	cust, err := reg.Create(ctx, dynentity.NewEntity{Definition: []byte(
		`{"Customer": {"properties": {"name": {"type": "string", "example": "Ada"}}}, "hasPersonalEntity": false}`)})
	if err != nil {
		tb.Fatal(err)
	}
	e, err := reg.Create(ctx, dynentity.NewEntity{Definition: []byte(fuzzOfferDef)})
	if err != nil {
		tb.Fatal(err)
	}
	w := &dynentity.Writer{Records: recs}
	if _, err := w.Create(ctx, cust, "", "admin", map[string]any{"customer_id": "c1", "name": "Ada"}); err != nil {
		tb.Fatal(err)
	}
	// Errors answer their status, as the server's renderer does; anything
	// but an *engine.Error is a 500.
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		e := engine.AsError(err)
		return c.Status(e.Status).SendString(e.Error())
	}})
	f := &writeFixture{api: &API{Entities: reg, Records: recs, Writer: w, MaxBodyBytes: fuzzMaxBody}, entity: e, app: app}
	route := func(h handler) fiber.Handler {
		return func(c *fiber.Ctx) error {
			cl := &call{c: c, ctx: c.UserContext(), entity: e, schema: e.Schema, user: fuzzUser, id: strings.Clone(c.Params("id"))}
			if owner := c.Get("X-Owner"); owner != "" {
				cl.owner, cl.schema = strings.Clone(owner), e.PersonalSchema
			}
			if m := c.Method(); m == fiber.MethodPost || m == fiber.MethodPut || m == fiber.MethodPatch {
				body, err := f.api.decode(c.Body())
				if err != nil {
					return err
				}
				cl.body = body.(map[string]any)
			}
			return h(cl)
		}
	}
	f.app.Post("/entities/Offer", route(f.api.create))
	f.app.Get("/entities/Offer/:id", route(f.api.get))
	f.app.Put("/entities/Offer/:id", route(f.api.replace))
	f.app.Patch("/entities/Offer/:id", route(f.api.patch))
	f.app.Delete("/entities/Offer/:id", route(f.api.delete))
	return f
}

// do runs one request through the app and returns its status, body and
// ETag (copies).
func (f *writeFixture) do(method, path, owner, ifMatch string, body []byte) (int, []byte, string) {
	f.ctx.Request.Reset()
	f.ctx.Response.Reset()
	f.ctx.Request.Header.SetMethod(method)
	f.ctx.Request.SetRequestURI(path)
	if owner != "" {
		f.ctx.Request.Header.Set("X-Owner", owner)
	}
	if ifMatch != "" {
		f.ctx.Request.Header.Set("If-Match", ifMatch)
	}
	f.ctx.Request.SetBody(body)
	f.app.Handler()(&f.ctx)
	return f.ctx.Response.StatusCode(), bytes.Clone(f.ctx.Response.Body()), string(f.ctx.Response.Header.Peek("ETag"))
}

// reset leaves the one record fuzzFixedID in the scope of owner, and no
// other Offer record anywhere.
func (f *writeFixture) reset(t *testing.T, owner string) {
	ctx := context.Background()
	if _, err := f.api.Records.DeleteAll(ctx, f.entity.Schema); err != nil {
		t.Fatal(err)
	}
	if _, err := f.api.Writer.Create(ctx, f.entity, owner, fuzzUser, map[string]any{"offer_id": fuzzFixedID, "amount": 1}); err != nil {
		t.Fatal(err)
	}
}

// state is every record of owner as stored, to tell whether a refused
// write changed anything.
func (f *writeFixture) state(t *testing.T, owner string) []byte {
	page, err := f.api.Records.List(context.Background(), schemaOf(f.entity, owner), owner, records.Query{Limit: records.MaxLimit, Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, r := range page.Raw {
		all = append(append(all, r...), '\n')
	}
	return all
}

func schemaOf(e *dynentity.Entity, owner string) *records.Schema {
	if owner != "" {
		return e.PersonalSchema
	}
	return e.Schema
}

// read returns a stored record, from the store: ids the fuzzer makes up
// need not survive a trip through a URL.
func (f *writeFixture) read(t *testing.T, id, owner string) map[string]any {
	st, err := f.api.Records.Get(context.Background(), schemaOf(f.entity, owner), owner, id)
	if err != nil {
		t.Fatalf("read %q: %v", id, err)
	}
	return st.Record
}

func unwrap(t *testing.T, body []byte) map[string]any {
	v, err := strictjson.Decode(body)
	if err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	rec, _ := v.(map[string]any)["offer"].(map[string]any)
	return rec
}

// withPK is rec with id as its primary key when it has none (or null).
func withPK(rec map[string]any, id string) map[string]any {
	out := dynentity.MergePatch(rec, nil)
	if out["offer_id"] == nil {
		out["offer_id"] = id
	}
	return out
}

// FuzzRecordWrites sends a fuzzed body, from a known state, as a create,
// a replacement and a merge patch of shared or personal records (as
// op's bits say, sometimes with a stale If-Match), then creates it again
// until the quota refuses. Properties: nothing panics, answers 5xx or
// takes seconds; a
// refused write changes nothing; an accepted write reads back as the body
// strictly decoded, merged (PATCH), with its primary key, in whatever
// member order and string escaping (numbers keep their text); the quota's
// accounts match the records and are never exceeded.
func FuzzRecordWrites(f *testing.F) {
	for _, seed := range []string{
		`{"amount": 5, "product": "CAR", "months": 12, "valid_until": "2026-01-31", "customer_id": "c1", "terms": {"months": 24, "fees": [1.5, 0]}, "tags": ["x"], "extra": {"k": [null, true, "v"]}}`,
		`{"offer_id": "mine", "amount": 0.5e2, "email": "x@example.org", "active": false}`,
		`{"amount": 1e10000000}`,
		`{"amount": 1, "terms": {"months": 1E+999999999}}`,
		`{"amount": 1, "amount": 1000000000}`,
		"{\"amount\": 1, \"product\": \"AB\xff\"}",
		`{"amount": 1, "product": "AB\udc00"}`,
		`{"amount": 1, "extra": ` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
		`{"amount": 1, "customer_id": "ghost"}`,
		`{"amount": 1, "offer_id": 7}`,
		`{"amount": null, "product": null}`,
		`{"amount": 2, "extra": "` + strings.Repeat("x", 1200) + `"}`,
		`{"amount": 3, "extra": "` + strings.Repeat("x", fuzzMaxBody) + `"}`,
		`[{"amount": 1}]`,
		``,
	} {
		for _, op := range []byte{0, 1, 2, 3} {
			f.Add(op, []byte(seed))
		}
	}
	fx := newWriteFixture(f)
	f.Fuzz(func(t *testing.T, op byte, body []byte) {
		// No input may hold the writes up: a few milliseconds are normal,
		// seconds mean unbounded work somewhere.
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("one input took %v", d)
			}
		}()
		owner, stale := "", ""
		if op&1 != 0 {
			owner = "u1"
		}
		if op&2 != 0 {
			stale = `"stale"`
		}
		fx.reset(t, owner)
		decoded, decodeErr := strictjson.Decode(body)
		sent, _ := decoded.(map[string]any)
		if decodeErr != nil || len(body) > fuzzMaxBody {
			sent = nil
		}

		// check runs one write: a refusal changes nothing, and is no 5xx.
		check := func(method, path, ifMatch string) (int, map[string]any) {
			before := fx.state(t, owner)
			status, answer, etag := fx.do(method, path, owner, ifMatch, body)
			switch {
			case status >= 500:
				t.Fatalf("%s %s: %d %s", method, path, status, answer)
			case status >= 300:
				if after := fx.state(t, owner); !bytes.Equal(before, after) {
					t.Fatalf("%s %s refused (%d %s) but changed the records", method, path, status, answer)
				}
				return status, nil
			case sent == nil:
				t.Fatalf("%s %s accepted a body strictjson refuses: %d %q", method, path, status, body)
			case ifMatch != "":
				t.Fatalf("%s %s accepted the stale If-Match %s", method, path, ifMatch)
			case etag == "":
				t.Fatalf("%s %s: no ETag", method, path)
			}
			return status, unwrap(t, answer)
		}
		expect := func(what string, got, want map[string]any) {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: read back %v; want %v", what, got, want)
			}
		}

		if _, rec := check(http.MethodPost, "/entities/Offer", ""); rec != nil {
			id := rec["offer_id"].(string)
			expect("create", fx.read(t, id, owner), withPK(sent, id))
		}
		cur := fx.read(t, fuzzFixedID, owner)
		if _, rec := check(http.MethodPatch, "/entities/Offer/"+fuzzFixedID, stale); rec != nil {
			expect("patch", fx.read(t, fuzzFixedID, owner), withPK(dynentity.MergePatch(cur, sent), fuzzFixedID))
		}
		if _, rec := check(http.MethodPut, "/entities/Offer/"+fuzzFixedID, stale); rec != nil {
			expect("replace", fx.read(t, fuzzFixedID, owner), withPK(sent, fuzzFixedID))
		}
		// Create again until the quota refuses: one user never keeps more
		// than the quota allows, and its accounts match the records.
		for range fuzzQuotaRecords + 1 {
			if status, _ := check(http.MethodPost, "/entities/Offer", ""); status >= 300 {
				break
			}
		}
		page, err := fx.api.Records.List(context.Background(), schemaOf(fx.entity, owner), owner, records.Query{Limit: records.MaxLimit, Raw: true})
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for _, r := range page.Raw {
			size += len(r)
		}
		if len(page.Raw) > fuzzQuotaRecords || size > fuzzQuotaBytes {
			t.Fatalf("%d records of %d bytes stored; the quota is %d records, %d bytes", len(page.Raw), size, fuzzQuotaRecords, fuzzQuotaBytes)
		}
		if err := fx.api.Records.Check(context.Background(), schemaOf(fx.entity, owner)); err != nil {
			t.Fatalf("after %q: %v", body, err)
		}
	})
}

// TestFuzzSeedsReachEveryOutcome makes sure the seeds exercise what the
// fuzzer checks: accepted writes of each kind and each kind of refusal.
func TestFuzzSeedsReachEveryOutcome(t *testing.T) {
	fx := newWriteFixture(t)
	fx.reset(t, "")
	seen := map[int]bool{}
	for _, body := range []string{
		`{"amount": 5, "customer_id": "c1"}`, `{"amount": 1e10000000}`, `{"amount": 1, "customer_id": "ghost"}`,
		`{"amount": 2, "extra": "` + strings.Repeat("x", fuzzMaxBody) + `"}`,
		`{"amount": 2, "extra": "` + strings.Repeat("x", 2500) + `"}`, `{"amount": 3}`, `{"amount": 4}`,
	} {
		status, answer, _ := fx.do(http.MethodPost, "/entities/Offer", "", "", []byte(body))
		seen[status] = true
		if status >= 500 {
			t.Fatalf("%d %s", status, answer)
		}
	}
	status, _, _ := fx.do(http.MethodPatch, "/entities/Offer/"+fuzzFixedID, "", `"stale"`, []byte(`{"amount": 2}`))
	seen[status] = true
	for _, want := range []int{201, 400, 412, 413, 429} {
		if !seen[want] {
			t.Errorf("no %d among %v", want, seen)
		}
	}
}
