package jsvm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine/tracing"
)

// maxRedirects bounds the redirects a fetch follows.
const maxRedirects = 10

// hostRule is one entry of Options.FetchAllow; port "" allows any port.
type hostRule struct{ host, port string }

func parseHostRule(s string) hostRule {
	s = strings.ToLower(strings.TrimSpace(s))
	if h, p, err := net.SplitHostPort(s); err == nil {
		return hostRule{strings.TrimSuffix(h, "."), p}
	}
	return hostRule{host: strings.TrimSuffix(strings.Trim(s, "[]"), ".")}
}

// allowed reports whether http.fetch may reach u.
func (e *Engine) allowed(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, r := range e.allow {
		if r.host == host && (r.port == "" || r.port == port) {
			return true
		}
	}
	return false
}

// redirectError refuses a redirect to a host outside the allow-list.
type redirectError struct{ host string }

func (e *redirectError) Error() string { return "redirect to host " + e.host + " is not allowed" }

// fetchClient returns a copy of c (or a plain client) that refuses
// redirects outside the allow-list before applying c's own policy.
func (e *Engine) fetchClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	next := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !e.allowed(req.URL) {
			return &redirectError{req.URL.Host}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &out
}

// fetchOptions are the second argument of http.fetch.
type fetchOptions struct {
	Method  string          `json:"method"`
	Headers map[string]any  `json:"headers"`
	Body    json.RawMessage `json:"body"`
}

// fetch answers http.fetch(url, {method, headers, body}) with a response
// {status, statusText, ok, url, headers, body, json(), text()}.
func (sb *sandbox) fetch(call goja.FunctionCall) goja.Value {
	const what = "http.fetch"
	raw := sb.textArg(call, 0, what, "url")
	var opts fetchOptions
	if o := call.Argument(1); !goja.IsUndefined(o) && !goja.IsNull(o) {
		if err := json.Unmarshal([]byte(sb.goJSON(o)), &opts); err != nil {
			panic(sb.vm.NewTypeError("%s: options must be an object {method, headers, body}", what))
		}
	}
	return sb.async(what, func(c *callState) (goja.Value, error) {
		return sb.doFetch(c, raw, &opts)
	})
}

func (sb *sandbox) doFetch(c *callState, raw string, opts *fetchOptions) (goja.Value, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("http.fetch: %q is not an absolute URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("http.fetch: only http and https URLs can be fetched, not %q", u.Scheme)
	}
	if !sb.e.allowed(u) {
		return nil, fmt.Errorf("http.fetch: host %s is not allowed", u.Host)
	}
	var body io.Reader
	contentType := ""
	switch b := bytes.TrimSpace(opts.Body); {
	case len(b) == 0 || string(b) == "null":
	case b[0] == '"':
		var text string
		if err := json.Unmarshal(b, &text); err != nil {
			return nil, fmt.Errorf("http.fetch: body: %v", err)
		}
		body = strings.NewReader(text)
	default:
		body, contentType = bytes.NewReader(b), "application/json"
	}
	ctx, cancel := context.WithTimeout(c.context(), sb.e.o.FetchTimeout)
	defer cancel()
	method := opts.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("http.fetch: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range opts.Headers {
		if s, ok := v.(string); ok {
			req.Header.Set(k, s)
		} else {
			req.Header.Set(k, fmt.Sprint(v))
		}
	}
	if id := c.correlationID(); id != "" {
		req.Header.Set("X-Correlation-ID", id)
	}
	resp, err := sb.tracedDo(req, u)
	if err != nil {
		return nil, fetchError(ctx, u, err)
	}
	defer resp.Body.Close()
	limit := sb.e.o.MaxFetchBytes
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fetchError(ctx, u, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("http.fetch: the response of %s is larger than the limit of %d bytes", u.Host, limit)
	}
	return sb.response(resp, string(data)), nil
}

// fetchError explains a failed fetch without the Go error chain's noise.
func fetchError(ctx context.Context, u *url.URL, err error) error {
	var re *redirectError
	if errors.As(err, &re) {
		return fmt.Errorf("http.fetch: %s", re)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("http.fetch: %s did not answer within the deadline", u.Host)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("http.fetch: %s: %v", u.Host, err)
}

// response builds the object http.fetch resolves with.
func (sb *sandbox) response(resp *http.Response, body string) goja.Value {
	vm := sb.vm
	o := vm.NewObject()
	define(o, "status", vm.ToValue(resp.StatusCode))
	define(o, "statusText", vm.ToValue(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" ")))
	define(o, "ok", vm.ToValue(resp.StatusCode >= 200 && resp.StatusCode <= 299))
	define(o, "url", vm.ToValue(resp.Request.URL.String()))
	h := vm.NewObject()
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		define(h, strings.ToLower(k), vm.ToValue(strings.Join(resp.Header[k], ", ")))
	}
	define(o, "headers", h)
	text := vm.ToValue(body)
	define(o, "body", text)
	define(o, "text", vm.ToValue(func(goja.FunctionCall) goja.Value { return text }))
	define(o, "json", vm.ToValue(sb.shielded("response.json", func(goja.FunctionCall) goja.Value {
		v, err := sb.parse(goja.Undefined(), text)
		if err != nil {
			panic(err) // a SyntaxError is thrown, an interrupt goes on up
		}
		return v
	})))
	return o
}

// tracedDo sends req within a client span of the call's trace, when it is
// traced, whose context the host receives in traceparent (after the
// script's own headers, so a script cannot break the trace).
func (sb *sandbox) tracedDo(req *http.Request, u *url.URL) (*http.Response, error) {
	ctx, span := tracing.Start(req.Context(), req.Method, trace.SpanKindClient)
	if !span.IsRecording() {
		return sb.e.client.Do(req)
	}
	span.SetAttributes(tracing.HTTPMethod.String(req.Method), tracing.ServerAddress.String(u.Host))
	req = req.WithContext(ctx)
	tracing.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := sb.e.client.Do(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	tracing.EndClient(span, status, err)
	return resp, err
}
