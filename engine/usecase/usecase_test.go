package usecase_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/mock"
)

// failingStore rolls back, while fail is set, every transaction that
// writes an audit entry once its work is done, as a commit the disk
// refuses would: the use case's own transaction fails, while any a package
// would run on its own beside it still commits.
type failingStore struct {
	engine.Store
	fail bool
}

var errDisk = errors.New("disk full")

func (s *failingStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	return s.Store.Update(ctx, func(tx engine.Tx) error {
		w := &auditWatch{Tx: tx}
		if err := fn(w); err != nil {
			return err
		}
		if s.fail && w.audited {
			return errDisk
		}
		return nil
	})
}

// auditWatch notes whether its transaction wrote an audit entry.
type auditWatch struct {
	engine.Tx
	audited bool
}

func (w *auditWatch) Put(bucket, key string, value []byte) error {
	w.audited = w.audited || bucket == "access_audit"
	return w.Tx.Put(bucket, key, value)
}

// env is the use cases over a real store in a temporary directory, with
// one user to act as.
type env struct {
	store   *failingStore
	cases   *usecase.Cases
	records *records.Store
	who     audit.Actor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bolt.Close() })
	store := &failingStore{Store: bolt}
	svc, err := access.New(t.Context(), access.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.Identity.CreateUser(t.Context(), audit.Actor{}, identity.NewUser{Username: "owner", Password: "correct horse battery 9"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := &connector.Registry{}
	if err := hosts.Register(mock.Host, mock.Connector{}); err != nil {
		t.Fatal(err)
	}
	d, err := connector.New(connector.Options{Store: store, Connectors: hosts})
	if err != nil {
		t.Fatal(err)
	}
	mgr := endpoints.New(store, endpoints.Options{
		Hosts:       d,
		DefaultHost: mock.Host,
		RoleExists:  func(name string) bool { _, ok := svc.Authz.Role(name); return ok },
	})
	if err := mgr.Boot(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := records.New(store, records.Options{})
	ents, err := dynentity.NewRegistry(t.Context(), store, recs)
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: store, cases: &usecase.Cases{Store: store, Access: svc, Endpoints: mgr, Entities: ents},
		records: recs, who: audit.Actor{UserID: u.ID, CorrelationID: "test"}}
}

func document(mount string, ids ...string) endpoints.CreateInput {
	paths := ""
	for i, id := range ids {
		if i > 0 {
			paths += ","
		}
		paths += fmt.Sprintf(`"/%s":{"get":{"operationId":"%s","responses":{"200":{"description":"ok"}}}}`, id, id)
	}
	return endpoints.CreateInput{Source: fmt.Appendf(nil,
		`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"%s"}],"paths":{%s}}`, mount, paths)}
}

// state is what a use case may change: documents served, roles, the
// owner's entitlements and the audit log.
type state struct{ documents, roles, entitlements, audit int }

func (e *env) state(t *testing.T) state {
	t.Helper()
	entries, _, err := e.cases.Access.Audit.List(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := e.cases.Access.Authz.EntitlementsOf(t.Context(), e.who.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return state{documents: len(e.cases.Endpoints.All()), roles: len(e.cases.Access.Authz.Roles()),
		entitlements: len(ents), audit: len(entries)}
}

// TestFailedCommitChangesNothing: when the transaction of a use case does
// not commit, nothing of it is seen: no document served or gone, no role,
// no entitlement, no audit entry; and it succeeds once the store does.
func TestFailedCommitChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	kept, err := e.cases.CreateDocument(ctx, e.who, document("/kept", "keptOp"))
	if err != nil {
		t.Fatal(err)
	}
	var announced []engine.Change
	e.cases.Changes.Subscribe(func(c engine.Change) { announced = append(announced, c) })
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"create", func() error { _, err := e.cases.CreateDocument(ctx, e.who, document("/new", "newOp")); return err }},
		{"replace", func() error {
			_, err := e.cases.ReplaceDocument(ctx, e.who, kept.ID, document("/kept", "otherOp"))
			return err
		}},
		{"delete", func() error { return e.cases.DeleteDocument(ctx, e.who, "", kept.ID) }},
		{"set host", func() error { _, err := e.cases.SetDocumentHost(ctx, e.who, "", kept.ID, mock.Host); return err }},
		{"preload", func() error {
			_, err := e.cases.PreloadDocument(ctx, e.who, "test_preloaded", document("/pre", "preOp"), nil)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.state(t)
			e.store.fail = true
			err := c.run()
			e.store.fail = false
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Status != http.StatusInternalServerError || !errors.Is(err, errDisk) {
				t.Fatalf("on a refused commit: %v", err)
			}
			if after := e.state(t); after != before {
				t.Fatalf("a refused commit changed %+v into %+v", before, after)
			}
			if announced != nil {
				t.Fatalf("a refused commit announced %+v", announced)
			}
			if got, err := e.cases.Endpoints.Get("", kept.ID); err != nil || got != kept {
				t.Fatalf("the kept document is no longer the one served: %v", err)
			}
		})
	}
}

// TestPreloadDocumentOnce: a preload serves its document once per store,
// in the transaction that marks it, and never again, not even after the
// document is deleted.
func TestPreloadDocumentOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	in := document("/pre", "preOp")
	for i, want := range []bool{true, false} {
		served, err := e.cases.PreloadDocument(ctx, e.who, "test_preloaded", in, nil)
		if err != nil || served != want {
			t.Fatalf("preload %d: served %v, %v; want %v", i, served, err, want)
		}
	}
	eps := e.cases.Endpoints.All()
	if len(eps) != 1 {
		t.Fatalf("%d documents after two preloads", len(eps))
	}
	if err := e.cases.DeleteDocument(ctx, e.who, "", eps[0].ID); err != nil {
		t.Fatal(err)
	}
	if served, err := e.cases.PreloadDocument(ctx, e.who, "test_preloaded", in, nil); err != nil || served {
		t.Fatalf("a deleted preload came back: %v %v", served, err)
	}
}

