package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/netguard"
	"github.com/dynapi/dynapi/specs"
)

// Credentials presents the request at c to authenticators without
// copying: its credential fields as the edge read them (scannedFields),
// the rest looked up. It is valid only while the request is served.
func Credentials(c *fiber.Ctx) identity.Credentials { return (*requestCredentials)(stateOf(c)) }

// requestCredentials lets authenticators read a request in place, from
// its state.
type requestCredentials requestState

func (r *requestCredentials) Header(name string) string {
	if i, ok := guard.CredentialField(name); ok {
		return r.header.fields[i].get(&r.c.Request().Header, name)
	}
	return r.c.Get(name)
}

func (r *requestCredentials) ClientAddr() string { return clientAddr(r.c) }

// clientAddr is the address of the client that sent c: the peer, or the
// client a trusted proxy's forwarding header names (see netguard). Requests
// that did not come through a guarded listener (app.Test) give the peer.
func clientAddr(c *fiber.Ctx) string {
	if conn, ok := c.Context().Conn().(*netguard.Conn); ok {
		return conn.ClientAddr(&c.Request().Header).String()
	}
	return c.Context().RemoteIP().String()
}

// fiberRequest lets validation read a fiber request in place.
type fiberRequest requestState

var _ specs.Request = (*fiberRequest)(nil)

func (r *fiberRequest) PathValue(i int) string {
	if i < 0 || i >= r.params.Len() {
		return ""
	}
	return r.params.Value(i)
}

func (r *fiberRequest) QueryValues(name string) []string {
	raw := r.c.Context().QueryArgs().PeekMulti(name)
	if len(raw) == 0 {
		return nil
	}
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = string(v)
	}
	return out
}

func (r *fiberRequest) Header(name string) (string, bool) {
	v := r.c.Request().Header.Peek(name)
	if v == nil {
		return "", false
	}
	return string(v), true
}

func (r *fiberRequest) Cookie(name string) (string, bool) {
	v := r.c.Request().Header.Cookie(name)
	if v == nil {
		return "", false
	}
	return string(v), true
}

func (r *fiberRequest) ContentType() string { return string(r.c.Request().Header.ContentType()) }

func (r *fiberRequest) Body() []byte { return r.c.Request().Body() }

// fiberHTTP shows a fiber request to connectors without copying it.
type fiberHTTP fiber.Ctx

// HTTPRequest presents a fiber request to connectors (engine.Call.HTTP). It
// is valid only while the request is served.
func HTTPRequest(c *fiber.Ctx) engine.HTTPRequest { return (*fiberHTTP)(c) }

func (h *fiberHTTP) Method() string { return (*fiber.Ctx)(h).Method() }

func (h *fiberHTTP) Path() string { return (*fiber.Ctx)(h).Path() }

func (h *fiberHTTP) RawQuery() string {
	return string((*fiber.Ctx)(h).Context().QueryArgs().QueryString())
}

func (h *fiberHTTP) Header(name string) (string, bool) {
	v := (*fiber.Ctx)(h).Request().Header.Peek(name)
	if v == nil {
		return "", false
	}
	return string(v), true
}

// clampWindow narrows the period the query asks for (w's QueryFrom and
// QueryTo) to the transaction window of consent g, so that the host is
// never asked for more than the consent grants: a bound earlier than the
// window's start (or missing) becomes its start, one later than its end
// (or missing) its end. A value that is not an RFC 3339 date-time, or a
// parameter sent more than once, is left for validation to judge (the
// consent's response filter drops what lies outside the window anyway).
func clampWindow(c *fiber.Ctx, w *consent.WindowFilter, g *engine.ConsentGrant) {
	args := c.Context().QueryArgs()
	changed := false
	bound := func(name string, limit *time.Time, beyond func(t, limit time.Time) bool) {
		if name == "" || limit == nil || len(args.PeekMulti(name)) > 1 {
			return
		}
		if v := args.Peek(name); v != nil {
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil || !beyond(t, *limit) {
				return
			}
		}
		args.Set(name, limit.UTC().Format(time.RFC3339))
		changed = true
	}
	bound(w.QueryFrom, g.TransactionFrom, time.Time.Before)
	bound(w.QueryTo, g.TransactionTo, time.Time.After)
	if changed {
		c.Request().URI().SetQueryStringBytes(args.QueryString())
	}
}

// normaliseDateTimes rewrites the query parameters names, date-times in
// form (consent.NormaliseDateTime), as RFC 3339, so that validation and
// connectors see one form. A value not in the form, or a parameter sent
// more than once, is left for validation to judge.
func normaliseDateTimes(c *fiber.Ctx, names []string, form string) {
	args := c.Context().QueryArgs()
	changed := false
	for _, name := range names {
		if len(args.PeekMulti(name)) != 1 {
			continue
		}
		v := string(args.Peek(name))
		if n, ok := consent.NormaliseDateTime(form, v); ok && n != v {
			args.Set(name, n)
			changed = true
		}
	}
	if changed {
		c.Request().URI().SetQueryStringBytes(args.QueryString())
	}
}
