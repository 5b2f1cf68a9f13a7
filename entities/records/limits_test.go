package records

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// openWith returns a record store with options on a fresh bbolt file.
func openWith(t testing.TB, o Options) *Store {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "records.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db, o)
}

// sized returns a record whose stored form takes about n bytes.
func sized(n int) map[string]any { return map[string]any{"name": strings.Repeat("n", max(n-40, 1))} }

func TestQuota(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, Options{Quota: Quota{Records: 3, Bytes: 1000}})
	cust, wish := customerSchema("b1"), wishSchema("b1")

	t.Run("count per user and scope", func(t *testing.T) {
		for i := range 3 {
			if _, err := s.Create(ctx, cust, "", "u1", sized(50)); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		_, err := s.Create(ctx, cust, "", "u1", sized(50))
		e := wantError(t, err, http.StatusTooManyRequests, engine.CodeRecordQuotaExceeded)
		if !strings.Contains(e.Message, "3 records") {
			t.Errorf("the refusal does not name the quota: %s", e.Message)
		}
		if _, err := s.Create(ctx, cust, "", "u2", sized(50)); err != nil {
			t.Fatalf("another user: %v", err)
		}
		// Personal records are charged to their owner, whoever writes.
		for range 3 {
			mustCreateBy(t, s, wish, "alice", "u1", map[string]any{"note": "x"})
		}
		_, err = s.Create(ctx, wish, "alice", "u2", map[string]any{"note": "x"})
		wantError(t, err, http.StatusTooManyRequests, engine.CodeRecordQuotaExceeded)
		mustCheck(t, s, cust, wish)
	})

	t.Run("deleting frees the quota", func(t *testing.T) {
		p, err := s.List(ctx, cust, "", Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if err := s.Delete(ctx, cust, "", r["customer_id"].(string), false, nil); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			mustCreateBy(t, s, cust, "", "u1", sized(50))
		}
		mustCheck(t, s, cust)
	})

	t.Run("bytes, including growth by another user", func(t *testing.T) {
		offer := offerSchema("b2")
		big := mustCreateBy(t, s, offer, "", "u3", sized(600))
		_, err := s.Create(ctx, offer, "", "u3", sized(500))
		e := wantError(t, err, http.StatusRequestEntityTooLarge, engine.CodeRecordQuotaExceeded)
		if !strings.Contains(e.Message, "1000 bytes") {
			t.Errorf("the refusal does not name the quota: %s", e.Message)
		}
		id := big["loan_offer_id"].(string)
		// The record stays charged to u3, who would pass the quota.
		_, err = s.Replace(ctx, offer, "", id, sized(1200), nil)
		wantError(t, err, http.StatusRequestEntityTooLarge, engine.CodeRecordQuotaExceeded)
		// Shrinking always passes, and makes room.
		if _, err := s.Replace(ctx, offer, "", id, sized(100), nil); err != nil {
			t.Fatal(err)
		}
		mustCreateBy(t, s, offer, "", "u3", sized(500))
		mustCheck(t, s, offer)
	})

	t.Run("cascade refunds every record deleted", func(t *testing.T) {
		c := mustCreateBy(t, s, customerSchema("b3"), "", "u4", sized(50))
		offer := offerSchema("b3")
		for range 3 {
			mustCreateBy(t, s, offer, "", "u5", map[string]any{"customer_id": c["customer_id"]})
		}
		if err := s.Delete(ctx, customerSchema("b3"), "", c["customer_id"].(string), true, nil); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			mustCreateBy(t, s, offer, "", "u5", map[string]any{})
		}
		mustCheck(t, s, customerSchema("b3"), offer)
	})

	t.Run("migrations keep the accounts and delete-all forgets them", func(t *testing.T) {
		sc := customerSchema("b4")
		for range 3 {
			mustCreateBy(t, s, sc, "", "u6", sized(100))
		}
		if _, err := s.ReplaceAll(ctx, sc, func(m map[string]any) (map[string]any, error) {
			m["name"] = strings.Repeat("m", 400) // 3 × 400 is past the byte quota: a migration is not refused
			return m, nil
		}); err != nil {
			t.Fatal(err)
		}
		mustCheck(t, s, sc)
		if _, err := s.Create(ctx, sc, "", "u6", sized(50)); err == nil {
			t.Fatal("a user past the quota after a migration created another record")
		}
		if n, err := s.DeleteAll(ctx, sc); err != nil || n != 3 {
			t.Fatalf("DeleteAll = %d, %v", n, err)
		}
		for range 3 {
			mustCreateBy(t, s, sc, "", "u6", sized(50))
		}
		mustCheck(t, s, sc)
	})

	t.Run("records stored before quotas are charged to no one", func(t *testing.T) {
		sc := customerSchema("b5")
		old := fill(t, s, sc, "", 5, 5, func(i int) map[string]any { return sized(50) })
		for range 3 {
			mustCreateBy(t, s, sc, "", "u7", sized(50))
		}
		if err := s.Delete(ctx, sc, "", old[0], false, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Replace(ctx, sc, "", old[1], sized(900), nil); err != nil {
			t.Fatal(err)
		}
		mustCheck(t, s, sc)
	})
}

