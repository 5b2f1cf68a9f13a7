package dynapi_test

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The start of an instance as the composition root wires it: bootstrap
// credentials, documents and the example loaded from the store.

// TestBootstrapPrintedOnce checks that a first start without configured
// credentials prints a generated admin password and consumer once, that
// they work, and that later starts print nothing.
func TestBootstrapPrintedOnce(t *testing.T) {
	dir := t.TempDir()
	var first, second strings.Builder
	for _, out := range []*strings.Builder{&first, &second} {
		e := enginetest.New(t, enginetest.InDir(dir), enginetest.Configure(func(c *dynapi.Config) {
			c.Admin, c.Out = identity.BootstrapOptions{}, out
		}))
		e.Close(t)
	}
	if second.Len() != 0 {
		t.Fatalf("second start printed %q", second.String())
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `:\s+(\S+)$`).FindStringSubmatch(first.String())
		if m == nil {
			t.Fatalf("first start did not print %s: %q", name, first.String())
		}
		return m[1]
	}
	password, key := field("password"), field("consumer_key")
	field("consumer_secret")
	e := enginetest.New(t, enginetest.InDir(dir), enginetest.Configure(func(c *dynapi.Config) { c.Admin = identity.BootstrapOptions{} }))
	e.Run(t, enginetest.Scenario{Name: "the printed credentials log in", Caller: e.Anonymous(),
		Request: enginetest.Request{Method: http.MethodPost, Path: "/my/logins/direct", Header: map[string]string{
			"DirectLogin": `username="admin", password="` + password + `", consumer_key="` + key + `"`}},
		WantStatus: http.StatusCreated})
}

// TestRestart checks that documents persist: posted, stopped, started on the
// same data directory, still served.
func TestRestart(t *testing.T) {
	e := enginetest.New(t)
	created := e.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/restart", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "ob-uk-v4.0/account-info-openapi.yaml")))
	e.Close(t)

	e = enginetest.New(t, enginetest.InDir(e.Dir))
	e.Run(t,
		// Served, and bound to its consent profile again: the admin's
		// token is bound to no consent.
		enginetest.Scenario{Name: "served after restart", Caller: e.Admin(),
			Request:    enginetest.Request{Method: http.MethodGet, Path: "/restart/accounts", Header: map[string]string{"x-fapi-auth-date": "Sun, 10 Sep 2017 19:43:31 UTC"}},
			WantStatus: http.StatusForbidden,
			Check: func(t *testing.T, r enginetest.Response) {
				if r.JSON(t)["Code"] != "consent_missing" {
					t.Fatalf("served after restart: %s", r.Body)
				}
			}},
		enginetest.Scenario{Name: "endpoint after restart", Caller: e.Admin(),
			Request:    enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/dynamic-endpoints/" + created["dynamic_endpoint_id"].(string)},
			WantStatus: 200,
			Check: func(t *testing.T, r enginetest.Response) {
				if r.JSON(t)["mount"] != "/restart" {
					t.Fatalf("endpoint after restart: %s", r.Body)
				}
			}},
	)
}

// TestExamplePreloadedOnce: the example is preloaded on a first start
// only, so one deleted stays deleted.
func TestExamplePreloadedOnce(t *testing.T) {
	preload := enginetest.Configure(func(c *dynapi.Config) { c.PreloadExample = true })
	e := enginetest.New(t, preload)
	if r := e.Admin().Get(t, "/example/v1/accounts"); r.Status != 200 || !strings.Contains(string(r.Body), "GB33BUKB20201555555555") {
		t.Fatalf("example: %d %s", r.Status, r.Body)
	}
	id := e.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any)[0].(map[string]any)["dynamic_endpoint_id"].(string)
	if r := e.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+id); r.Status != 204 {
		t.Fatal(r.Status)
	}
	e.Close(t)
	e = enginetest.New(t, preload, enginetest.InDir(e.Dir))
	if r := e.Admin().Get(t, "/example/v1/accounts"); r.Status != 404 {
		t.Fatalf("a deleted example came back: %d", r.Status)
	}
}
