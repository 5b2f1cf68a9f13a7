package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"

	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/specs"
)

// benchCase is one request replayed through the real fiber handler: read
// from its bytes as the server reads a request off the wire, match,
// validate, invoke the mock, write the reply.
type benchCase struct {
	name   string
	req    enginetest.Request
	status int
}

func runBench(b *testing.B, handler fasthttp.RequestHandler, tc benchCase) {
	b.Run(tc.name, func(b *testing.B) {
		wire := requestBytes(b, tc.req)
		var ctx fasthttp.RequestCtx
		var in bytes.Reader
		br := bufio.NewReaderSize(&in, len(wire)+1)
		prepare := func() {
			ctx.Request.Reset()
			ctx.Response.Reset()
			in.Reset(wire)
			br.Reset(&in)
			if err := ctx.Request.Read(br); err != nil {
				b.Fatal(err)
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

// requestBytes is r as an HTTP/1.1 request on the wire.
func requestBytes(b *testing.B, r enginetest.Request) []byte {
	var req fasthttp.Request
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.Path)
	req.Header.SetHost("bench")
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.Body != nil {
		req.SetBody(r.Body)
	}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := req.Write(w); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// withAdmin adds the super admin's DirectLogin token to a request.
func withAdmin(b *testing.B, inst *enginetest.Engine, r enginetest.Request) enginetest.Request {
	h := map[string]string{"Authorization": enginetest.DirectLogin(inst.AdminToken())}
	for k, v := range r.Header {
		h[k] = v
	}
	r.Header = h
	return r
}

// BenchmarkUKOpenBanking measures match + validate + mock for operations of
// the UK Open Banking v4.0 account-information document.
func BenchmarkUKOpenBanking(b *testing.B) {
	inst := enginetest.New(b)
	created := inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(b, filepath.Join(testpaths.Shared("specs"), "ob-uk-v4.0/account-info-openapi.yaml")))
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
	valid.Body = expiringTomorrow(b, inst, valid.Body)
	invalid := valid
	invalid.Body = []byte(`{"Data":{"Permissions":["ReadNothing"],"ExpirationDateTime":"tomorrow"},"Risk":{}}`)
	// The account operations are answered under a consent (see
	// BenchmarkConsentCheck), the others to the admin.
	_, underConsent := consentTokens(b, inst, "acc-1")
	getBalances := validRequest(b, ep.Doc, balances, strings.Replace(ep.ServedPath(balances), "{AccountId}", "acc-1", 1))
	getBalances.Header["Authorization"] = underConsent
	for _, tc := range []benchCase{
		{"GET balances", getBalances, 200},
		{"POST consent", valid, 201},
		{"POST consent invalid", invalid, 400},
		{"unknown path", enginetest.Request{Method: "GET", Path: "/open-banking/v4.0/aisp/nothing"}, 404},
	} {
		if tc.req.Header["Authorization"] == "" {
			tc.req = withAdmin(b, inst, tc.req)
		}
		runBench(b, handler, tc)
	}
}

// BenchmarkAccounts replays the fiberlimit reference workload
// (../shared/bench) in process, on a public copy of its document (the
// reference does no authentication), and the same GET guarded by its role
// and called with a DirectLogin token or an OAuth2 bearer token.
func BenchmarkAccounts(b *testing.B) {
	inst := enginetest.New(b)
	source := enginetest.ReadFile(b, testpaths.Shared("bench", "accounts.yaml"))
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/", publicCopy(b, source, ""))
	// The public side of the guard's cost, at a path as long as /guarded.
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/exposed", publicCopy(b, source, ""))
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/guarded", source)
	handler := inst.Server.App().Handler()
	bodies := testpaths.Shared("bench", "bodies")
	json := map[string]string{"Content-Type": "application/json"}
	basic := base64.StdEncoding.EncodeToString([]byte(enginetest.ConsumerKey + ":" + enginetest.ConsumerSecret))
	bearer := inst.Anonymous().Send(b, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}}).JSON(b)["access_token"].(string)
	for _, tc := range []benchCase{
		{"GET hello public", enginetest.Request{Method: "GET", Path: "/hello"}, 200},
		// The same bytes as the guarded GET below, which this public route
		// ignores: the two differ by the guard only.
		{"GET hello exposed", withAdmin(b, inst, enginetest.Request{Method: "GET", Path: "/exposed/hello"}), 200},
		{"GET hello guarded DirectLogin", withAdmin(b, inst, enginetest.Request{Method: "GET", Path: "/guarded/hello"}), 200},
		{"GET hello guarded OAuth2", enginetest.Request{Method: "GET", Path: "/guarded/hello", Header: map[string]string{"Authorization": "Bearer " + bearer}}, 200},
		{"POST valid", enginetest.Request{Method: "POST", Path: "/accounts", Header: json, Body: enginetest.ReadFile(b, filepath.Join(bodies, "account-10.json"))}, 201},
		{"POST invalid", enginetest.Request{Method: "POST", Path: "/accounts", Header: json, Body: enginetest.ReadFile(b, filepath.Join(bodies, "account-10-invalid.json"))}, 400},
	} {
		runBench(b, handler, tc)
	}
}

// publicCopy marks every operation of a document public (x-dynapi-public
// with security: []) and appends suffix to its operation ids.
func publicCopy(b *testing.B, source []byte, suffix string) []byte {
	tree, err := specs.DecodeDocument(source, "application/yaml", specs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, item := range tree.(map[string]any)["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			if m, ok := op.(map[string]any); ok {
				m["x-dynapi-public"] = true
				m["security"] = []any{}
				m["operationId"] = m["operationId"].(string) + suffix
			}
		}
	}
	return enginetest.MustJSON(b, tree)
}

// BenchmarkConnectorMethods answers the reference GET /hello three ways:
// from the document's example (the default host), from a JavaScript
// connector method, and from a REST back end on loopback reached through a
// method routing.
func BenchmarkConnectorMethods(b *testing.B) {
	inst := enginetest.New(b)
	source := enginetest.ReadFile(b, testpaths.Shared("bench", "accounts.yaml"))
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/", publicCopy(b, source, ""))
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/js", publicCopy(b, source, "JS"))
	inst.Admin().MustCreate(b, "/admin/v1/dynamic-endpoints?mount=/rest", publicCopy(b, source, "REST"))
	hello := inst.Anonymous().Get(b, "/hello").Body
	inst.CreateScript(b, "helloJS", "return "+string(hello)+";", 0)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(hello)
	}))
	b.Cleanup(backend.Close)
	inst.CreateRouting(b, map[string]any{"method_name": "helloREST", "connector_name": "rest",
		"parameters": []map[string]string{{"key": "url", "value": backend.URL}}})
	handler := inst.Server.App().Handler()
	for _, tc := range []benchCase{
		{"GET hello mock", enginetest.Request{Method: "GET", Path: "/hello"}, 200},
		{"GET hello JavaScript", enginetest.Request{Method: "GET", Path: "/js/hello"}, 200},
		{"GET hello REST", enginetest.Request{Method: "GET", Path: "/rest/hello"}, 200},
	} {
		runBench(b, handler, tc)
	}
}

// expiringTomorrow is the consent request body with its expiry a day
// after the engine's clock: the document's example expires in the past,
// which the profile refuses.
func expiringTomorrow(b *testing.B, inst *enginetest.Engine, body []byte) []byte {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		b.Fatal(err)
	}
	data, _ := req["Data"].(map[string]any)
	if data == nil {
		b.Fatalf("no Data in the consent request %s", body)
	}
	data["ExpirationDateTime"] = inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	out, err := json.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
