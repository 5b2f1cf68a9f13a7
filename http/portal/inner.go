package portal

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/http/server"
)

// maxAnswerBytes bounds what a page reads of an answer of the API (a
// page of the audit log, a document): past it the page shows an error.
const maxAnswerBytes = 8 << 20

// answer is what the engine's API answered a page's call.
type answer struct {
	Status      int
	ContentType string
	Body        []byte
}

// ok tells whether the call succeeded.
func (r *answer) ok() bool { return r.Status >= 200 && r.Status < 300 }

// decode reads the JSON answer into v.
func (r *answer) decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return engine.Internal(err)
	}
	return nil
}

// problem is the API's refusal as an engine.Error, for a page to show.
func (r *answer) problem() *engine.Error {
	var p server.Problem
	if json.Unmarshal(r.Body, &p) != nil || p.Message == "" {
		return engine.Errorf(r.Status, engine.CodeInternal, "the API answered %d", r.Status)
	}
	return engine.NewError(p.Status, p.Code, p.Message, p.Violations...)
}

// err is the answer's refusal, or nil when it succeeded.
func (r *answer) err() error {
	if r.ok() {
		return nil
	}
	return r.problem()
}

// origin is the browser request a call to the API is made for.
type origin struct {
	host, correlationID string
	addr                net.Addr
}

// originOf is the origin of the browser's request c.
func originOf(c *fiber.Ctx) origin {
	return origin{host: c.Hostname(), correlationID: string(c.Response().Header.Peek(server.HeaderCorrelationID)),
		addr: clientAddress(c)}
}

// originKey keeps a call's origin in a context (for MethodRunner).
type originKey struct{}

// call sends a request to the engine's own API in process, on behalf of
// the browser's request c: from its client address (for throttling and
// the audit log), with its correlation id and, when token is set, the
// user's DirectLogin token. header adds fields (a DirectLogin login's).
// The API runs its whole pipeline: authentication, guard, validation, use
// case, audit.
func (p *portal) call(c *fiber.Ctx, method, path, token string, contentType string, body []byte, header ...string) *answer {
	return p.send(originOf(c), method, path, token, contentType, body, header...)
}

// send is call from o.
func (p *portal) send(o origin, method, path, token string, contentType string, body []byte, header ...string) *answer {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	req.Header.SetHost(o.host)
	if o.correlationID != "" {
		req.Header.Set(server.HeaderCorrelationID, o.correlationID)
	}
	if token != "" {
		req.Header.Set(fiber.HeaderAuthorization, `DirectLogin token="`+token+`"`)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if body != nil {
		req.Header.SetContentType(contentType)
		req.SetBody(body)
	}
	var rc fasthttp.RequestCtx
	rc.Init(req, o.addr, nil)
	p.Engine(&rc)
	out := &answer{Status: rc.Response.StatusCode(), ContentType: string(rc.Response.Header.ContentType())}
	if n := len(rc.Response.Body()); n > maxAnswerBytes {
		out.Status, out.Body = http.StatusInsufficientStorage, nil
		return out
	}
	out.Body = append([]byte(nil), rc.Response.Body()...)
	return out
}

// callJSON is call with v as the JSON body (nil: no body).
func (p *portal) callJSON(c *fiber.Ctx, method, path, token string, v any) *answer {
	if v == nil {
		return p.call(c, method, path, token, "", nil)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return &answer{Status: http.StatusInternalServerError}
	}
	return p.call(c, method, path, token, fiber.MIMEApplicationJSON, body)
}

// clientAddress is the browser's address as the edge resolved it
// (through trusted proxies), so the API sees the same client.
func clientAddress(c *fiber.Ctx) net.Addr {
	ip, err := netip.ParseAddr(strings.TrimSpace(server.Credentials(c).ClientAddr()))
	if err != nil {
		return c.Context().RemoteAddr()
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
}
