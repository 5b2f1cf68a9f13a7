package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// signerFunc adapts a function to Signer.
type signerFunc func(claims map[string]any, ttl time.Duration) (string, error)

func (f signerFunc) SignContext(claims map[string]any, ttl time.Duration) (string, error) {
	return f(claims, ttl)
}

func TestPrepareRefuses(t *testing.T) {
	c, _ := newConnector(t, Options{Signer: signerFunc(func(map[string]any, time.Duration) (string, error) { return "t", nil })})
	const ok = "https://core.example/banks/{bankId}"
	for _, tc := range []struct {
		name   string
		m      *connector.Method
		params connector.Params
		key    string // named by the violation
		code   string
	}{
		{"missing url", getAccounts, connector.Params{"timeout": "1s"}, "url", "required"},
		{"no parameters", getAccounts, nil, "url", "required"},
		{"bad scheme", getAccounts, connector.Params{"url": "ftp://core.example/x"}, "url", "invalid"},
		{"relative url", getAccounts, connector.Params{"url": "/banks/{bankId}"}, "url", "invalid"},
		{"no host", getAccounts, connector.Params{"url": "http:///banks"}, "url", "invalid"},
		{"fragment", getAccounts, connector.Params{"url": "https://core.example/x#y"}, "url", "invalid"},
		{"unknown placeholder", getAccounts, connector.Params{"url": "https://core.example/accounts/{accountId}"}, "url", "invalid"},
		{"placeholder in host", getAccounts, connector.Params{"url": "https://{bankId}.core.example/x"}, "url", "invalid"},
		{"unclosed placeholder", getAccounts, connector.Params{"url": "https://core.example/{bankId"}, "url", "invalid"},
		{"stray brace", getAccounts, connector.Params{"url": "https://core.example/bankId}"}, "url", "invalid"},
		{"empty placeholder", getAccounts, connector.Params{"url": "https://core.example/{}"}, "url", "invalid"},
		{"bad method", getAccounts, connector.Params{"url": ok, "method": "FETCH"}, "method", "invalid"},
		{"bad timeout", getAccounts, connector.Params{"url": ok, "timeout": "soon"}, "timeout", "invalid"},
		{"zero timeout", getAccounts, connector.Params{"url": ok, "timeout": "0"}, "timeout", "invalid"},
		{"timeout too long", getAccounts, connector.Params{"url": ok, "timeout": "6m"}, "timeout", "invalid"},
		{"timeout ms too long", getAccounts, connector.Params{"url": ok, "timeout": "300001"}, "timeout", "invalid"},
		{"negative retries", getAccounts, connector.Params{"url": ok, "retries": "-1"}, "retries", "invalid"},
		{"zero breaker failures", getAccounts, connector.Params{"url": ok, "breaker_failures": "0"}, "breaker_failures", "invalid"},
		{"long cooldown", getAccounts, connector.Params{"url": ok, "breaker_cooldown": "2h"}, "breaker_cooldown", "invalid"},
		{"bad context header", getAccounts, connector.Params{"url": ok, "context_header": "Bad Header"}, "context_header", "invalid"},
		{"bad header name", getAccounts, connector.Params{"url": ok, "header.X Key": "v"}, "header.X Key", "invalid"},
		{"header value with newline", getAccounts, connector.Params{"url": ok, "header.X-Key": "a\r\nEvil: 1"}, "header.X-Key", "invalid"},
		{"reserved header", getAccounts, connector.Params{"url": ok, "header.Host": "evil.example"}, "header.Host", "reserved"},
		{"context header as static header", getAccounts, connector.Params{"url": ok, "header.Account-Request-Information": "x"},
			"header.Account-Request-Information", "reserved"},
		{"mapping not JSON", getAccounts, connector.Params{"url": ok, "outBoundMapping": `{"a": `}, "outBoundMapping", "invalid"},
		{"mapping bad path", getAccounts, connector.Params{"url": ok, "inBoundMapping": `{"a": "$.items[x]"}`}, "inBoundMapping", "invalid"},
		{"mapping path without dot", getAccounts, connector.Params{"url": ok, "inBoundMapping": `"$data"`}, "inBoundMapping", "invalid"},
		{"outbound mapping without body", getAccounts, connector.Params{"url": ok, "method": "GET", "outBoundMapping": `{}`}, "outBoundMapping", "invalid"},
		{"unknown key", getAccounts, connector.Params{"url": ok, "urll": "x"}, "urll", "unknown"},
		{"dynamic bad url", showPet, connector.Params{"url": "core.example/pets"}, "url", "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := c.Prepare(tc.m, tc.params)
			if inv != nil {
				t.Fatal("an invoker came with the error")
			}
			e := wantError(t, err, http.StatusBadRequest, engine.CodeBadRequest)
			for _, v := range e.Violations {
				if v.Location == "body" && v.Pointer == "/parameters" && v.Code == tc.code &&
					strings.HasPrefix(v.Message, "parameter "+tc.key+": ") {
					return
				}
			}
			t.Fatalf("violations %+v, want %s at /parameters naming %s", e.Violations, tc.code, tc.key)
		})
	}

	t.Run("every fault at once", func(t *testing.T) {
		_, err := c.Prepare(getAccounts, connector.Params{"timeout": "x", "retries": "y", "color": "blue"})
		if e := wantError(t, err, http.StatusBadRequest, engine.CodeBadRequest); len(e.Violations) != 4 {
			t.Fatalf("violations %+v, want 4 (color, retries, timeout, url)", e.Violations)
		}
	})
}

