package server_test

import (
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// BenchmarkCallLimits measures the call limits' cost on the guarded mock
// GET /hello: the admin calling through a consumer without limits (the
// policy finds none), through one limited far above what the benchmark
// reaches in every period of fixed length (four windows counted), and
// through that one with the admin's own limits set too (eight).
func BenchmarkCallLimits(b *testing.B) {
	inst := enginetest.New(b)
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/guarded", enginetest.ReadFile(b, testpaths.Shared("bench", "accounts.yaml")))
	high := map[string]any{"per_second_call_limit": 1_000_000_000, "per_minute_call_limit": 1_000_000_000,
		"per_hour_call_limit": 1_000_000_000, "per_day_call_limit": 1_000_000_000}
	token := func(name string, limits map[string]any) string {
		r := inst.Admin().PostJSON(b, "/admin/v1/consumers", map[string]string{"name": name})
		app := r.JSON(b)
		if limits != nil {
			putCallLimits(b, inst, "/admin/v1/consumers/"+app["consumer_id"].(string)+"/call-limits", limits)
		}
		login := inst.Anonymous().Send(b, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
			"DirectLogin": `username="` + enginetest.AdminUsername + `", password="` + enginetest.AdminPassword +
				`", consumer_key="` + app["consumer_key"].(string) + `"`}})
		return enginetest.DirectLogin(login.JSON(b)["token"].(string))
	}
	get := func(auth string) enginetest.Request {
		return enginetest.Request{Method: "GET", Path: "/guarded/hello", Header: map[string]string{"Authorization": auth}}
	}
	unlimited, limited := token("unlimited", nil), token("limited", high)
	handler := inst.Server.App().Handler()
	runBench(b, handler, benchCase{"GET hello guarded, no limit", get(unlimited), 200})
	runBench(b, handler, benchCase{"GET hello guarded, consumer limited", get(limited), 200})
	putCallLimits(b, inst, "/admin/v1/users/"+inst.AdminID(b)+"/call-limits", high)
	runBench(b, handler, benchCase{"GET hello guarded, consumer and user limited", get(limited), 200})
}

// putCallLimits sets call limits as the super admin.
func putCallLimits(b *testing.B, inst *enginetest.Engine, path string, limits map[string]any) {
	if r := inst.Admin().Send(b, enginetest.JSONRequest(b, http.MethodPut, path, limits)); r.Status != http.StatusOK {
		b.Fatalf("PUT %s: %d %s", path, r.Status, r.Body)
	}
}