// TestChangesAfterCommit: each use case announces its change once it has
// committed, exactly once, and its subscribers find it served already.
func TestChangesAfterCommit(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	var got []engine.Change
	var served []bool // whether the document was served as the change says, at delivery
	e.cases.Changes.Subscribe(func(c engine.Change) {
		got = append(got, c)
		_, err := e.cases.Endpoints.Get(c.BankID, c.ID)
		served = append(served, (err == nil) == (c.Action != "delete"))
	})
	var id string
	for _, c := range []struct {
		action string
		run    func() error
	}{
		{"create", func() error {
			ep, err := e.cases.CreateDocument(ctx, e.who, document("/a", "aOp"))
			if err == nil {
				id = ep.ID
			}
			return err
		}},
		{"replace", func() error { _, err := e.cases.ReplaceDocument(ctx, e.who, id, document("/a", "bOp")); return err }},
		{"set_host", func() error { _, err := e.cases.SetDocumentHost(ctx, e.who, "", id, mock.Host); return err }},
		{"delete", func() error { return e.cases.DeleteDocument(ctx, e.who, "", id) }},
	} {
		t.Run(c.action, func(t *testing.T) {
			before := len(got)
			if err := c.run(); err != nil {
				t.Fatal(err)
			}
			if len(got) != before+1 {
				t.Fatalf("%d changes announced, want one: %+v", len(got)-before, got[before:])
			}
			want := engine.Change{Kind: engine.ChangeDocument, Action: c.action, ID: id}
			if got[before] != want || !served[before] {
				t.Fatalf("announced %+v (served as it says: %v), want %+v", got[before], served[before], want)
			}
		})
	}
}

// definition reads an entity definition from testdata.
func definition(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEntityChangeWithItsRecords: an entity update that migrates or
// reindexes its records, and a delete that cascades to them, change the
// records in the transaction that changes the definition: when it does not
// commit, neither the records nor the definition change (and the records
// stay usable under the definition still served); when it commits, both
// do.
func TestEntityChangeWithItsRecords(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, e *env, ent *dynentity.Entity) error
		// after a commit: the records' segments, and whether the entity is still served
		segments []string
		served   bool
	}{
		{"migration", func(t *testing.T, e *env, ent *dynentity.Entity) error {
			_, err := e.cases.UpdateEntity(t.Context(), e.who, usecase.EntityUpdate{ID: ent.ID,
				Definition: definition(t, "customer-segment-required.json"), Migrate: true, Defaults: map[string]any{"segment": "LEGACY"}})
			return err
		}, []string{"LEGACY", "LEGACY", "LEGACY"}, true},
		{"reindex", func(t *testing.T, e *env, ent *dynentity.Entity) error {
			_, err := e.cases.UpdateEntity(t.Context(), e.who, usecase.EntityUpdate{ID: ent.ID, Definition: definition(t, "customer-city.json")})
			return err
		}, []string{"", "", ""}, true},
		{"cascade", func(t *testing.T, e *env, ent *dynentity.Entity) error {
			return e.cases.DeleteEntity(t.Context(), e.who, "", ent.ID, true)
		}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ent, err := e.cases.CreateEntity(t.Context(), e.who, dynentity.NewEntity{Definition: definition(t, "customer.json")})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"Ann", "Bob", "Cid"} {
				if _, err := e.records.Create(t.Context(), ent.Schema, "", e.who.UserID, map[string]any{"name": name}); err != nil {
					t.Fatal(err)
				}
			}
			before := e.state(t)

			e.store.fail = true
			err = c.run(t, e, ent)
			e.store.fail = false
			if !errors.Is(err, errDisk) {
				t.Fatalf("on a refused commit: %v", err)
			}
			if got, err := e.cases.Entities.Get("", ent.ID); err != nil || got != ent {
				t.Fatalf("the definition served changed: %v", err)
			}
			if got := e.segments(t, ent); !slices.Equal(got, []string{"", "", ""}) {
				t.Fatalf("a refused commit changed the records: segments %q", got)
			}
			if after := e.state(t); after != before {
				t.Fatalf("a refused commit changed %+v into %+v", before, after)
			}

			if err := c.run(t, e, ent); err != nil {
				t.Fatal(err)
			}
			now, err := e.cases.Entities.Get("", ent.ID)
			if (err == nil) != c.served {
				t.Fatalf("entity served after the change: %v, want %v", err == nil, c.served)
			}
			if !c.served {
				if n, err := e.records.CountAll(t.Context(), ent.Schema); err != nil || n != 0 {
					t.Fatalf("%d records outlived their entity (%v)", n, err)
				}
				return
			}
			if got := e.segments(t, now); !slices.Equal(got, c.segments) {
				t.Fatalf("segments after the change %q, want %q", got, c.segments)
			}
		})
	}
}

