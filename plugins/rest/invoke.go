package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine/tracing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/internal/strictjson"
	"github.com/dynapi/dynapi/specs"
)

// maxAnswer bounds the body read from a back end.
const maxAnswer = 16 << 20

// maxText bounds the back end's words quoted in an error message.
const maxText = 200

const jsonType = "application/json"

// invoker calls one method through one routing.
type invoker struct {
	c             *Connector
	m             *connector.Method
	url           *urlTemplate
	method        string // "" for dynamic operations: the operation's own
	timeout       time.Duration
	retries       int
	failures      int
	cooldown      time.Duration
	contextHeader string
	static        [][2]string // header.<Name> parameters, then Basic credentials of the url
	outMap        template
	inMap         template
	breaker       *breaker
	pool          *pool
}

// outgoing is the request of one call, sent once per attempt.
type outgoing struct {
	method       string
	url          string
	body         []byte // nil: none
	contentType  string // of body
	accept       string
	correlation  string
	contextToken string // the signed context header, or ""
	idempotent   bool
}

// answer is a back end's 2xx answer.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// Invoke calls the back end.
func (inv *invoker) Invoke(ctx context.Context, req *connector.Request) (*connector.Result, error) {
	if inv.m.Dynamic {
		return inv.dynamic(ctx, req)
	}
	return inv.builtin(ctx, req)
}

// builtin sends the outbound message and reads the inbound one.
func (inv *invoker) builtin(ctx context.Context, req *connector.Request) (*connector.Result, error) {
	target := inv.builtinURL(req.Args)
	out := &outgoing{method: inv.method, url: target, idempotent: inv.m.Idempotent}
	if sendsBody(inv.method) {
		body, err := connector.Outbound(req)
		if err != nil {
			return nil, engine.Internal(fmt.Errorf("rest: outbound message of %s: %w", inv.m.Name, err))
		}
		if inv.outMap != nil {
			var src any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&src); err != nil {
				return nil, engine.Internal(fmt.Errorf("rest: outbound message of %s: %w", inv.m.Name, err))
			}
			if body, err = json.Marshal(apply(inv.outMap, src, true)); err != nil {
				return nil, engine.Internal(fmt.Errorf("rest: outBoundMapping of %s: %w", inv.m.Name, err))
			}
		}
		out.body = body
	}
	if err := inv.prepareHeader(req, out, jsonType, jsonType); err != nil {
		return nil, err
	}
	ans, err := inv.exchange(ctx, out)
	if err != nil {
		return nil, err
	}
	return inv.inbound(ans.body)
}

// inbound reads OBP's inbound message, after inBoundMapping.
func (inv *invoker) inbound(body []byte) (*connector.Result, error) {
	v, err := inv.decodeAnswer(body, "method")
	if err != nil {
		return nil, err
	}
	env, isObject := v.(map[string]any)
	if inv.inMap != nil {
		v = apply(inv.inMap, v, false)
		if env, isObject = v.(map[string]any); !isObject || !hasKey(env, "data") {
			return &connector.Result{Data: v}, nil
		}
	}
	if !isObject {
		return nil, engine.Errorf(http.StatusBadGateway, engine.CodeInvalidResult,
			"back end %s answered method %s with JSON that is not OBP's inbound message (an object with status and data)",
			inv.url.backend, inv.m.Name)
	}
	status, _ := env["status"].(map[string]any)
	if code, _ := status["errorCode"].(string); code != "" {
		msg := fmt.Sprintf("back end %s refused method %s: %s", inv.url.backend, inv.m.Name, clip(code, maxText))
		var texts []string
		list, _ := status["backendMessages"].([]any)
		for _, bm := range list {
			if m, ok := bm.(map[string]any); ok {
				if text, _ := m["text"].(string); text != "" {
					texts = append(texts, text)
				}
			}
		}
		if len(texts) > 0 {
			msg += ": " + clip(strings.Join(texts, "; "), maxText)
		}
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBackendError, msg)
	}
	return &connector.Result{Data: env["data"]}, nil
}

