package instance_test

import (
	"path/filepath"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/specs"
)

// benchCase is one request replayed through the real fiber handler: match,
// validate, invoke the mock, write the reply.
type benchCase struct {
	name   string
	req    request
	status int
}

func runBench(b *testing.B, handler fasthttp.RequestHandler, tc benchCase) {
	b.Run(tc.name, func(b *testing.B) {
		var ctx fasthttp.RequestCtx
		prepare := func() {
			ctx.Request.Reset()
			ctx.Response.Reset()
			ctx.Request.Header.SetMethod(tc.req.method)
			ctx.Request.SetRequestURI(tc.req.path)
			for k, v := range tc.req.headers {
				ctx.Request.Header.Set(k, v)
			}
			if tc.req.body != nil {
				ctx.Request.SetBody(tc.req.body)
			}
		}
		prepare()
		handler(&ctx)
		if got := ctx.Response.StatusCode(); got != tc.status {
			b.Fatalf("status %d, want %d: %s", got, tc.status, ctx.Response.Body())
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			prepare()
			handler(&ctx)
		}
	})
}

// BenchmarkUKOpenBanking measures match + validate + mock for operations of
// the UK Open Banking v4.0 account-information document.
func BenchmarkUKOpenBanking(b *testing.B) {
	inst := open(b, "")
	created := mustCreate(b, inst, "/admin/v1/dynamic-endpoints", readFile(b, filepath.Join(sharedSpecs, "ob-uk-v4.0/account-info-openapi.yaml")))
	ep, err := inst.Endpoints.Get("", created["dynamic_endpoint_id"].(string))
	if err != nil {
		b.Fatal(err)
	}
	find := func(method, path string) *specs.Operation {
		for _, op := range ep.Doc.Operations {
			if op.Method == method && op.Path == path {
				return op
			}
		}
		b.Fatalf("%s %s not in the document", method, path)
		return nil
	}
	handler := inst.Server.App().Handler()
	balances := find("GET", "/accounts/{AccountId}/balances")
	consent := find("POST", "/account-access-consents")
	valid := validRequest(b, ep.Doc, consent, ep.ServedPath(consent))
	invalid := valid
	invalid.body = []byte(`{"Data":{"Permissions":["ReadNothing"],"ExpirationDateTime":"tomorrow"},"Risk":{}}`)
	for _, tc := range []benchCase{
		{"GET balances", validRequest(b, ep.Doc, balances, ep.ServedPath(balances)), 200},
		{"POST consent", valid, 201},
		{"POST consent invalid", invalid, 400},
		{"unknown path", request{method: "GET", path: "/open-banking/v4.0/aisp/nothing"}, 404},
	} {
		runBench(b, handler, tc)
	}
}

// BenchmarkAccounts replays the fiberlimit reference workload
// (../shared/bench) in process.
func BenchmarkAccounts(b *testing.B) {
	inst := open(b, "")
	mustCreate(b, inst, "/admin/v1/dynamic-endpoints?mount=/", readFile(b, filepath.Join("..", "..", "..", "shared", "bench", "accounts.yaml")))
	handler := inst.Server.App().Handler()
	bodies := filepath.Join("..", "..", "..", "shared", "bench", "bodies")
	json := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []benchCase{
		{"GET hello", request{method: "GET", path: "/hello"}, 200},
		{"POST valid", request{method: "POST", path: "/accounts", headers: json, body: readFile(b, filepath.Join(bodies, "account-10.json"))}, 201},
		{"POST invalid", request{method: "POST", path: "/accounts", headers: json, body: readFile(b, filepath.Join(bodies, "account-10-invalid.json"))}, 400},
	} {
		runBench(b, handler, tc)
	}
}