func TestPrepareAccepts(t *testing.T) {
	c, _ := newConnector(t, Options{})
	for _, tc := range []struct {
		name   string
		m      *connector.Method
		params connector.Params
	}{
		{"snake placeholder", getAccounts, connector.Params{"url": "https://core.example/banks/{bank_id}/users/{USER_ID}"}},
		{"placeholder in query", getAccounts, connector.Params{"url": "https://core.example/accounts?bank={bankId}"}},
		{"every parameter", getAccounts, connector.Params{"url": "http://user:pw@core.example:8080/x", "method": "put", "timeout": "750",
			"retries": "0", "breaker_failures": "2", "breaker_cooldown": "1500ms", "context_header": "X-Context",
			"header.X-Api-Key": "k", "outBoundMapping": `{"bank": "$.bankId"}`, "inBoundMapping": `["$.items", {"id": "$.item_id"}]`}},
		{"dynamic placeholder named at call time", showPet, connector.Params{"url": "https://core.example/p/{pet_id}"}},
		{"dynamic without placeholders", showPet, connector.Params{"url": "https://core.example/api/"}},
		{"ipv6 host", getAccounts, connector.Params{"url": "http://[::1]:9/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Prepare(tc.m, tc.params); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBuiltinCall(t *testing.T) {
	be := newBackend(t, reply(http.StatusOK, okEnvelope))
	c, _ := newConnector(t, Options{})

	t.Run("outbound message, placeholders and data", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{
			"url":              be.URL + "/banks/{bank_id}/accounts?holder={userId}",
			"header.X-Api-Key": "k-123"})
		res, err := invoke(inv, builtinRequest(getAccounts, "gh 29/uk", "gh 29/uk", "u 1&x"))
		if err != nil {
			t.Fatal(err)
		}
		if want := []any{map[string]any{"account_id": "a-1"}}; !reflect.DeepEqual(res.Data, want) || res.Reply != nil {
			t.Fatalf("result %#v, want data %v", res, want)
		}
		got := be.last(t)
		if got.method != http.MethodPost || got.path != "/banks/gh%2029%2Fuk/accounts" || got.rawQuery != "holder=u+1%26x" {
			t.Fatalf("request %s %s?%s", got.method, got.path, got.rawQuery)
		}
		want := `{"outboundAdapterCallContext":{"correlationId":"corr-1","consumerId":"c-1","generalContext":[],` +
			`"outboundAdapterAuthInfo":{"userId":"u-1","username":"alice","userAuthContext":[]}},` +
			`"bankId":"gh 29/uk","userId":"u 1\u0026x"}`
		if string(got.body) != want {
			t.Fatalf("outbound message\n%s\nwant\n%s", got.body, want)
		}
		for name, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json",
			"X-Correlation-Id": "corr-1", "X-Api-Key": "k-123", "Account-Request-Information": ""} {
			if v := got.header.Get(name); v != want {
				t.Errorf("header %s = %q, want %q", name, v, want)
			}
		}
	})

	t.Run("dot segments cannot climb", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/banks/{bankId}/accounts"})
		if _, err := invoke(inv, builtinRequest(getAccounts, "..", "..", "")); err != nil {
			t.Fatal(err)
		}
		if got := be.last(t).path; got != "/banks/%2E%2E/accounts" {
			t.Fatalf("path %s", got)
		}
	})

	t.Run("non-string arguments", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/{bankId}/{userId}"})
		if _, err := invoke(inv, builtinRequest(getAccounts, "b", 42, nil)); err != nil {
			t.Fatal(err)
		}
		if got := be.last(t).path; got != "/42/" {
			t.Fatalf("path %s", got)
		}
	})

	t.Run("GET sends no body", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/banks/{bankId}", "method": "get"})
		if _, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u")); err != nil {
			t.Fatal(err)
		}
		if got := be.last(t); got.method != http.MethodGet || len(got.body) != 0 || got.header.Get("Content-Type") != "" {
			t.Fatalf("GET %s with body %q and Content-Type %q", got.path, got.body, got.header.Get("Content-Type"))
		}
	})

	t.Run("errorCode is a 400 naming the back end", func(t *testing.T) {
		be.setAnswer(reply(http.StatusOK, `{"inboundAdapterCallContext":{},"status":{"errorCode":"OBP-30018",`+
			`"backendMessages":[{"source":"core","status":"error","errorCode":"E1","text":"Bank Account not found."},{"text":"try later"}]},"data":null}`))
		defer be.setAnswer(reply(http.StatusOK, okEnvelope))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		e := wantError(t, err, http.StatusBadRequest, engine.CodeBackendError)
		for _, part := range []string{be.URL, "getAccounts", "OBP-30018", "Bank Account not found.; try later"} {
			if !strings.Contains(e.Message, part) {
				t.Fatalf("message %q lacks %q", e.Message, part)
			}
		}
	})

	t.Run("answers that are not the inbound message", func(t *testing.T) {
		defer be.setAnswer(reply(http.StatusOK, okEnvelope))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		for _, body := range []string{"<html>oops</html>", "", `[1, 2]`} {
			be.setAnswer(reply(http.StatusOK, body))
			_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
			if e := wantError(t, err, http.StatusBadGateway, engine.CodeInvalidResult); !strings.Contains(e.Message, be.URL) {
				t.Fatalf("message %q does not name the back end", e.Message)
			}
		}
	})
}