func hasKey(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

// dynamic passes the validated request of a dynamic operation on and its
// answer back.
func (inv *invoker) dynamic(ctx context.Context, req *connector.Request) (*connector.Result, error) {
	op, call := req.Operation, req.Call
	if op == nil || call == nil {
		return nil, engine.Internal(fmt.Errorf("rest: dynamic method %s called without its operation", inv.m.Name))
	}
	method := inv.method
	if method == "" {
		method = op.Method
	}
	target, err := inv.dynamicURL(call, op)
	if err != nil {
		return nil, err
	}
	out := &outgoing{method: method, url: target, idempotent: idempotentMethod(method)}
	contentType := ""
	if sendsBody(method) {
		switch body := call.Body.(type) {
		case nil:
		case []byte:
			out.body = body
			contentType = "application/octet-stream"
			if call.HTTP != nil {
				if ct, ok := call.HTTP.Header("Content-Type"); ok {
					contentType = ct
				}
			}
		default:
			if out.body, err = json.Marshal(body); err != nil {
				return nil, engine.Internal(fmt.Errorf("rest: request body of %s: %w", inv.m.Name, err))
			}
			contentType = jsonType
		}
		if inv.outMap != nil {
			if out.body, err = inv.mapRequest(call, op); err != nil {
				return nil, err
			}
			contentType = jsonType
		}
	}
	accept := jsonType
	if call.HTTP != nil {
		if a, ok := call.HTTP.Header("Accept"); ok && a != "" {
			accept = a
		}
	}
	if err := inv.prepareHeader(req, out, contentType, accept); err != nil {
		return nil, err
	}
	ans, err := inv.exchange(ctx, out)
	if err != nil {
		return nil, err
	}
	if inv.inMap != nil {
		v, err := inv.decodeAnswer(ans.body, "operation")
		if err != nil {
			return nil, err
		}
		body, err := json.Marshal(apply(inv.inMap, v, false))
		if err != nil {
			return nil, engine.Internal(fmt.Errorf("rest: inBoundMapping of %s: %w", inv.m.Name, err))
		}
		return &connector.Result{Reply: &engine.Reply{Status: ans.status, ContentType: jsonType, Body: body}}, nil
	}
	if ans.contentType == "" && len(ans.body) > 0 {
		ans.contentType = "application/octet-stream"
	}
	return &connector.Result{Reply: &engine.Reply{Status: ans.status, ContentType: ans.contentType, Body: ans.body}}, nil
}

// decodeAnswer decodes a back end's JSON answer strictly: duplicate keys,
// text that is not UTF-8 and numbers beyond what the engine compares are
// refused, as a 502 naming where in the answer. what names the call:
// "method" or "operation".
func (inv *invoker) decodeAnswer(body []byte, what string) (any, error) {
	v, err := strictjson.Decode(body)
	if err != nil {
		return nil, engine.NewError(http.StatusBadGateway, engine.CodeInvalidResult,
			fmt.Sprintf("back end %s answered %s %s with a body that is not JSON the engine accepts", inv.url.backend, what, inv.m.Name),
			jsonschemas.Violations(err, "inbound", "", jsonschemas.Words{})...).WithCause(err)
	}
	return v, nil
}

// mapRequest applies outBoundMapping to the request argument of a dynamic
// operation, as decoded JSON.
func (inv *invoker) mapRequest(call *engine.Call, op *specs.Operation) ([]byte, error) {
	raw, err := json.Marshal(connector.RequestArg(call, op))
	if err != nil {
		return nil, engine.Internal(fmt.Errorf("rest: request of %s: %w", inv.m.Name, err))
	}
	var src any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&src); err != nil {
		return nil, engine.Internal(fmt.Errorf("rest: request of %s: %w", inv.m.Name, err))
	}
	body, err := json.Marshal(apply(inv.outMap, src, true))
	if err != nil {
		return nil, engine.Internal(fmt.Errorf("rest: outBoundMapping of %s: %w", inv.m.Name, err))
	}
	return body, nil
}

// idempotentMethod tells whether an HTTP method may be repeated.
func idempotentMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// builtinURL fills the url's placeholders with the call's arguments.
func (inv *invoker) builtinURL(args []any) string {
	t := inv.url
	if !t.holes {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if !p.hole {
			b.WriteString(p.lit)
			continue
		}
		var v any
		if p.arg < len(args) {
			v = args[p.arg]
		}
		b.WriteString(escape(text(v), p.query))
	}
	return b.String()
}

