package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// TestReadiness: /readyz answers 200 once the instance booted, and a 503
// not_ready problem saying why once its store no longer answers (seen at
// the next check, at most a ReadinessInterval later) and once it is
// shutting down; /healthz, the liveness check, answers 200 throughout.
func TestReadiness(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, inst *enginetest.Engine)
		why  string
	}{
		{"the store closed", func(t *testing.T, inst *enginetest.Engine) {
			if err := inst.Store.Close(); err != nil {
				t.Fatal(err)
			}
			if r := inst.Anonymous().Get(t, "/readyz"); r.Status != http.StatusOK {
				t.Errorf("the store was checked again within %s: %d %s", server.ReadinessInterval, r.Status, r.Body)
			}
			inst.Clock.Advance(server.ReadinessInterval)
		}, "the store does not answer"},
		{"shutting down", func(t *testing.T, inst *enginetest.Engine) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := inst.Server.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}, "the server is shutting down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := enginetest.New(t)
			if r := inst.Anonymous().Get(t, "/readyz"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"ready"`) {
				t.Fatalf("after boot: %d %s", r.Status, r.Body)
			}
			tc.stop(t, inst)
			r := inst.Anonymous().Get(t, "/readyz")
			if r.Status != http.StatusServiceUnavailable {
				t.Fatalf("%d %s, want 503", r.Status, r.Body)
			}
			if p := r.Problem(t); p.Code != server.CodeNotReady || !strings.Contains(p.Message, tc.why) {
				t.Errorf("problem %s %q, want %s saying %q", p.Code, p.Message, server.CodeNotReady, tc.why)
			}
			if r := inst.Anonymous().Get(t, "/healthz"); r.Status != http.StatusOK {
				t.Errorf("/healthz: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestNotReadyBeforeBoot: until the endpoints manager has loaded the
// stored documents, /readyz answers 503 not_ready saying so.
func TestNotReadyBeforeBoot(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "dynapi.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() }) //nolint:errcheck // a temporary store
	mgr := endpoints.New(store, endpoints.Options{})
	srv := server.New(server.Config{Readiness: server.NewReadiness(store, nil)}, mgr, nil)
	for _, tc := range []struct {
		name   string
		boot   bool
		status int
	}{{"before boot", false, http.StatusServiceUnavailable}, {"after boot", true, http.StatusOK}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.boot {
				if err := mgr.Boot(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != http.StatusOK && !strings.Contains(string(body), "the API documents are not loaded yet") {
				t.Errorf("%s does not say what is not ready", body)
			}
		})
	}
}