// memConsumers is the consumer registry the issuer needs; no consumer
// exists.
type memConsumers struct{}

func (memConsumers) CheckConsumerSecret(string, string) (*identity.Consumer, error) {
	return nil, engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "no consumer")
}
func (memConsumers) ConsumerByKey(string) (*identity.Consumer, bool) { return nil, false }

func newIssuer(t testing.TB) *oauth2.Issuer {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "dynapi.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	issuer, err := oauth2.New(context.Background(), oauth2.Options{Store: store, Consumers: memConsumers{}, Issuer: "dynapi"})
	if err != nil {
		t.Fatal(err)
	}
	return issuer
}

func TestSignedContextHeader(t *testing.T) {
	issuer := newIssuer(t)
	be := newBackend(t, reply(http.StatusOK, okEnvelope))
	c, clk := newConnector(t, Options{Signer: issuer})
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(issuer.JWKS()))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, tok string) jwt.MapClaims {
		t.Helper()
		claims := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(tok, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"}),
			jwt.WithIssuer("dynapi"), jwt.WithAudience(be.URL), jwt.WithExpirationRequired()); err != nil {
			t.Fatalf("context header %q does not verify against the issuer's JWKS: %v", tok, err)
		}
		return claims
	}

	t.Run("built-in method", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/accounts"})
		if _, err := invoke(inv, builtinRequest(getAccounts, "gh.29.uk", "gh.29.uk", "u-1")); err != nil {
			t.Fatal(err)
		}
		h := be.last(t).header
		claims := verify(t, h.Get("Account-Request-Information"))
		for k, want := range map[string]any{"consumer_id": "c-1", "user_id": "u-1",
			"username": "alice", "bank_id": "gh.29.uk", "method": "getAccounts", "aud": be.URL, "iss": "dynapi"} {
			if claims[k] != want {
				t.Errorf("claim %s = %v, want %v", k, claims[k], want)
			}
		}
		if ttl := claims["exp"].(float64) - claims["iat"].(float64); ttl != 60 {
			t.Errorf("lifetime %vs, want 60", ttl)
		}
		if v, ok := claims["correlation_id"]; ok {
			t.Errorf("correlation_id %v signed into the token; it has its own header", v)
		}
		if got := h.Get("X-Correlation-Id"); got != "corr-1" {
			t.Errorf("X-Correlation-Id = %q, want corr-1", got)
		}
		if _, ok := claims["consent_id"]; ok {
			t.Error("consent_id sent without a consent")
		}
	})

	t.Run("one token per caller while it is fresh", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/fresh"})
		call := func(user, correlation string) (token, correlationHeader string) {
			t.Helper()
			req := builtinRequest(getAccounts, "gh.29.uk", "gh.29.uk", user)
			req.Call.Principal.UserID, req.Call.CorrelationID = user, correlation
			if _, err := invoke(inv, req); err != nil {
				t.Fatal(err)
			}
			h := be.last(t).header
			return h.Get("Account-Request-Information"), h.Get("X-Correlation-Id")
		}
		first, corr1 := call("u-1", "corr-a")
		again, corr2 := call("u-1", "corr-b")
		if again != first {
			t.Error("the same caller got a second token while the first was fresh")
		}
		if corr1 != "corr-a" || corr2 != "corr-b" {
			t.Errorf("X-Correlation-Id %q then %q, want corr-a then corr-b", corr1, corr2)
		}
		other, _ := call("u-2", "corr-c")
		if other == first {
			t.Fatal("another caller got the first caller's token")
		}
		if got := verify(t, other)["user_id"]; got != "u-2" {
			t.Errorf("user_id of the second caller's token = %v, want u-2", got)
		}
		clk.Advance(contextReuse - time.Second)
		if still, _ := call("u-1", "corr-d"); still != first {
			t.Error("the token was renewed before contextReuse passed")
		}
		clk.Advance(time.Second)
		renewed, _ := call("u-1", "corr-e")
		if renewed == first {
			t.Fatal("the token was sent again after contextReuse passed")
		}
		verify(t, renewed)
	})

	t.Run("bounded under many callers", func(t *testing.T) {
		c, _ := newConnector(t, Options{Signer: issuer})
		c.tokens.max = 3
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		for i := range 10 {
			user := fmt.Sprintf("u-%d", i)
			req := builtinRequest(getAccounts, "b", "b", user)
			req.Call.Principal.UserID = user
			if _, err := invoke(inv, req); err != nil {
				t.Fatal(err)
			}
			kept := 0
			c.tokens.m.Range(func(_, _ any) bool { kept++; return true })
			if kept > 3 {
				t.Fatalf("after %d callers the cache holds %d tokens, more than its bound of 3", i+1, kept)
			}
			if got := verify(t, be.last(t).header.Get("Account-Request-Information"))["user_id"]; got != user {
				t.Errorf("caller %s got the token of %v", user, got)
			}
		}
	})

	t.Run("anonymous call, renamed header", func(t *testing.T) {
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "context_header": "X-Context"})
		req := builtinRequest(getAccounts, "", "", "")
		req.Call.Principal = nil
		if _, err := invoke(inv, req); err != nil {
			t.Fatal(err)
		}
		h := be.last(t).header
		if h.Get("Account-Request-Information") != "" {
			t.Fatal("the default header was sent too")
		}
		claims := verify(t, h.Get("X-Context"))
		for _, k := range []string{"user_id", "username", "consumer_id", "bank_id"} {
			if _, ok := claims[k]; ok {
				t.Errorf("claim %s sent for an anonymous call without a bank: %v", k, claims[k])
			}
		}
	})
}

