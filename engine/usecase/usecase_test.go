package usecase_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/mock"
)

// failingStore rolls back every transaction once its work is done while
// fail is set, as a commit the disk refuses would.
type failingStore struct {
	engine.Store
	fail bool
}

var errDisk = errors.New("disk full")

func (s *failingStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	return s.Store.Update(ctx, func(tx engine.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.fail {
			return errDisk
		}
		return nil
	})
}

// env is the use cases over a real store in a temporary directory, with
// one user to act as.
type env struct {
	store *failingStore
	cases *usecase.Cases
	who   access.Actor
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
	u, err := svc.CreateUser(t.Context(), access.Actor{}, access.NewUser{Username: "owner", Password: "correct horse battery 9"})
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
		RoleExists:  func(name string) bool { _, ok := svc.Role(name); return ok },
	})
	if err := mgr.Boot(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &env{store: store, cases: &usecase.Cases{Store: store, Access: svc, Endpoints: mgr},
		who: access.Actor{UserID: u.ID, CorrelationID: "test"}}
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
	entries, _, err := e.cases.Access.AuditLog(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := e.cases.Access.EntitlementsOf(t.Context(), e.who.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return state{documents: len(e.cases.Endpoints.All()), roles: len(e.cases.Access.Roles()),
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
			_, err := e.cases.PreloadDocument(ctx, e.who, "test_preloaded", document("/pre", "preOp"))
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
		served, err := e.cases.PreloadDocument(ctx, e.who, "test_preloaded", in)
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
	if served, err := e.cases.PreloadDocument(ctx, e.who, "test_preloaded", in); err != nil || served {
		t.Fatalf("a deleted preload came back: %v %v", served, err)
	}
}