// dynamicURL is the url followed by the operation's path, or the url with
// its placeholders filled with path values, then the request's query.
func (inv *invoker) dynamicURL(call *engine.Call, op *specs.Operation) (string, error) {
	t := inv.url
	var b strings.Builder
	hasQuery := t.hasQuery
	if !t.holes {
		b.WriteString(t.base)
		if err := writeOperationPath(&b, op, call.Path); err != nil {
			return "", engine.Internal(fmt.Errorf("rest: operation %s: %w", op.ID, err))
		}
		if t.hasQuery {
			b.WriteByte('?')
			b.WriteString(t.query)
		}
	} else {
		for _, p := range t.parts {
			if !p.hole {
				b.WriteString(p.lit)
				continue
			}
			v, ok := pathValue(op, call.Path, p.name)
			if !ok {
				return "", engine.Errorf(http.StatusInternalServerError, engine.CodeInternal,
					"the routing of %s names {%s} in its url, which is no path parameter of the operation", op.ID, p.lit)
			}
			b.WriteString(escape(v, p.query))
		}
	}
	if call.HTTP != nil {
		if q := call.HTTP.RawQuery(); q != "" {
			if hasQuery {
				b.WriteByte('&')
			} else {
				b.WriteByte('?')
			}
			b.WriteString(q)
		}
	}
	return b.String(), nil
}

// writeOperationPath writes an operation's path template with the call's
// path values, escaped.
func writeOperationPath(b *strings.Builder, op *specs.Operation, values engine.PathValues) error {
	rest := op.Path
	for n := 0; ; n++ {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return nil
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:open])
		name := rest[open+1 : open+end]
		index := n
		for _, p := range op.Params {
			if p.In == "path" && p.Name == name {
				index = p.PathIndex
				break
			}
		}
		if values == nil || index >= values.Len() {
			return fmt.Errorf("no value for path parameter %s", name)
		}
		b.WriteString(escape(values.Value(index), false))
		rest = rest[open+end+1:]
	}
}

// pathValue is the value of the path parameter a placeholder names.
func pathValue(op *specs.Operation, values engine.PathValues, name string) (string, bool) {
	for _, p := range op.Params {
		if p.In == "path" && norm(p.Name) == name && values != nil && p.PathIndex < values.Len() {
			return values.Value(p.PathIndex), true
		}
	}
	return "", false
}