func TestDynamicPassThrough(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/vnd.pet+json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"p/1","name":"Rex"}`))
	})
	c, _ := newConnector(t, Options{})
	secrets := map[string]string{"Authorization": "Bearer secret-token", "Directlogin": "token=dl-secret",
		"Cookie": "session=s3cret", "X-Custom": "nope", "Accept": "application/vnd.pet+json"}

	t.Run("url followed by the operation's path", func(t *testing.T) {
		inv := prepare(t, c, showPet, connector.Params{"url": be.URL + "/api/", "header.X-Api-Key": "k"})
		req := dynamicRequest(petOperation(http.MethodPost), "p/1", "limit=5&tag=a+b", map[string]any{"name": "Rex"}, secrets)
		res, err := invoke(inv, req)
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Reply; r == nil || r.Status != http.StatusCreated || r.ContentType != "application/vnd.pet+json" ||
			string(r.Body) != `{"id":"p/1","name":"Rex"}` {
			t.Fatalf("reply %+v", res.Reply)
		}
		got := be.last(t)
		if got.method != http.MethodPost || got.path != "/api/pets/p%2F1" || got.rawQuery != "limit=5&tag=a+b" ||
			string(got.body) != `{"name":"Rex"}` {
			t.Fatalf("request %s %s?%s %s", got.method, got.path, got.rawQuery, got.body)
		}
		for _, name := range []string{"Authorization", "Directlogin", "Cookie", "X-Custom"} {
			if v := got.header.Get(name); v != "" {
				t.Errorf("header %s = %q passed on", name, v)
			}
		}
		for name, want := range map[string]string{"Accept": "application/vnd.pet+json", "Content-Type": "application/json",
			"X-Correlation-Id": "corr-1", "X-Api-Key": "k"} {
			if v := got.header.Get(name); v != want {
				t.Errorf("header %s = %q, want %q", name, v, want)
			}
		}
	})

	t.Run("placeholders, method override and no body", func(t *testing.T) {
		inv := prepare(t, c, showPet, connector.Params{"url": be.URL + "/v2/{pet_id}/x?src=dynapi", "method": "GET"})
		req := dynamicRequest(petOperation(http.MethodPost), "42", "limit=1", map[string]any{"ignored": true}, nil)
		if _, err := invoke(inv, req); err != nil {
			t.Fatal(err)
		}
		got := be.last(t)
		if got.method != http.MethodGet || got.path != "/v2/42/x" || got.rawQuery != "src=dynapi&limit=1" || len(got.body) != 0 {
			t.Fatalf("request %s %s?%s %q", got.method, got.path, got.rawQuery, got.body)
		}
		if got.header.Get("Accept") != "application/json" {
			t.Fatalf("Accept %q", got.header.Get("Accept"))
		}
	})

	t.Run("raw body keeps its media type", func(t *testing.T) {
		inv := prepare(t, c, showPet, connector.Params{"url": be.URL})
		req := dynamicRequest(petOperation(http.MethodPut), "1", "", []byte("a,b\n1,2\n"), map[string]string{"Content-Type": "text/csv"})
		if _, err := invoke(inv, req); err != nil {
			t.Fatal(err)
		}
		if got := be.last(t); got.method != http.MethodPut || string(got.body) != "a,b\n1,2\n" || got.header.Get("Content-Type") != "text/csv" {
			t.Fatalf("request %s %q as %q", got.method, got.body, got.header.Get("Content-Type"))
		}
	})

	t.Run("unknown placeholder at call time", func(t *testing.T) {
		inv := prepare(t, c, showPet, connector.Params{"url": be.URL + "/{ownerId}"})
		before := be.calls.Load()
		_, err := invoke(inv, dynamicRequest(petOperation(http.MethodGet), "1", "", nil, nil))
		if e := wantError(t, err, http.StatusInternalServerError, engine.CodeInternal); !strings.Contains(e.Message, "{ownerId}") {
			t.Fatalf("message %q", e.Message)
		}
		if be.calls.Load() != before {
			t.Fatal("the back end was called")
		}
	})

	t.Run("error status passed on", func(t *testing.T) {
		be.setAnswer(reply(http.StatusNotFound, `{"type":"about:blank","title":"Not Found","detail":"no pet 7 here"}`))
		inv := prepare(t, c, showPet, connector.Params{"url": be.URL})
		_, err := invoke(inv, dynamicRequest(petOperation(http.MethodGet), "7", "", nil, nil))
		e := wantError(t, err, http.StatusNotFound, engine.CodeBackendError)
		if want := "back end " + be.URL + " answered 404: no pet 7 here"; e.Message != want {
			t.Fatalf("message %q, want %q", e.Message, want)
		}
	})
}

func TestBackendFailures(t *testing.T) {
	c, _ := newConnector(t, Options{})

	t.Run("slow back end times out", func(t *testing.T) {
		be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "timeout": "50ms", "retries": "0"})
		start := time.Now()
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		e := wantError(t, err, http.StatusGatewayTimeout, engine.CodeBackendTimeout)
		if !strings.Contains(e.Message, be.URL) || !strings.Contains(e.Message, "50ms") {
			t.Fatalf("message %q names neither the back end nor the timeout", e.Message)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %s", d)
		}
	})

	t.Run("the caller's deadline is not the back end's fault", func(t *testing.T) {
		c, _ := newConnector(t, Options{BreakerFailures: 1})
		be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "timeout": "5s"})
		for range 2 {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := inv.Invoke(ctx, builtinRequest(getAccounts, "b", "b", "u"))
			cancel()
			if e := wantError(t, err, http.StatusGatewayTimeout, engine.CodeBackendTimeout); !strings.Contains(e.Message, "call's deadline") {
				t.Fatalf("message %q", e.Message)
			}
		}
		if be.calls.Load() != 2 {
			t.Fatalf("%d calls: the circuit opened or a retry ran past the deadline", be.calls.Load())
		}
	})

	t.Run("closed port is unreachable", func(t *testing.T) {
		inv := prepare(t, c, createThing, connector.Params{"url": closedURL(t)})
		_, err := invoke(inv, builtinRequest(createThing, "b", "b", map[string]any{"x": 1}))
		if e := wantError(t, err, http.StatusBadGateway, engine.CodeBackendUnreachable); !strings.Contains(e.Message, "connection refused") {
			t.Fatalf("message %q", e.Message)
		}
	})

	t.Run("messages hide credentials and query", func(t *testing.T) {
		target := strings.Replace(closedURL(t), "http://", "http://svc-user:pa55word@", 1) + "/x?api_key=qs-secret"
		inv := prepare(t, c, createThing, connector.Params{"url": target})
		_, err := invoke(inv, builtinRequest(createThing, "b", "b", nil))
		e := wantError(t, err, http.StatusBadGateway, engine.CodeBackendUnreachable)
		for _, secret := range []string{"svc-user", "pa55word", "qs-secret", "/x"} {
			if strings.Contains(e.Message, secret) || strings.Contains(e.Error(), secret) {
				t.Fatalf("error %q reveals %q", e.Error(), secret)
			}
		}
	})

	t.Run("back end 404 passed on with its message", func(t *testing.T) {
		be := newBackend(t, reply(http.StatusNotFound, `{"code":404,"message":"OBP-30018: Bank Account not found. `+strings.Repeat("x", 300)+`"}`))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/accounts?key=qs-secret"})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		e := wantError(t, err, http.StatusNotFound, engine.CodeBackendError)
		prefix := "back end " + be.URL + " answered 404: OBP-30018: Bank Account not found. x"
		if !strings.HasPrefix(e.Message, prefix) || len(e.Message) != len("back end "+be.URL+" answered 404: ")+200 {
			t.Fatalf("message %q (%d chars)", e.Message, len(e.Message))
		}
		if be.calls.Load() != 1 {
			t.Fatalf("a 404 was retried: %d calls", be.calls.Load())
		}
	})

	t.Run("plain text error", func(t *testing.T) {
		be := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			http.Error(w, "upstream\nexploded", http.StatusInternalServerError)
		})
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		if e := wantError(t, err, http.StatusInternalServerError, engine.CodeBackendError); e.Message != "back end "+be.URL+" answered 500: upstream exploded" {
			t.Fatalf("message %q", e.Message)
		}
	})

	t.Run("redirect is not followed", func(t *testing.T) {
		be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
		})
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		wantError(t, err, http.StatusBadGateway, engine.CodeBackendError)
		if be.calls.Load() != 1 {
			t.Fatalf("%d calls", be.calls.Load())
		}
	})

	t.Run("cancelled call", func(t *testing.T) {
		be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() })
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := inv.Invoke(ctx, builtinRequest(getAccounts, "b", "b", "u"))
		wantError(t, err, http.StatusGatewayTimeout, engine.CodeBackendTimeout)
		if be.calls.Load() != 1 {
			t.Fatalf("a cancelled call was retried: %d calls", be.calls.Load())
		}
	})
}

func TestRetries(t *testing.T) {
	c, _ := newConnector(t, Options{})
	flaky := func(fails int, status int) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, r *http.Request, n int) {
			if n <= fails {
				reply(status, `{"message":"busy"}`)(w, r, n)
				return
			}
			reply(http.StatusOK, okEnvelope)(w, r, n)
		}
	}
	for _, tc := range []struct {
		name     string
		m        *connector.Method
		req      func() *connector.Request
		params   connector.Params
		answer   func(http.ResponseWriter, *http.Request, int)
		attempts int64
		status   int // 0: success
	}{
		{"idempotent 503, 503, 200", getAccounts, func() *connector.Request { return builtinRequest(getAccounts, "b", "b", "u") },
			nil, flaky(2, http.StatusServiceUnavailable), 3, 0},
		{"idempotent 502 and 504 too", getAccounts, func() *connector.Request { return builtinRequest(getAccounts, "b", "b", "u") },
			nil, func(w http.ResponseWriter, r *http.Request, n int) {
				flaky(2, map[int]int{1: http.StatusBadGateway, 2: http.StatusGatewayTimeout}[n])(w, r, n)
			}, 3, 0},
		{"at most retries extra attempts", getAccounts, func() *connector.Request { return builtinRequest(getAccounts, "b", "b", "u") },
			nil, flaky(10, http.StatusServiceUnavailable), 3, http.StatusServiceUnavailable},
		{"routing's retries", getAccounts, func() *connector.Request { return builtinRequest(getAccounts, "b", "b", "u") },
			connector.Params{"retries": "4"}, flaky(10, http.StatusServiceUnavailable), 5, http.StatusServiceUnavailable},
		{"500 is not retried", getAccounts, func() *connector.Request { return builtinRequest(getAccounts, "b", "b", "u") },
			nil, flaky(1, http.StatusInternalServerError), 1, http.StatusInternalServerError},
		{"non-idempotent POST is not retried", createThing, func() *connector.Request { return builtinRequest(createThing, "b", "b", nil) },
			nil, flaky(2, http.StatusServiceUnavailable), 1, http.StatusServiceUnavailable},
		{"dynamic GET is retried", showPet, func() *connector.Request {
			return dynamicRequest(petOperation(http.MethodGet), "1", "", nil, nil)
		}, nil, flaky(1, http.StatusServiceUnavailable), 2, 0},
		{"dynamic POST is not retried", showPet, func() *connector.Request {
			return dynamicRequest(petOperation(http.MethodPost), "1", "", map[string]any{}, nil)
		}, nil, flaky(1, http.StatusServiceUnavailable), 1, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newBackend(t, tc.answer)
			params := connector.Params{"url": be.URL}
			for k, v := range tc.params {
				params[k] = v
			}
			_, err := invoke(prepare(t, c, tc.m, params), tc.req())
			if tc.status == 0 && err != nil {
				t.Fatal(err)
			}
			if tc.status != 0 {
				wantError(t, err, tc.status, engine.CodeBackendError)
			}
			if n := be.calls.Load(); n != tc.attempts {
				t.Fatalf("%d attempts, want %d", n, tc.attempts)
			}
		})
	}

	t.Run("unreachable is retried", func(t *testing.T) {
		var attempts int
		c, _ := newConnector(t, Options{})
		dial := c.dial
		c.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			attempts++
			return dial(ctx, network, addr)
		}
		inv := prepare(t, c, getAccounts, connector.Params{"url": closedURL(t)})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		wantError(t, err, http.StatusBadGateway, engine.CodeBackendUnreachable)
		if attempts != 3 {
			t.Fatalf("%d attempts, want 3", attempts)
		}
	})

	t.Run("never past the call's deadline", func(t *testing.T) {
		c, _ := newConnector(t, Options{Backoff: time.Second})
		c.randN = func(n int64) int64 { return n - 1 } // the longest delay: past the deadline
		be := newBackend(t, flaky(10, http.StatusServiceUnavailable))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := inv.Invoke(ctx, builtinRequest(getAccounts, "b", "b", "u"))
		wantError(t, err, http.StatusServiceUnavailable, engine.CodeBackendError)
		if be.calls.Load() != 1 || time.Since(start) > 200*time.Millisecond {
			t.Fatalf("%d attempts in %s: waited past the deadline", be.calls.Load(), time.Since(start))
		}
	})
}

// TestRetryJitter checks the delays before retries: each drawn from zero up
// to a ceiling that doubles per retry and stops at MaxBackoff, through the
// connector's random seam (no real waits).
func TestRetryJitter(t *testing.T) {
	const base = 100 * time.Millisecond
	t.Run("bounds", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			backoff time.Duration
			retry   int
			ceiling time.Duration
		}{
			{"first retry", base, 1, base},
			{"second retry doubles", base, 2, 2 * base},
			{"fifth retry", base, 5, 16 * base},
			{"capped at MaxBackoff", base, 11, MaxBackoff},
			{"many retries stay capped", base, 200, MaxBackoff},
			{"backoff above the cap", 2 * time.Hour, 1, MaxBackoff},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, _ := newConnector(t, Options{Backoff: tc.backoff})
				var asked int64
				for _, pick := range []struct {
					name string
					draw func(n int64) int64
					want time.Duration
				}{
					{"lowest draw", func(int64) int64 { return 0 }, 0},
					{"highest draw", func(n int64) int64 { return n - 1 }, tc.ceiling - 1},
				} {
					c.randN = func(n int64) int64 { asked = n; return pick.draw(n) }
					if got := c.retryDelay(tc.retry); got != pick.want {
						t.Errorf("%s: delay %s, want %s", pick.name, got, pick.want)
					}
					if asked != int64(tc.ceiling) {
						t.Errorf("%s: drawn below %s, want below %s", pick.name, time.Duration(asked), tc.ceiling)
					}
				}
			})
		}
	})
	t.Run("each retry waits a fresh draw", func(t *testing.T) {
		c, _ := newConnector(t, Options{Backoff: base})
		var ceilings []time.Duration
		c.randN = func(n int64) int64 { ceilings = append(ceilings, time.Duration(n)); return 0 }
		be := newBackend(t, reply(http.StatusServiceUnavailable, `{"message":"busy"}`))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "retries": "3"})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		wantError(t, err, http.StatusServiceUnavailable, engine.CodeBackendError)
		if want := []time.Duration{base, 2 * base, 4 * base}; !slices.Equal(ceilings, want) || be.calls.Load() != 4 {
			t.Fatalf("%d attempts with delays drawn below %v, want 4 below %v", be.calls.Load(), ceilings, want)
		}
	})
}

func TestCircuitBreaker(t *testing.T) {
	down := reply(http.StatusServiceUnavailable, `{"message":"down for maintenance"}`)
	call := func(inv connector.Invoker) error {
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		return err
	}

	t.Run("opens after N failures, recovers after the cooldown", func(t *testing.T) {
		c, clk := newConnector(t, Options{Retries: -1, BreakerFailures: 3, BreakerCooldown: 30 * time.Second})
		be := newBackend(t, down)
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/a"})
		for i := range 3 {
			wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeBackendError)
			if be.calls.Load() != int64(i+1) {
				t.Fatalf("call %d did not reach the back end", i+1)
			}
		}
		e := wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		if !strings.Contains(e.Message, be.URL) || !strings.Contains(e.Message, "2030-01-02T03:04:35Z") {
			t.Fatalf("message %q names neither the back end nor when it is retried", e.Message)
		}
		// Another routing to the same back end shares the circuit.
		other := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/b/{bankId}", "retries": "2"})
		wantError(t, call(other), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		if be.calls.Load() != 3 {
			t.Fatalf("the open circuit let %d calls through", be.calls.Load()-3)
		}

		clk.Advance(29 * time.Second)
		wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		clk.Advance(time.Second)
		be.setAnswer(reply(http.StatusOK, okEnvelope))
		if err := call(inv); err != nil {
			t.Fatalf("trial call: %v", err)
		}
		for range 5 {
			if err := call(other); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
		}
		if be.calls.Load() != 9 {
			t.Fatalf("%d calls reached the back end, want 9", be.calls.Load())
		}
	})

	t.Run("a failed trial opens it again", func(t *testing.T) {
		c, clk := newConnector(t, Options{Retries: -1, BreakerFailures: 2, BreakerCooldown: time.Minute})
		be := newBackend(t, down)
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		call(inv)
		call(inv)
		wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		clk.Advance(time.Minute)
		wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeBackendError) // the trial
		wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		if be.calls.Load() != 3 {
			t.Fatalf("%d calls reached the back end, want 3", be.calls.Load())
		}
	})

	t.Run("routing's own threshold and cooldown", func(t *testing.T) {
		c, clk := newConnector(t, Options{Retries: -1})
		be := newBackend(t, down)
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "breaker_failures": "1", "breaker_cooldown": "2s"})
		call(inv)
		wantError(t, call(inv), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		clk.Advance(2 * time.Second)
		be.setAnswer(reply(http.StatusOK, okEnvelope))
		if err := call(inv); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("4xx and other back ends do not count", func(t *testing.T) {
		c, _ := newConnector(t, Options{Retries: -1, BreakerFailures: 2})
		missing := newBackend(t, reply(http.StatusNotFound, `{"message":"no"}`))
		inv := prepare(t, c, getAccounts, connector.Params{"url": missing.URL})
		for range 5 {
			wantError(t, call(inv), http.StatusNotFound, engine.CodeBackendError)
		}
		broken := newBackend(t, down)
		bad := prepare(t, c, getAccounts, connector.Params{"url": broken.URL})
		call(bad)
		call(bad)
		wantError(t, call(bad), http.StatusServiceUnavailable, engine.CodeCircuitOpen)
		wantError(t, call(inv), http.StatusNotFound, engine.CodeBackendError)
		if missing.calls.Load() != 6 {
			t.Fatalf("%d calls to the healthy back end, want 6", missing.calls.Load())
		}
	})

	t.Run("a success resets the count", func(t *testing.T) {
		c, _ := newConnector(t, Options{Retries: -1, BreakerFailures: 2})
		be := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n%2 == 1 {
				down(w, r, n)
				return
			}
			reply(http.StatusOK, okEnvelope)(w, r, n)
		})
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
		for range 6 {
			if e := engineError(call(inv)); e != nil && e.Code == engine.CodeCircuitOpen {
				t.Fatal("alternating failures opened the circuit")
			}
		}
	})
}

func engineError(err error) *engine.Error {
	if err == nil {
		return nil
	}
	return engine.AsError(err)
}

func TestMappings(t *testing.T) {
	c, _ := newConnector(t, Options{})

	t.Run("outbound reshaped in template order", func(t *testing.T) {
		be := newBackend(t, reply(http.StatusOK, okEnvelope))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL, "outBoundMapping": `{
			"user": "$.outboundAdapterCallContext.outboundAdapterAuthInfo.userId",
			"bank": {"id": "$.bankId", "kind": "retail", "fee": 1.50},
			"cid": "$.outboundAdapterCallContext.correlationId",
			"price": "$$5",
			"missing": "$.nothing"}`})
		if _, err := invoke(inv, builtinRequest(getAccounts, "b-1", "b-1", "u-1")); err != nil {
			t.Fatal(err)
		}
		want := `{"user":"u-1","bank":{"id":"b-1","kind":"retail","fee":1.50},"cid":"corr-1","price":"$5"}`
		if got := string(be.last(t).body); got != want {
			t.Fatalf("body %s, want %s", got, want)
		}
	})

	t.Run("inbound reshaped into data", func(t *testing.T) {
		be := newBackend(t, reply(http.StatusOK, `{"result":{"items":[{"acct":"a1","bal":{"amt":"1.00"}},{"acct":"a2"}]},"ok":true}`))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL,
			"inBoundMapping": `["$.result.items", {"account_id": "$.acct", "amount": "$.bal.amt", "currency": "EUR", "n": 1}]`})
		res, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		if err != nil {
			t.Fatal(err)
		}
		want := []any{
			map[string]any{"account_id": "a1", "amount": "1.00", "currency": "EUR", "n": 1.0},
			map[string]any{"account_id": "a2", "currency": "EUR", "n": 1.0},
		}
		if !reflect.DeepEqual(res.Data, want) {
			t.Fatalf("data %#v, want %#v", res.Data, want)
		}
	})

	t.Run("inbound reshaped into the envelope", func(t *testing.T) {
		be := newBackend(t, reply(http.StatusOK, `{"err":"CORE-7","why":"frozen","payload":null}`))
		inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL,
			"inBoundMapping": `{"status": {"errorCode": "$.err", "backendMessages": [{"text": "$.why"}]}, "data": "$.payload"}`})
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		if e := wantError(t, err, http.StatusBadRequest, engine.CodeBackendError); !strings.Contains(e.Message, "CORE-7: frozen") {
			t.Fatalf("message %q", e.Message)
		}
		be.setAnswer(reply(http.StatusOK, `{"err":"","payload":{"id":"x"}}`))
		res, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		if err != nil || !reflect.DeepEqual(res.Data, map[string]any{"id": "x"}) {
			t.Fatalf("data %v, %v", res, err)
		}
	})

	t.Run("dynamic both ways", func(t *testing.T) {
		be := newBackend(t, reply(http.StatusOK, `{"pet":{"pet_id":"7","pet_name":"Rex"}}`))
		inv := prepare(t, c, showPet, connector.Params{"url": be.URL,
			"outBoundMapping": `{"id": "$.path.petId", "limit": "$.query.limit", "name": "$.body.name"}`,
			"inBoundMapping":  `{"id": "$.pet.pet_id", "name": "$.pet.pet_name"}`})
		res, err := invoke(inv, dynamicRequest(petOperation(http.MethodPut), "7", "limit=3", map[string]any{"name": "Rex"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(be.last(t).body); got != `{"id":"7","limit":"3","name":"Rex"}` {
			t.Fatalf("sent %s", got)
		}
		if r := res.Reply; r.Status != http.StatusOK || r.ContentType != "application/json" || string(r.Body) != `{"id":"7","name":"Rex"}` {
			t.Fatalf("reply %d %s %s", r.Status, r.ContentType, r.Body)
		}
	})
}
