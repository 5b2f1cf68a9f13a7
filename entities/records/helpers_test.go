package records

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// Test schemas: in bank "b1", Customer <- LoanOffer <- Application (each
// references the previous), Wish is personal and references a LoanOffer.
func customerSchema(bank string) *Schema {
	return &Schema{BankID: bank, Entity: "Customer", PrimaryKey: "customer_id",
		Indexed: map[string]Kind{"customer_id": KindString, "name": KindString, "age": KindNumber}}
}

func offerSchema(bank string) *Schema {
	return &Schema{BankID: bank, Entity: "LoanOffer", PrimaryKey: "loan_offer_id",
		Indexed: map[string]Kind{
			"loan_offer_id": KindString, "name": KindString, "amount": KindNumber, "rate": KindNumber,
			"active": KindBool, "start": KindDate, "customer_id": KindString,
		},
		References: map[string]Target{"customer_id": {BankID: bank, Entity: "Customer"}}}
}

func applicationSchema(bank string) *Schema {
	return &Schema{BankID: bank, Entity: "Application", PrimaryKey: "application_id",
		Indexed:    map[string]Kind{"status": KindString, "loan_offer_id": KindString, "parent_id": KindString},
		References: map[string]Target{"loan_offer_id": {BankID: bank, Entity: "LoanOffer"}, "parent_id": {BankID: bank, Entity: "Application"}}}
}

func wishSchema(bank string) *Schema {
	return &Schema{BankID: bank, Entity: "Wish", PrimaryKey: "wish_id", Personal: true,
		Indexed:    map[string]Kind{"note": KindString, "priority": KindNumber, "loan_offer_id": KindString},
		References: map[string]Target{"loan_offer_id": {BankID: bank, Entity: "LoanOffer"}}}
}

// open returns a record store on a fresh bbolt file.
func open(t testing.TB) (*Store, *boltstore.Store) {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "records.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db, Options{}), db
}

func mustCreate(t testing.TB, s *Store, sc *Schema, owner string, rec map[string]any) map[string]any {
	t.Helper()
	out, err := s.Create(context.Background(), sc, owner, "", rec)
	if err != nil {
		t.Fatalf("Create %s %v: %v", sc.Entity, rec, err)
	}
	return out.Record
}

// getRecord is Store.Get with the record alone as its result (nil on
// error).
func getRecord(s *Store, ctx context.Context, sc *Schema, owner, id string) (map[string]any, error) {
	st, err := s.Get(ctx, sc, owner, id)
	if err != nil {
		return nil, err
	}
	return st.Record, nil
}

func mustCheck(t testing.TB, s *Store, scs ...*Schema) {
	t.Helper()
	for _, sc := range scs {
		if err := s.Check(context.Background(), sc); err != nil {
			t.Fatalf("Check %s: %v", sc.Entity, err)
		}
	}
}

// wantError checks that err is an *engine.Error with status and code.
func wantError(t testing.TB, err error, status int, code string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v; want *engine.Error %d %s", err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %s (%v); want %d %s", e.Status, e.Code, e, status, code)
	}
	return e
}

// fill creates n records made by gen, batch per transaction, for
// benchmarks and large tests.
func fill(t testing.TB, s *Store, sc *Schema, owner string, n, batch int, gen func(i int) map[string]any) []string {
	t.Helper()
	l, err := scope(sc, owner)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, n)
	for start := 0; start < n; start += batch {
		var ps []*prepared
		for i := start; i < min(start+batch, n); i++ {
			rec := gen(i)
			id, _ := rec[l.pk].(string)
			if id == "" {
				if id, err = newID(); err != nil {
					t.Fatal(err)
				}
				rec[l.pk] = id
			}
			p, err := l.prepare(rec, id)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
			ids = append(ids, id)
		}
		err := s.db.Update(context.Background(), func(tx engine.Tx) error {
			if err := ensureSchema(tx, l, true); err != nil {
				return err
			}
			for _, p := range ps {
				if err := insert(tx, l, owner, p); err != nil {
					return fmt.Errorf("record %s: %w", p.id, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// ids returns the primary keys of records.
func ids(recs []map[string]any, pk string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i], _ = r[pk].(string)
	}
	return out
}