// TestQuotaConcurrent creates records from many goroutines at once: the
// quota is checked in the write's transaction, so it is never overshot.
func TestQuotaConcurrent(t *testing.T) {
	s := openWith(t, Options{Quota: Quota{Records: 10, Bytes: -1}})
	sc := customerSchema("b1")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			_, err := s.Create(context.Background(), sc, "", "u1", sized(50))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		var e *engine.Error
		switch {
		case err == nil:
			created++
		case errors.As(err, &e) && e.Code == engine.CodeRecordQuotaExceeded:
		default:
			t.Fatal(err)
		}
	}
	n, err := s.Count(t.Context(), sc, "")
	if created != 10 || n != 10 || err != nil {
		t.Fatalf("%d created, %d stored (%v); want 10", created, n, err)
	}
	mustCheck(t, s, sc)
}

func mustCreateBy(t testing.TB, s *Store, sc *Schema, owner, by string, rec map[string]any) map[string]any {
	t.Helper()
	out, err := s.Create(context.Background(), sc, owner, by, rec)
	if err != nil {
		t.Fatalf("Create %s by %s: %v", sc.Entity, by, err)
	}
	return out.Record
}

// TestUpdateConcurrent changes different fields of one record from many
// goroutines at once: each change is read, merged and written in one
// transaction, so none is lost.
func TestUpdateConcurrent(t *testing.T) {
	s, _ := open(t)
	sc := &Schema{Entity: "Profile", PrimaryKey: "profile_id"}
	mustCreate(t, s, sc, "", map[string]any{"profile_id": "p1"})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			_, err := s.Update(context.Background(), sc, "", "p1", nil, func(m map[string]any) (map[string]any, error) {
				m[fmt.Sprintf("f%02d", i)] = i
				return m, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := getRecord(s, t.Context(), sc, "", "p1")
	if err != nil || len(got) != 41 {
		t.Fatalf("after 40 updates the record has %d fields (%v): %v", len(got), err, got)
	}
}

func TestUpdateAndIfMatch(t *testing.T) {
	ctx := t.Context()
	s, _ := open(t)
	sc := offerSchema("b1")
	created, err := s.Create(ctx, sc, "", "u1", map[string]any{"loan_offer_id": "o1", "name": "a", "amount": 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, sc, "", "o1")
	if err != nil || got.ETag != created.ETag || !strings.HasPrefix(got.ETag, `"`) {
		t.Fatalf("ETag of Get %q, of Create %q (%v)", got.ETag, created.ETag, err)
	}
	tag := got.ETag
	unchanged := func(t *testing.T) {
		t.Helper()
		if now, err := s.Get(ctx, sc, "", "o1"); err != nil || now.ETag != tag {
			t.Fatalf("the record changed: %v, %v", now, err)
		}
	}
	stale := IfMatch{`"not-the-tag"`}
	fail := errors.New("no")

	tests := []struct {
		name   string
		run    func() error
		status int
		code   string
	}{
		{"replace, stale", func() error { _, err := s.Replace(ctx, sc, "", "o1", map[string]any{"name": "b"}, stale); return err },
			http.StatusPreconditionFailed, engine.CodePreconditionFailed},
		{"update, stale", func() error {
			_, err := s.Update(ctx, sc, "", "o1", stale, func(m map[string]any) (map[string]any, error) { return m, nil })
			return err
		}, http.StatusPreconditionFailed, engine.CodePreconditionFailed},
		{"delete, stale", func() error { return s.Delete(ctx, sc, "", "o1", false, stale) },
			http.StatusPreconditionFailed, engine.CodePreconditionFailed},
		{"weak tag never matches", func() error { return s.Delete(ctx, sc, "", "o1", false, IfMatch{"W/" + tag}) },
			http.StatusPreconditionFailed, engine.CodePreconditionFailed},
		{"any, on a missing record", func() error { return s.Delete(ctx, sc, "", "o2", false, IfMatch{"*"}) },
			http.StatusPreconditionFailed, engine.CodePreconditionFailed},
		{"update, missing", func() error {
			_, err := s.Update(ctx, sc, "", "o2", nil, func(m map[string]any) (map[string]any, error) { return m, nil })
			return err
		}, http.StatusNotFound, engine.CodeNotFound},
		{"update, change fails", func() error {
			_, err := s.Update(ctx, sc, "", "o1", nil, func(m map[string]any) (map[string]any, error) { return nil, fail })
			return err
		}, 0, ""},
		{"update changes the primary key", func() error {
			_, err := s.Update(ctx, sc, "", "o1", nil, func(m map[string]any) (map[string]any, error) {
				m["loan_offer_id"] = "o9"
				return m, nil
			})
			return err
		}, http.StatusBadRequest, CodePrimaryKeyFixed},
		{"update to a value that does not fit", func() error {
			_, err := s.Update(ctx, sc, "", "o1", IfMatch{tag}, func(m map[string]any) (map[string]any, error) {
				m["amount"] = "lots"
				return m, nil
			})
			return err
		}, http.StatusBadRequest, engine.CodeValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.status == 0 {
				if !errors.Is(err, fail) {
					t.Fatalf("error %v; want the change's own", err)
				}
			} else {
				wantError(t, err, tc.status, tc.code)
			}
			unchanged(t)
		})
	}

	t.Run("current tag, then any", func(t *testing.T) {
		up, err := s.Update(ctx, sc, "", "o1", IfMatch{`"x"`, tag}, func(m map[string]any) (map[string]any, error) {
			m["name"] = "b"
			return m, nil
		})
		if err != nil || up.ETag == tag || up.Record["name"] != "b" || up.Record["amount"] == nil {
			t.Fatalf("update with the current tag: %v, %v", up, err)
		}
		if now, _ := s.Get(ctx, sc, "", "o1"); now.ETag != up.ETag {
			t.Fatalf("ETag after the update %s; Update returned %s", now.ETag, up.ETag)
		}
		if _, err := s.Replace(ctx, sc, "", "o1", map[string]any{"name": "c"}, IfMatch{"*"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, sc, "", "o1", false, IfMatch{"*"}); err != nil {
			t.Fatal(err)
		}
	})
	mustCheck(t, s, sc)
}

// TestPageBytes pages through records larger than a page's byte budget
// allows in one go, in every plan, raw and decoded.
func TestPageBytes(t *testing.T) {
	s := openWith(t, Options{PageBytes: 1000})
	sc := offerSchema("b1")
	for i := range 7 {
		mustCreateBy(t, s, sc, "", "u1", map[string]any{"loan_offer_id": fmt.Sprintf("o%d", i), "amount": i,
			"name": strings.Repeat("n", 350), "active": true})
	}
	huge := mustCreateBy(t, s, sc, "", "u1", map[string]any{"loan_offer_id": "o9", "amount": 9, "name": strings.Repeat("h", 3000)})

	for _, tc := range []struct {
		q    Query
		want int
	}{
		{Query{Limit: 1000}, 8},
		{Query{Limit: 1000, SortBy: "amount", Descending: true}, 8},
		{Query{Limit: 1000, Filters: []Filter{f("amount", Gte, "0")}, SortBy: "name"}, 8}, // sorted in memory
		{Query{Limit: 1000, Filters: []Filter{f("amount", Eq, "1", "2", "3", "4", "9")}}, 5},
		{Query{Limit: 1000, Filters: []Filter{f("amount", Gte, "0"), f("active", Eq, "true")}, Count: true}, 7},
	} {
		for _, raw := range []bool{true, false} {
			q := tc.q
			q.Raw = raw
			t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
				seen := map[string]bool{}
				for _, p := range listPages(t, s, sc, "", q) {
					n, size := len(p.Records), 0
					for _, r := range p.Raw {
						size += len(r)
					}
					if raw {
						n = len(p.Raw)
					}
					if n == 0 || n > 2 || size > 1000 && n > 1 {
						t.Fatalf("page of %d records, %d bytes; want 1 or 2 within 1000 bytes, or one record", n, size)
					}
					for _, r := range p.Records {
						seen[r["loan_offer_id"].(string)] = true
					}
					for _, r := range p.Raw {
						m, _ := decode(r)
						seen[m["loan_offer_id"].(string)] = true
					}
				}
				if len(seen) != tc.want {
					t.Fatalf("pages held %d records; want %d", len(seen), tc.want)
				}
			})
		}
	}

	// A page whose filters reject record after record stops after reading
	// 16 budgets' worth, short, and the next carries on: here 100 records
	// of some 430 bytes take several pages to find the one that matches.
	t.Run("reads bounded", func(t *testing.T) {
		sc := offerSchema("b2")
		for i := range 100 {
			rate := 0
			if i == 99 {
				rate = 5
			}
			mustCreateBy(t, s, sc, "", fmt.Sprint("u", i), map[string]any{"amount": i, "rate": rate, "name": strings.Repeat("n", 350)})
		}
		for _, raw := range []bool{true, false} {
			pages := listPages(t, s, sc, "", Query{Filters: []Filter{f("amount", Gte, "0"), f("rate", Gt, "1")}, Raw: raw})
			found := 0
			for _, p := range pages {
				found += len(p.Raw) + len(p.Records)
			}
			if found != 1 || len(pages) < 3 {
				t.Fatalf("%d records in %d pages; want 1, found after several short pages", found, len(pages))
			}
		}
	})

	// A page over a record far larger than the budget holds it alone,
	// and allocates for what it holds, not for the limit.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := s.List(t.Context(), sc, "", Query{Limit: 1000, Raw: true, Filters: []Filter{f("amount", Eq, "9")}})
	runtime.ReadMemStats(&after)
	if err != nil || len(p.Raw) != 1 || !strings.Contains(string(p.Raw[0]), huge["name"].(string)) {
		t.Fatalf("page over the huge record: %v, %v", p, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("a page of one 3 kB record allocated %d bytes", n)
	}
}
