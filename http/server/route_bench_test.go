package server_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// BenchmarkFixedRoutes answers fixed routes through the pipeline's
// stages: health (public), the role list (any caller) and one entity
// record (the entity's role, resolved per request).
func BenchmarkFixedRoutes(b *testing.B) {
	e := enginetest.New(b)
	admin := e.Admin()
	if r := admin.Send(b, enginetest.JSONRequest(b, http.MethodPost, "/admin/v1/dynamic-entities",
		enginetest.ReadFile(b, filepath.Join("testdata", "hooks-entity.json")))); r.Status != http.StatusCreated {
		b.Fatalf("create entity: %d %s", r.Status, r.Body)
	}
	r := admin.PostJSON(b, "/entities/Offer", map[string]int{"amount": 1})
	if r.Status != http.StatusCreated {
		b.Fatalf("create record: %d %s", r.Status, r.Body)
	}
	id, _ := r.JSON(b)["offer"].(map[string]any)["offer_id"].(string)
	handler := e.Server.App().Handler()
	for _, tc := range []struct {
		name, path string
		auth       bool
	}{
		{"health", "/healthz", false},
		{"roles", "/admin/v1/roles", true},
		{"record", "/entities/Offer/" + id, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var req fasthttp.Request
			req.Header.SetMethod(http.MethodGet)
			req.SetRequestURI(tc.path)
			if tc.auth {
				req.Header.Set("Authorization", enginetest.DirectLogin(e.AdminToken()))
			}
			var ctx fasthttp.RequestCtx
			req.CopyTo(&ctx.Request)
			handler(&ctx)
			if ctx.Response.StatusCode() != http.StatusOK {
				b.Fatalf("%s: %d %s", tc.path, ctx.Response.StatusCode(), ctx.Response.Body())
			}
			b.ReportAllocs()
			for b.Loop() {
				req.CopyTo(&ctx.Request)
				ctx.Response.Reset()
				handler(&ctx)
			}
		})
	}
}