// escape escapes a placeholder's value: one path segment ("." and ".."
// included, so that a value cannot climb the path) or a query component.
func escape(s string, query bool) string {
	switch {
	case query:
		return url.QueryEscape(s)
	case s == ".":
		return "%2E"
	case s == "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// text is an argument as placeholders show it.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// prepareHeader sets what the headers of every attempt need: media types,
// the correlation id and the signed context header (with the consent the
// call is made under, if any).
func (inv *invoker) prepareHeader(req *connector.Request, out *outgoing, contentType, accept string) error {
	out.contentType, out.accept = contentType, accept
	call := req.Call
	if call != nil {
		out.correlation = call.CorrelationID
	}
	if s := inv.c.signer; s != nil {
		k := contextKey{aud: inv.url.backend, method: inv.m.Name, bankID: req.BankID}
		if call != nil && call.Principal != nil {
			p := call.Principal
			k.consumerID, k.userID, k.username = p.ConsumerID, p.UserID, p.Username
		}
		if call != nil {
			k.consent = call.Consent
		}
		tok, err := inv.c.tokens.token(k, inv.c.now(), func(claims map[string]any) (string, error) {
			return s.SignContext(claims, contextTTL)
		})
		if err != nil {
			return engine.Internal(fmt.Errorf("rest: sign the context header: %w", err))
		}
		out.contextToken = tok
	}
	return nil
}

// request writes the call's request into req: request line, Host, the
// headers prepareHeader chose, the static headers and the body.
func (inv *invoker) request(req *fasthttp.Request, out *outgoing) {
	h := &req.Header
	h.SetMethod(out.method)
	h.SetHost(inv.url.host)
	switch uri := out.url[inv.url.pathStart:]; {
	case uri == "":
		h.SetRequestURI("/")
	case uri[0] == '?':
		h.SetRequestURI("/" + uri)
	default:
		h.SetRequestURI(uri)
	}
	h.SetUserAgent("dynapi-rest")
	h.Set(fasthttp.HeaderAccept, out.accept)
	if out.correlation != "" {
		h.Set("X-Correlation-Id", out.correlation)
	}
	for _, kv := range inv.static {
		h.Set(kv[0], kv[1])
	}
	if out.contextToken != "" {
		h.Set(inv.contextHeader, out.contextToken)
	}
	if out.body != nil {
		h.SetContentType(out.contentType)
		req.SetBodyRaw(out.body)
	} else {
		h.SetNoDefaultContentType(true) // no Content-Type without a body
	}
}

// exchange makes the call's attempts: one, or for calls that only read up
// to retries more after a retryable failure, each let through by the back
// end's breaker.
func (inv *invoker) exchange(ctx context.Context, out *outgoing) (*answer, error) {
	var last error
	for n := 1; ; n++ {
		now := inv.c.now()
		trial, retryAt, ok := inv.breaker.allow(now)
		if !ok {
			if last != nil {
				return nil, last
			}
			return nil, inv.circuitOpen(now, retryAt)
		}
		ans, o, retry, err := inv.attempt(ctx, out)
		opened, closed := inv.breaker.done(trial, o, inv.c.now(), inv.failures, inv.cooldown)
		switch {
		case opened:
			inv.c.log.LogAttrs(ctx, slog.LevelWarn, "rest: back end circuit opened",
				slog.String("backend", inv.url.backend), slog.Duration("cooldown", inv.cooldown))
		case closed:
			inv.c.log.LogAttrs(ctx, slog.LevelInfo, "rest: back end circuit closed", slog.String("backend", inv.url.backend))
		}
		if err == nil {
			return ans, nil
		}
		last = err
		if !retry || !out.idempotent || n > inv.retries || !sleep(ctx, inv.c.retryDelay(n)) {
			return nil, err
		}
	}
}

// retryDelay is the wait before retry n (1 for the first), with full
// jitter: drawn uniformly from [0, ceiling), the ceiling being Backoff
// doubled n-1 times and at most MaxBackoff. Calls that failed together
// so retry at scattered times instead of all at once against a back end
// that is recovering.
func (c *Connector) retryDelay(n int) time.Duration {
	ceiling := c.backoff
	for i := 1; i < n && ceiling < MaxBackoff; i++ {
		ceiling *= 2
	}
	return time.Duration(c.randN(int64(min(ceiling, MaxBackoff))))
}

// sleep waits d unless ctx ends first or would end before d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= d {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// circuitOpen is the fast failure while a back end's circuit is open.
func (inv *invoker) circuitOpen(now, retryAt time.Time) error {
	if !retryAt.After(now) {
		return engine.Errorf(http.StatusServiceUnavailable, engine.CodeCircuitOpen,
			"back end %s failed repeatedly and a trial call to it is under way; try again shortly", inv.url.backend)
	}
	return engine.Errorf(http.StatusServiceUnavailable, engine.CodeCircuitOpen,
		"back end %s failed repeatedly; calls to it are held off until %s (in %s)", inv.url.backend,
		retryAt.UTC().Format(time.RFC3339), retryAt.Sub(now).Round(time.Second))
}

// attempt sends the request once, under the routing's timeout or the
// caller's deadline if that comes first, and reads the whole answer. It
// tells the breaker's outcome and whether a retry may help.
func (inv *invoker) attempt(ctx context.Context, out *outgoing) (*answer, outcome, bool, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	inv.request(req, out)
	ctx, span := inv.traceAttempt(ctx, req, out)
	ans, o, retry, err := inv.roundTrip(ctx, req, resp, out)
	tracing.EndClient(span, answered(resp, err), err)
	return ans, o, retry, err
}

// roundTrip sends req and reads the answer into resp, as attempt says.
func (inv *invoker) roundTrip(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, out *outgoing) (*answer, outcome, bool, error) {
	resp.SkipBody = out.method == http.MethodHead
	deadline := time.Now().Add(inv.timeout)
	callers := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, callers = d, true
	}
	err := inv.pool.roundTrip(ctx, deadline, req, resp, out.idempotent)
	status := resp.StatusCode()
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		inv.logFailure(ctx, out, slog.Int("status", status), slog.String("error", "answer too large"))
		return nil, outcomeOf(status), false, engine.Errorf(http.StatusBadGateway, engine.CodeInvalidResult,
			"back end %s answered with more than %d MiB", inv.url.backend, maxAnswer>>20)
	case err != nil:
		o, retry, e := inv.transportError(ctx, callers, err)
		inv.logFailure(ctx, out, slog.String("error", e.Error()))
		return nil, o, retry, e
	}
	body := bytes.Clone(resp.Body())
	if status < 200 || status > 299 {
		inv.logFailure(ctx, out, slog.Int("status", status))
		retry := status == http.StatusBadGateway || status == http.StatusServiceUnavailable ||
			status == http.StatusGatewayTimeout
		return nil, outcomeOf(status), retry, inv.statusError(status, body)
	}
	return &answer{status: status, contentType: string(resp.Header.ContentType()), body: body}, healthy, false, nil
}

