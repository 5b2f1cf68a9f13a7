package ratelimit_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// app is a consumer app the super admin registered, with the admin's
// DirectLogin token through it.
type app struct {
	ID, Key string
	Admin   enginetest.Caller
}

// newApp registers a consumer app as the super admin and logs the admin
// in through it.
func newApp(t *testing.T, inst *enginetest.Engine, name string) app {
	t.Helper()
	r := inst.Admin().PostJSON(t, "/admin/v1/consumers", map[string]string{"name": name})
	if r.Status != http.StatusCreated {
		t.Fatalf("consumer %s: %d %s", name, r.Status, r.Body)
	}
	m := r.JSON(t)
	a := app{ID: m["consumer_id"].(string), Key: m["consumer_key"].(string)}
	a.Admin = inst.Token(loginVia(t, inst, enginetest.AdminUsername, enginetest.AdminPassword, a.Key))
	return a
}

// loginVia is the DirectLogin token of a user logged in through the
// consumer with key.
func loginVia(t *testing.T, inst *enginetest.Engine, username, password, key string) string {
	t.Helper()
	r := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
		"DirectLogin": `username="` + username + `", password="` + password + `", consumer_key="` + key + `"`}})
	if r.Status != http.StatusCreated {
		t.Fatalf("login %s through %s: %d %s", username, key, r.Status, r.Body)
	}
	return r.JSON(t)["token"].(string)
}

// serveHello serves testdata/hello.yaml, whose GET /limited/hello only an
// authenticated caller with its role (the admin) may call.
func serveHello(t *testing.T, inst *enginetest.Engine) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("testdata", "hello.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?mount=/limited", doc)
}

// putLimits sets call limits as c, returning the answer.
func putLimits(t *testing.T, c enginetest.Caller, path string, body any) enginetest.Response {
	t.Helper()
	return c.Send(t, enginetest.JSONRequest(t, http.MethodPut, path, body))
}

// mustPutLimits sets call limits as c, failing the test unless they are
// taken.
func mustPutLimits(t *testing.T, c enginetest.Caller, path string, body any) {
	t.Helper()
	if r := putLimits(t, c, path, body); r.Status != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", path, r.Status, r.Body)
	}
}

// calls sends n GETs of path as c and returns their statuses.
func calls(t *testing.T, c enginetest.Caller, path string, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = c.Get(t, path).Status
	}
	return out
}

// statuses is n times status.
func statuses(status, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = status
	}
	return out
}
