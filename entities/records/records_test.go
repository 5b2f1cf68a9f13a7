package records

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
)

func TestCRUD(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	cust, offer := customerSchema("b1"), offerSchema("b1")
	c := mustCreate(t, s, cust, "", map[string]any{"name": "Ada", "age": 36})

	// Generated id: a UUID, set in the returned record, caller's map untouched.
	in := map[string]any{"name": "Starter", "amount": 1000.5, "active": true, "start": "2024-02-29",
		"customer_id": c["customer_id"], "tags": []any{"a", "b"}, "nested": map[string]any{"x": 1.0}}
	created := mustCreate(t, s, offer, "", in)
	id, _ := created["loan_offer_id"].(string)
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("generated id %q is not a UUID: %v", id, err)
	}
	if _, ok := in["loan_offer_id"]; ok {
		t.Fatal("Create modified the caller's map")
	}

	tests := []struct {
		name   string
		run    func() error
		status int
		code   string
	}{
		{"supplied id", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"loan_offer_id": "offer-1", "name": "Mine"})
			return err
		}, 0, ""},
		{"supplied id taken", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"loan_offer_id": "offer-1"})
			return err
		}, http.StatusConflict, CodeRecordExists},
		{"generated id collides with nothing", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"loan_offer_id": nil})
			return err
		}, 0, ""},
		{"id not a string", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"loan_offer_id": 7.0})
			return err
		}, http.StatusBadRequest, engine.CodeValidationFailed},
		{"empty id", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"loan_offer_id": ""})
			return err
		}, http.StatusBadRequest, engine.CodeValidationFailed},
		{"number field given a string", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"amount": "lots"})
			return err
		}, http.StatusBadRequest, engine.CodeValidationFailed},
		{"bad date", func() error {
			_, err := s.Create(ctx, offer, "", "", map[string]any{"start": "2023-02-29"})
			return err
		}, http.StatusBadRequest, engine.CodeValidationFailed},
		{"get missing", func() error {
			_, err := getRecord(s, ctx, offer, "", "nope")
			return err
		}, http.StatusNotFound, engine.CodeNotFound},
		{"replace missing", func() error {
			_, err := s.Replace(ctx, offer, "", "nope", map[string]any{}, nil)
			return err
		}, http.StatusNotFound, engine.CodeNotFound},
		{"replace changes primary key", func() error {
			_, err := s.Replace(ctx, offer, "", id, map[string]any{"loan_offer_id": "other"}, nil)
			return err
		}, http.StatusBadRequest, CodePrimaryKeyFixed},
		{"delete missing", func() error { return s.Delete(ctx, offer, "", "nope", false, nil) }, http.StatusNotFound, engine.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, tc.status, tc.code)
		})
	}
	// The type error names the field.
	_, err := s.Create(ctx, offer, "", "", map[string]any{"amount": "lots", "active": "yes"})
	e := wantError(t, err, http.StatusBadRequest, engine.CodeValidationFailed)
	if len(e.Violations) != 2 || e.Violations[0].Pointer != "/active" || e.Violations[1].Pointer != "/amount" {
		t.Fatalf("violations = %+v; want /active and /amount", e.Violations)
	}

	got, err := getRecord(s, ctx, offer, "", id)
	if err != nil {
		t.Fatal(err)
	}
	if got["amount"] != json.Number("1000.5") || got["name"] != "Starter" || got["active"] != true ||
		!slices.Equal(got["tags"].([]any), []any{"a", "b"}) {
		t.Fatalf("Get = %v", got)
	}

	// Replace: a full replace, primary key may be omitted or repeated.
	rep, err := s.Replace(ctx, offer, "", id, map[string]any{"name": "Renamed", "amount": -3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Record["loan_offer_id"] != id {
		t.Fatalf("Replace returned %v; want the primary key set", rep.Record)
	}
	got, _ = getRecord(s, ctx, offer, "", id)
	if _, ok := got["tags"]; ok || got["name"] != "Renamed" || got["amount"] != json.Number("-3") {
		t.Fatalf("Get after Replace = %v; want the new record only", got)
	}
	if _, err := s.Replace(ctx, offer, "", id, map[string]any{"loan_offer_id": id, "name": "Again"}, nil); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s, offer, cust)

	n, err := s.Count(ctx, offer, "")
	if err != nil || n != 3 {
		t.Fatalf("Count = %d, %v; want 3", n, err)
	}
	if err := s.Delete(ctx, offer, "", id, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := getRecord(s, ctx, offer, "", id); err == nil {
		t.Fatal("Get after Delete found the record")
	}
	if n, _ := s.Count(ctx, offer, ""); n != 2 {
		t.Fatalf("Count after Delete = %d; want 2", n)
	}
	mustCheck(t, s, offer, cust)
}

func TestReferences(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	cust, offer, app := customerSchema("b1"), offerSchema("b1"), applicationSchema("b1")
	c := mustCreate(t, s, cust, "", map[string]any{"customer_id": "c1", "name": "Ada"})
	o := mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o1", "customer_id": "c1"})

	// A missing reference is a 400 naming field and value.
	_, err := s.Create(ctx, offer, "", "", map[string]any{"customer_id": "ghost"})
	e := wantError(t, err, http.StatusBadRequest, CodeReferenceNotFound)
	if len(e.Violations) != 1 || e.Violations[0].Location != "body" || e.Violations[0].Pointer != "/customer_id" ||
		!strings.Contains(e.Message, "ghost") || !strings.Contains(e.Message, "customer_id") {
		t.Fatalf("error = %v %+v", e, e.Violations)
	}
	_, err = s.Replace(ctx, offer, "", "o1", map[string]any{"customer_id": "ghost"}, nil)
	wantError(t, err, http.StatusBadRequest, CodeReferenceNotFound)
	_, err = s.Create(ctx, offer, "", "", map[string]any{"customer_id": 12.0})
	wantError(t, err, http.StatusBadRequest, engine.CodeValidationFailed)

	// A chain: c1 <- o1 <- a1 <- a2 (a2's parent is a1), a3 references itself.
	mustCreate(t, s, app, "", map[string]any{"application_id": "a1", "loan_offer_id": "o1", "status": "new"})
	mustCreate(t, s, app, "", map[string]any{"application_id": "a2", "loan_offer_id": "o1", "parent_id": "a1"})
	mustCreate(t, s, app, "", map[string]any{"application_id": "a3", "parent_id": "a3"})
	mustCheck(t, s, cust, offer, app)

	tests := []struct {
		name     string
		sc       *Schema
		id       string
		referrer []string // named in the 409
	}{
		{"customer", cust, "c1", []string{`LoanOffer "o1"`}},
		{"offer", offer, "o1", []string{`Application "a1"`, `Application "a2"`}},
		{"application with child", app, "a1", []string{`Application "a2"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Delete(ctx, tc.sc, "", tc.id, false, nil)
			e := wantError(t, err, http.StatusConflict, CodeReferenced)
			for _, r := range tc.referrer {
				if !strings.Contains(e.Message, r) {
					t.Errorf("message %q does not name %s", e.Message, r)
				}
			}
			if _, err := getRecord(s, ctx, tc.sc, "", tc.id); err != nil {
				t.Errorf("refused Delete removed the record: %v", err)
			}
		})
	}
	refs, err := s.Referrers(ctx, offer, "", "o1", 0)
	if err != nil || len(refs) != 2 || refs[0].Entity != "Application" || refs[0].Field != "loan_offer_id" {
		t.Fatalf("Referrers = %+v, %v", refs, err)
	}

	// A self-reference does not block its own deletion.
	if err := s.Delete(ctx, app, "", "a3", false, nil); err != nil {
		t.Fatalf("Delete of a self-referencing record: %v", err)
	}
	// A Replace that drops the reference releases the target.
	if _, err := s.Replace(ctx, app, "", "a2", map[string]any{"loan_offer_id": "o1"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, app, "", "a1", false, nil); err != nil {
		t.Fatalf("Delete after the referrer dropped its reference: %v", err)
	}
	mustCreate(t, s, app, "", map[string]any{"application_id": "a4", "loan_offer_id": "o1"})
	mustCreate(t, s, app, "", map[string]any{"application_id": "a5", "parent_id": "a4"})
	mustCheck(t, s, cust, offer, app)

	// Cascade from the customer deletes the whole chain.
	if err := s.Delete(ctx, cust, "", c["customer_id"].(string), true, nil); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		sc *Schema
		id string
	}{{cust, "c1"}, {offer, o["loan_offer_id"].(string)}, {app, "a2"}, {app, "a4"}, {app, "a5"}} {
		if _, err := getRecord(s, ctx, x.sc, "", x.id); err == nil {
			t.Errorf("%s %s survived the cascade", x.sc.Entity, x.id)
		}
	}
	for _, sc := range []*Schema{cust, offer, app} {
		if n, _ := s.Count(ctx, sc, ""); n != 0 {
			t.Errorf("Count %s = %d after cascade; want 0", sc.Entity, n)
		}
	}
	mustCheck(t, s, cust, offer, app)

	// A cycle cascades too.
	mustCreate(t, s, app, "", map[string]any{"application_id": "x", "status": "s"})
	mustCreate(t, s, app, "", map[string]any{"application_id": "y", "parent_id": "x"})
	if _, err := s.Replace(ctx, app, "", "x", map[string]any{"parent_id": "y"}, nil); err != nil {
		t.Fatal(err)
	}
	wantError(t, s.Delete(ctx, app, "", "x", false, nil), http.StatusConflict, CodeReferenced)
	if err := s.Delete(ctx, app, "", "x", true, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, app, ""); n != 0 {
		t.Fatalf("Count after cascading a cycle = %d", n)
	}
	mustCheck(t, s, app)
}

func TestPersonalIsolation(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	offer, wish := offerSchema("b1"), wishSchema("b1")
	shared := *wish // the same entity's shared records, as the registry describes them
	shared.Personal = false
	mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o1"})
	mustCreate(t, s, wish, "alice", map[string]any{"wish_id": "w1", "note": "alice's", "loan_offer_id": "o1", "priority": 1})
	mustCreate(t, s, wish, "alice", map[string]any{"wish_id": "w2", "note": "alice's too", "priority": 2})
	// Bob and the shared records may use the same id: each scope has its
	// own id space.
	mustCreate(t, s, wish, "bob", map[string]any{"wish_id": "w1", "note": "bob's", "priority": 1})
	mustCreate(t, s, &shared, "", map[string]any{"wish_id": "w1", "note": "everyone's", "priority": 1})

	tests := []struct {
		sc    *Schema
		owner string
		want  []string
	}{
		{wish, "alice", []string{"alice's", "alice's too"}},
		{wish, "bob", []string{"bob's"}},
		{wish, "carol", nil},
		{&shared, "", []string{"everyone's"}},
	}
	for _, tc := range tests {
		t.Run("owner "+tc.owner, func(t *testing.T) {
			for _, q := range []Query{{Count: true}, {Filters: []Filter{{Field: "priority", Op: Gte, Values: []string{"0"}}}, Count: true}} {
				page, err := s.List(ctx, tc.sc, tc.owner, q)
				if err != nil {
					t.Fatal(err)
				}
				var notes []string
				for _, r := range page.Records {
					notes = append(notes, r["note"].(string))
				}
				if !slices.Equal(notes, tc.want) || *page.Total != len(tc.want) {
					t.Fatalf("List = %q (total %d); want %q", notes, *page.Total, tc.want)
				}
			}
			if n, _ := s.Count(ctx, tc.sc, tc.owner); n != len(tc.want) {
				t.Fatalf("Count = %d; want %d", n, len(tc.want))
			}
		})
	}
	if n, _ := s.CountAll(ctx, &shared); n != 4 {
		t.Fatalf("CountAll = %d; want 4 (every owner and the shared records)", n)
	}
	if got, _ := getRecord(s, ctx, &shared, "", "w1"); got["note"] != "everyone's" {
		t.Fatalf("shared w1 = %v", got)
	}
	if _, err := getRecord(s, ctx, wish, "bob", "w2"); err == nil {
		t.Fatal("bob read alice's record")
	}
	wantError(t, s.Delete(ctx, wish, "bob", "w2", false, nil), http.StatusNotFound, engine.CodeNotFound)
	if got, _ := getRecord(s, ctx, wish, "bob", "w1"); got["note"] != "bob's" {
		t.Fatalf("bob's w1 = %v", got)
	}

	// The owner rule: personal needs an owner, shared must not have one.
	if _, err := getRecord(s, ctx, wish, "", "w1"); err == nil {
		t.Fatal("personal entity read without owner")
	}
	if _, err := s.List(ctx, offer, "alice", Query{}); err == nil {
		t.Fatal("shared entity listed with an owner")
	}

	// Deleting the shared offer alice's wish references: refused, naming
	// no other user's record ids; cascade removes the wish.
	err := s.Delete(ctx, offer, "", "o1", false, nil)
	e := wantError(t, err, http.StatusConflict, CodeReferenced)
	if strings.Contains(e.Message, "w1") || !strings.Contains(e.Message, "other users") {
		t.Fatalf("message %q: want other users' records counted, not named", e.Message)
	}
	mustCheck(t, s, offer, wish)
	if err := s.Delete(ctx, offer, "", "o1", true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := getRecord(s, ctx, wish, "alice", "w1"); err == nil {
		t.Fatal("cascade left alice's wish")
	}
	if _, err := getRecord(s, ctx, wish, "bob", "w1"); err != nil {
		t.Fatal("cascade removed bob's unrelated wish")
	}
	if n, _ := s.CountAll(ctx, wish); n != 3 {
		t.Fatalf("CountAll = %d; want 3", n)
	}
	mustCheck(t, s, offer, wish)
}

func TestBankIsolation(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	b1, b2 := customerSchema("b1"), customerSchema("b2")
	sys := customerSchema("")
	mustCreate(t, s, b1, "", map[string]any{"customer_id": "c", "name": "one"})
	mustCreate(t, s, b2, "", map[string]any{"customer_id": "c", "name": "two"})
	mustCreate(t, s, sys, "", map[string]any{"customer_id": "c", "name": "system"})
	// A bank id with the separator in it stays apart.
	odd := customerSchema("b1/Customer")
	mustCreate(t, s, odd, "", map[string]any{"customer_id": "c", "name": "odd"})
	for sc, want := range map[*Schema]string{b1: "one", b2: "two", sys: "system", odd: "odd"} {
		got, err := getRecord(s, ctx, sc, "", "c")
		if err != nil || got["name"] != want {
			t.Errorf("bank %q: Get = %v, %v; want %s", sc.BankID, got, err, want)
		}
		page, err := s.List(ctx, sc, "", Query{Count: true})
		if err != nil || len(page.Records) != 1 || *page.Total != 1 {
			t.Errorf("bank %q: List = %v, %v", sc.BankID, page, err)
		}
	}
	// A reference resolves in the target's bank only.
	offer := offerSchema("b2")
	offer.References["customer_id"] = Target{BankID: "b3", Entity: "Customer"}
	_, err := s.Create(ctx, offer, "", "", map[string]any{"customer_id": "c"})
	wantError(t, err, http.StatusBadRequest, CodeReferenceNotFound)
	offer.References["customer_id"] = Target{BankID: "", Entity: "Customer"} // system level
	mustCreate(t, s, offer, "", map[string]any{"customer_id": "c"})
	wantError(t, s.Delete(ctx, sys, "", "c", false, nil), http.StatusConflict, CodeReferenced)
	if err := s.Delete(ctx, b1, "", "c", false, nil); err != nil {
		t.Fatalf("delete in b1, referenced only in the system bank's twin: %v", err)
	}
	mustCheck(t, s, b1, b2, sys, odd, offer)
}

func TestReplaceUpdatesIndexes(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	offer := offerSchema("b1")
	mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o1", "name": "old", "amount": 5})
	mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o2", "name": "other", "amount": 7})
	find := func(field string, op Op, v string) []string {
		t.Helper()
		page, err := s.List(ctx, offer, "", Query{Filters: []Filter{{Field: field, Op: op, Values: []string{v}}}})
		if err != nil {
			t.Fatal(err)
		}
		return ids(page.Records, "loan_offer_id")
	}
	if got := find("name", Eq, "old"); !slices.Equal(got, []string{"o1"}) {
		t.Fatalf("name=old finds %v", got)
	}
	if _, err := s.Replace(ctx, offer, "", "o1", map[string]any{"name": "new", "amount": 6}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field string
		op    Op
		value string
		want  []string
	}{
		{"name", Eq, "old", nil},
		{"name", Eq, "new", []string{"o1"}},
		{"amount", Eq, "5", nil},
		{"amount", Lt, "6.5", []string{"o1"}},
	} {
		if got := find(tc.field, tc.op, tc.value); !slices.Equal(got, tc.want) {
			t.Errorf("%s %v %s finds %v; want %v", tc.field, tc.op, tc.value, got, tc.want)
		}
	}
	// Removing a value indexes the record as null: no filter finds it.
	if _, err := s.Replace(ctx, offer, "", "o1", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := find("amount", Gt, "-1e300"); !slices.Equal(got, []string{"o2"}) {
		t.Fatalf("amount>-1e300 finds %v; want [o2]", got)
	}
	mustCheck(t, s, offer)
}

func TestReplaceAllAndDeleteAll(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	cust, offer, wish := customerSchema("b1"), offerSchema("b1"), wishSchema("b1")
	for i := range 30 {
		mustCreate(t, s, cust, "", map[string]any{"name": string(rune('a' + i%26)), "age": i})
	}
	mustCreate(t, s, wish, "alice", map[string]any{"note": "x", "priority": 1})
	mustCreate(t, s, wish, "bob", map[string]any{"note": "y", "priority": 2})

	// A changed schema (new indexed field, a kind change) is refused until
	// the records are migrated.
	next := customerSchema("b1")
	next.Indexed["tier"] = KindNumber
	next.Indexed["age"] = KindString
	for name, err := range map[string]error{
		"create": func() error { _, err := s.Create(ctx, next, "", "", map[string]any{}); return err }(),
		"list":   func() error { _, err := s.List(ctx, next, "", Query{}); return err }(),
	} {
		if err == nil {
			t.Fatalf("%s with a changed schema succeeded", name)
		}
		wantError(t, err, http.StatusConflict, CodeReindexRequired)
	}
	if needs, err := s.NeedsReindex(ctx, next); err != nil || !needs {
		t.Fatalf("NeedsReindex = %v, %v; want true", needs, err)
	}
	// A failing migration changes nothing.
	_, err := s.ReplaceAll(ctx, next, func(r map[string]any) (map[string]any, error) { return r, nil })
	wantError(t, err, http.StatusBadRequest, engine.CodeValidationFailed) // age is a number, now a string field
	fail := errors.New("stop")
	if _, err := s.ReplaceAll(ctx, next, func(r map[string]any) (map[string]any, error) { return nil, fail }); !errors.Is(err, fail) {
		t.Fatalf("ReplaceAll = %v; want fn's error", err)
	}
	mustCheck(t, s, cust)

	n, err := s.ReplaceAll(ctx, next, func(r map[string]any) (map[string]any, error) {
		age, _ := r["age"].(json.Number).Int64()
		r["tier"] = age % 3
		r["age"] = json.Number(r["age"].(json.Number)).String()
		delete(r, "customer_id") // may be omitted: kept
		return r, nil
	})
	if err != nil || n != 30 {
		t.Fatalf("ReplaceAll = %d, %v; want 30", n, err)
	}
	mustCheck(t, s, next)
	page, err := s.List(ctx, next, "", Query{Filters: []Filter{{Field: "tier", Op: Eq, Values: []string{"2"}}}, Count: true})
	if err != nil || *page.Total != 10 {
		t.Fatalf("tier=2: %v, %v; want 10", page, err)
	}
	page, err = s.List(ctx, next, "", Query{Filters: []Filter{{Field: "age", Op: Eq, Values: []string{"7"}}}})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("age=\"7\" as a string: %v, %v", page, err)
	}
	if _, err := s.ReplaceAll(ctx, next, func(r map[string]any) (map[string]any, error) {
		r["customer_id"] = "changed"
		return r, nil
	}); err == nil {
		t.Fatal("ReplaceAll changed primary keys")
	}
	if n, err := s.Reindex(ctx, next); err != nil || n != 30 {
		t.Fatalf("Reindex = %d, %v", n, err)
	}
	mustCheck(t, s, next)

	// Personal entities: every owner.
	if n, err := s.ReplaceAll(ctx, wish, func(r map[string]any) (map[string]any, error) {
		r["note"] = r["note"].(string) + "!"
		return r, nil
	}); err != nil || n != 2 {
		t.Fatalf("ReplaceAll of a personal entity = %d, %v", n, err)
	}
	if got, _ := getRecord(s, ctx, wish, "bob", ids(mustList(t, s, wish, "bob"), "wish_id")[0]); got["note"] != "y!" {
		t.Fatalf("bob's wish after ReplaceAll = %v", got)
	}
	all := 0
	if err := s.EachAll(ctx, wish, func(map[string]any) error { all++; return nil }); err != nil || all != 2 {
		t.Fatalf("EachAll saw %d, %v", all, err)
	}

	// DeleteAll: refused while another entity references a record.
	c0 := ids(mustList(t, s, next, ""), "customer_id")[0]
	mustCreate(t, s, offer, "", map[string]any{"customer_id": c0})
	_, err = s.DeleteAll(ctx, next)
	wantError(t, err, http.StatusConflict, CodeReferenced)
	if n, _ := s.CountAll(ctx, next); n != 30 {
		t.Fatalf("refused DeleteAll deleted records: %d left", n)
	}
	if n, err := s.DeleteAll(ctx, offer); err != nil || n != 1 {
		t.Fatalf("DeleteAll offers = %d, %v", n, err)
	}
	if n, err := s.DeleteAll(ctx, next); err != nil || n != 30 {
		t.Fatalf("DeleteAll customers = %d, %v", n, err)
	}
	if n, err := s.DeleteAll(ctx, wish); err != nil || n != 2 {
		t.Fatalf("DeleteAll wishes = %d, %v", n, err)
	}
	for _, sc := range []*Schema{next, offer, wish} {
		if n, _ := s.CountAll(ctx, sc); n != 0 {
			t.Fatalf("%s: %d records after DeleteAll", sc.Entity, n)
		}
		mustCheck(t, s, sc)
	}
	// The stored schema is gone: any schema goes again.
	mustCreate(t, s, cust, "", map[string]any{"age": 1})
	mustCheck(t, s, cust)
}

func mustList(t *testing.T, s *Store, sc *Schema, owner string) []map[string]any {
	t.Helper()
	page, err := s.List(t.Context(), sc, owner, Query{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

// TestCheckFindsDamage breaks the indexes behind the store's back.
func TestCheckFindsDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tx engine.Tx, l *layout) error
		want   string
	}{
		{"missing index entry", func(tx engine.Tx, l *layout) error {
			return tx.Delete(l.index("", "name"), indexKey(encodeString("n1"), "o1"))
		}, "index name entry"},
		{"stray index entry", func(tx engine.Tx, l *layout) error {
			return tx.Put(l.index("", "amount"), indexKey(encodeNumber(99), "o1"), nil)
		}, "the record's value"},
		{"missing record", func(tx engine.Tx, l *layout) error { return tx.Delete(l.records(""), "o2") }, "record"},
		{"missing back-link", func(tx engine.Tx, l *layout) error {
			return tx.Delete(refsBucket, linkKey(rec{"b1", "Customer", "", "c1"}, rec{"b1", "LoanOffer", "", "o1"}, "customer_id"))
		}, "back-link"},
		{"wrong count", func(tx engine.Tx, l *layout) error { return addCount(tx, "b1", "LoanOffer", "", 1) }, "count says"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, db := open(t)
			cust, offer := customerSchema("b1"), offerSchema("b1")
			mustCreate(t, s, cust, "", map[string]any{"customer_id": "c1"})
			mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o1", "name": "n1", "amount": 1, "customer_id": "c1"})
			mustCreate(t, s, offer, "", map[string]any{"loan_offer_id": "o2", "name": "n2", "amount": 2})
			mustCheck(t, s, offer, cust)
			l, _ := layoutOf(offer)
			if err := db.Update(t.Context(), func(tx engine.Tx) error { return tc.damage(tx, l) }); err != nil {
				t.Fatal(err)
			}
			err := s.Check(t.Context(), offer)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v; want a problem mentioning %q", err, tc.want)
			}
		})
	}
}

// TestEncodingOrder checks that encoded order is value order.
func TestEncodingOrder(t *testing.T) {
	nums := []float64{math.Inf(-1), -math.MaxFloat64, -1e100, -1000.5, -2, -1, -0.5, -math.SmallestNonzeroFloat64,
		0, math.SmallestNonzeroFloat64, 1e-300, 0.1, 0.5, 1, 2, 3, 10, 1e15, 1 << 53, 1e300, math.MaxFloat64, math.Inf(1)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		nums = append(nums, (r.Float64()-0.5)*math.Pow(10, float64(r.IntN(40)-20)))
	}
	for range 10000 {
		a, b := nums[r.IntN(len(nums))], nums[r.IntN(len(nums))]
		ea, eb := encodeNumber(a), encodeNumber(b)
		if (a < b) != (ea < eb) || (a == b) != (ea == eb) {
			t.Fatalf("numbers %g, %g encode as %s, %s: order lost", a, b, ea, eb)
		}
	}
	if encodeNumber(math.Copysign(0, -1)) != encodeNumber(0) {
		t.Fatal("-0 and 0 encode differently")
	}
	strs := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x01", "\x01\x00", "\x01\x01", "\x02", "a", "a\x00", "a\x00b", "a\x01", "a\x02", "ab", "b", "é", "\xff", "\xff\x00"}
	for range 3000 {
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = []byte{0, 1, 2, 'a', 0xff}[r.IntN(5)]
		}
		strs = append(strs, string(b))
	}
	for _, a := range strs {
		for _, b := range strs[:40] {
			ea, eb := encodeString(a), encodeString(b)
			if strings.ContainsRune(ea, 0) {
				t.Fatalf("encoded %q holds NUL", a)
			}
			// Order of index keys (value + NUL + id) follows value order.
			ka, kb := ea+"\x00z", eb+"\x00a"
			if (a < b) != (ka < kb) || (a == b) != (ea == eb) {
				t.Fatalf("strings %q, %q encode as %q, %q: order lost", a, b, ea, eb)
			}
		}
	}
	for _, tc := range []struct {
		kind Kind
		v    any
		ok   bool
	}{
		{KindNumber, json.Number("12"), true}, {KindNumber, 3, true}, {KindNumber, int64(-3), true}, {KindNumber, uint8(3), true},
		{KindNumber, math.NaN(), false}, {KindNumber, "3", false}, {KindNumber, json.Number("1e999"), false},
		{KindBool, true, true}, {KindBool, "true", false},
		{KindDate, "2024-02-29", true}, {KindDate, "2023-02-29", false}, {KindDate, "2024-2-9", false}, {KindDate, 20240229, false},
		{KindString, "x", true}, {KindString, 1.0, false}, {KindString, nil, true},
	} {
		if _, err := encode(tc.kind, tc.v, true); (err == nil) != tc.ok {
			t.Errorf("encode(%v, %#v) error %v; want ok %v", tc.kind, tc.v, err, tc.ok)
		}
	}
}

func TestEachStops(t *testing.T) {
	s, _ := open(t)
	cust := customerSchema("b1")
	for range 5 {
		mustCreate(t, s, cust, "", map[string]any{})
	}
	n := 0
	err := s.Each(t.Context(), cust, "", func(map[string]any) error {
		if n++; n == 2 {
			return engine.ErrStop
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("Each = %v after %d; want nil after 2", err, n)
	}
	fail := errors.New("fail")
	if err := s.Each(t.Context(), cust, "", func(map[string]any) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("Each = %v; want fn's error", err)
	}
}