// TestEntityUpdateRefusedChangesNothing: an update the records do not
// satisfy (a new required field, a field removed, a field's type changed)
// is refused with a 409 naming the cause, also when asked to migrate
// without a default that helps, and leaves records and definition alone.
func TestEntityUpdateRefusedChangesNothing(t *testing.T) {
	for _, c := range []struct {
		name, from, to string
		record         map[string]any
		migrate        bool
	}{
		{"new required field", "customer.json", "customer-segment-required.json", map[string]any{"name": "Ann"}, false},
		{"new required field, no default", "customer.json", "customer-segment-required.json", map[string]any{"name": "Ann"}, true},
		{"field removed", "customer-nickname.json", "customer.json", map[string]any{"name": "Ann", "nickname": "A"}, false},
		{"type changed", "customer.json", "customer-name-integer.json", map[string]any{"name": "Ann"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ent, err := e.cases.CreateEntity(t.Context(), e.who, dynentity.NewEntity{Definition: definition(t, c.from)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.records.Create(t.Context(), ent.Schema, "", e.who.UserID, c.record); err != nil {
				t.Fatal(err)
			}
			before := e.state(t)
			_, err = e.cases.UpdateEntity(t.Context(), e.who, usecase.EntityUpdate{ID: ent.ID,
				Definition: definition(t, c.to), Migrate: c.migrate})
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Status != http.StatusConflict || ee.Code != "records_incompatible" {
				t.Fatalf("update the records do not satisfy: %v", err)
			}
			if got, err := e.cases.Entities.Get("", ent.ID); err != nil || got != ent {
				t.Fatalf("the definition served changed: %v", err)
			}
			if after := e.state(t); after != before {
				t.Fatalf("a refused update changed %+v into %+v", before, after)
			}
			var stored []map[string]any
			if err := e.records.EachAll(t.Context(), ent.Schema, func(rec map[string]any) error {
				stored = append(stored, rec)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(stored) != 1 || stored[0]["name"] != c.record["name"] || stored[0]["nickname"] != c.record["nickname"] {
				t.Fatalf("records after a refused update: %v", stored)
			}
		})
	}
}

// TestEntityMigrationRefusedChangesNothing: a migration that adds a
// reference whose default names no record is refused with the record it
// cannot store, and the records it rewrote before are as they were.
func TestEntityMigrationRefusedChangesNothing(t *testing.T) {
	e := newEnv(t)
	if _, err := e.cases.CreateEntity(t.Context(), e.who, dynentity.NewEntity{Definition: definition(t, "branch.json")}); err != nil {
		t.Fatal(err)
	}
	ent, err := e.cases.CreateEntity(t.Context(), e.who, dynentity.NewEntity{Definition: definition(t, "customer.json")})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Ann", "Bob"} {
		if _, err := e.records.Create(t.Context(), ent.Schema, "", e.who.UserID, map[string]any{"name": name}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.state(t)
	_, err = e.cases.UpdateEntity(t.Context(), e.who, usecase.EntityUpdate{ID: ent.ID,
		Definition: definition(t, "customer-branch-required.json"), Migrate: true,
		Defaults: map[string]any{"branch_id": "no-such-branch"}})
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Code != records.CodeReferenceNotFound {
		t.Fatalf("migration to a reference naming no record: %v", err)
	}
	if got, err := e.cases.Entities.Get("", ent.ID); err != nil || got != ent {
		t.Fatalf("the definition served changed: %v", err)
	}
	if after := e.state(t); after != before {
		t.Fatalf("a refused migration changed %+v into %+v", before, after)
	}
	if err := e.records.EachAll(t.Context(), ent.Schema, func(rec map[string]any) error {
		if _, ok := rec["branch_id"]; ok {
			t.Errorf("a refused migration rewrote %v", rec)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if needs, err := e.records.NeedsReindex(t.Context(), ent.Schema); err != nil || needs {
		t.Fatalf("records not indexed for the definition served: %v %v", needs, err)
	}
}

// segments lists the segment of every record of ent, as read with ent's
// schema ("" for none); reading fails if the records are not indexed for
// it.
func (e *env) segments(t *testing.T, ent *dynentity.Entity) []string {
	t.Helper()
	var out []string
	if err := e.records.EachAll(t.Context(), ent.Schema, func(rec map[string]any) error {
		s, _ := rec["segment"].(string)
		out = append(out, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if needs, err := e.records.NeedsReindex(t.Context(), ent.Schema); err != nil || needs {
		t.Fatalf("records not indexed for the definition served: %v %v", needs, err)
	}
	return out
}