// outcomeOf is the breaker's outcome of an answer's status.
func outcomeOf(status int) outcome {
	if status >= 500 {
		return failed
	}
	return healthy
}

// logFailure warns of a failed attempt, never with headers or bodies.
func (inv *invoker) logFailure(ctx context.Context, out *outgoing, attrs ...slog.Attr) {
	inv.c.log.LogAttrs(ctx, slog.LevelWarn, "rest: back end call failed", append([]slog.Attr{
		slog.String("backend", inv.url.backend), slog.String("method", inv.m.Name),
		slog.String("http_method", out.method), slog.String("correlation_id", out.correlation)}, attrs...)...)
}

// transportError turns a failure to get an answer into a timeout (504) or
// an unreachable back end (502). When the caller's own context ended, or
// its deadline cut the attempt short (callers), the back end is not to
// blame.
func (inv *invoker) transportError(ctx context.Context, callers bool, cause error) (outcome, bool, *engine.Error) {
	timeout := isTimeout(cause)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return unknown, false, engine.Errorf(http.StatusGatewayTimeout, engine.CodeBackendTimeout,
			"the call to back end %s was cancelled", inv.url.backend).WithCause(cause)
	case ctx.Err() != nil || timeout && callers:
		return unknown, false, engine.Errorf(http.StatusGatewayTimeout, engine.CodeBackendTimeout,
			"back end %s did not answer before the call's deadline", inv.url.backend).WithCause(cause)
	case timeout:
		return failed, true, engine.Errorf(http.StatusGatewayTimeout, engine.CodeBackendTimeout,
			"back end %s did not answer within %s", inv.url.backend, inv.timeout).WithCause(cause)
	}
	return failed, true, engine.Errorf(http.StatusBadGateway, engine.CodeBackendUnreachable,
		"back end %s is unreachable: %s", inv.url.backend, reason(cause)).WithCause(cause)
}

// isTimeout tells whether err is a deadline passing: a net.Error's or
// fasthttp's ErrTimeout, which has only the Timeout method.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// reason says in a few words why a connection failed.
func reason(err error) string {
	var (
		dns     *net.DNSError
		cert    *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		unknown x509.UnknownAuthorityError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dns):
		return "its host name does not resolve"
	case errors.As(err, &cert), errors.As(err, &record), errors.As(err, &unknown):
		return "TLS handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "connection failed"
}

// statusError is a back end's error status, passed on when it is a 4xx or
// 5xx, else a 502, with the back end's own words.
func (inv *invoker) statusError(status int, body []byte) *engine.Error {
	code := status
	if status < 400 || status > 599 {
		code = http.StatusBadGateway
	}
	msg := "back end " + inv.url.backend + " answered " + strconv.Itoa(status)
	if words := answerText(body); words != "" {
		msg += ": " + words
	}
	return engine.NewError(code, engine.CodeBackendError, msg)
}

// answerText is the message, detail or title of a JSON error answer, else
// its text, on one line and clipped.
func answerText(body []byte) string {
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, key := range []string{"message", "detail", "title"} {
			if s, ok := obj[key].(string); ok && strings.TrimSpace(s) != "" {
				return clip(s, maxText)
			}
		}
	}
	if !utf8.Valid(body) {
		return ""
	}
	return clip(string(body), maxText)
}

// clip puts s on one line, without control characters, and keeps its first
// n characters.
func clip(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
