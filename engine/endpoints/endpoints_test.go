package endpoints_test

import (
	"context"
	"errors"
	"github.com/dynapi/dynapi/internal/testpaths"
	"net/http"
	"os"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/router"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/mock"
)

// failingStore refuses writes on demand, as a full disk would.
type failingStore struct {
	engine.Store
	fail bool
}

func (s *failingStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	if s.fail {
		return errors.New("disk full")
	}
	return s.Store.Update(ctx, fn)
}

func newManager(t *testing.T, store engine.Store) *endpoints.Manager {
	t.Helper()
	m := endpoints.New(store, endpoints.Options{Hosts: mockHosts(t, store), DefaultHost: mock.Host})
	if err := m.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// mockHosts is a dispatcher with the obp_mock connector alone, the hosts
// of the documents under test.
func mockHosts(t *testing.T, store engine.Store) endpoints.Hosts {
	t.Helper()
	reg := &connector.Registry{}
	if err := reg.Register(mock.Host, mock.Connector{}); err != nil {
		t.Fatal(err)
	}
	d, err := connector.New(connector.Options{Store: store, Connectors: reg})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func petstore(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testpaths.Shared("specs", "petstore-oas3", "petstore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFailedPersistChangesNothing checks that a change the store refuses is
// not served: configuration is persisted before it is swapped in.
func TestFailedPersistChangesNothing(t *testing.T) {
	bolt := authtest.OpenStore(t, "")
	store := &failingStore{Store: bolt}
	m := newManager(t, store)
	ctx := context.Background()

	store.fail = true
	_, err := m.Create(ctx, endpoints.CreateInput{Source: petstore(t)})
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != http.StatusInternalServerError {
		t.Fatalf("create on a failing store: %v", err)
	}
	var p router.Params
	if _, ok, _ := m.Snapshot().Routes.Match("GET", "/v1/pets", &p); ok {
		t.Fatal("a document that was not persisted is served")
	}

	store.fail = false
	ep, err := m.Create(ctx, endpoints.CreateInput{Source: petstore(t)})
	if err != nil {
		t.Fatal(err)
	}
	store.fail = true
	if err := m.Delete(ctx, "", ep.ID, nil); err == nil {
		t.Fatal("delete on a failing store succeeded")
	}
	if _, ok, _ := m.Snapshot().Routes.Match("GET", "/v1/pets", &p); !ok {
		t.Fatal("a delete that was not persisted stopped serving")
	}
	if _, err := m.SetHost(ctx, "", ep.ID, mock.Host, nil); err == nil {
		t.Fatal("set host on a failing store succeeded")
	}

	// What was acknowledged is there after a restart.
	store.fail = false
	again := newManager(t, store)
	if _, err := again.Get("", ep.ID); err != nil {
		t.Fatalf("acknowledged endpoint lost: %v", err)
	}
}

// TestSourceKeptThroughChanges: a served endpoint holds no copy of its
// document; Source reads the document exactly as submitted from the
// store, and a change of host, which rewrites the record, keeps it,
// across a restart too.
func TestSourceKeptThroughChanges(t *testing.T) {
	store := authtest.OpenStore(t, "")
	m := newManager(t, store)
	ctx := t.Context()
	source := petstore(t)
	ep, err := m.Create(ctx, endpoints.CreateInput{Source: source, ContentType: "application/yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Source(ctx, ep); err != nil || string(got) != string(source) {
		t.Fatalf("Source after create: %v, %d bytes, want the %d bytes submitted", err, len(got), len(source))
	}
	if ep, err = m.SetHost(ctx, "", ep.ID, mock.Host, nil); err != nil {
		t.Fatal(err)
	}
	again := newManager(t, store)
	reloaded, err := again.Get("", ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Source(ctx, reloaded); err != nil || string(got) != string(source) {
		t.Fatalf("Source after a host change and a restart: %v, %d bytes, want the %d bytes submitted", err, len(got), len(source))
	}
	if err := m.Delete(ctx, "", ep.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Source(ctx, ep); err == nil || engine.AsError(err).Status != http.StatusNotFound {
		t.Fatalf("Source of a deleted endpoint: %v, want a 404", err)
	}
}
