package enginetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dynapi/dynapi/http/server"
)

// User is a user made through the management API, logged in.
type User struct {
	ID, Username, Password string
	// Token is the user's DirectLogin token.
	Token string
}

// CreateUser makes a user as the super admin and logs it in.
func (e *Engine) CreateUser(t testing.TB, username, password string) User {
	t.Helper()
	r := e.Admin().PostJSON(t, "/admin/v1/users",
		map[string]string{"username": username, "password": password, "email": username + "@example.com"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create user %s: %d %s", username, r.Status, r.Body)
	}
	id, _ := r.JSON(t)["user_id"].(string)
	return User{ID: id, Username: username, Password: password, Token: e.Login(t, username, password)}
}

// Caller sends requests as one identity. The zero Caller is no identity at
// all and cannot send: a request says who makes it.
type Caller struct {
	e        *Engine
	name     string
	auth     string // the Authorization header; "" for no credentials
	loopback bool
}

// Admin calls as the super admin.
func (e *Engine) Admin() Caller {
	return Caller{e: e, name: "admin", auth: DirectLogin(e.adminToken)}
}

// As calls as u.
func (e *Engine) As(u User) Caller {
	return Caller{e: e, name: u.Username, auth: DirectLogin(u.Token)}
}

// Anonymous calls with no credentials.
func (e *Engine) Anonymous() Caller { return Caller{e: e, name: "anonymous"} }

// WithAuthorization calls with a raw Authorization header value (a bearer
// token, an unknown scheme).
func (e *Engine) WithAuthorization(value string) Caller {
	return Caller{e: e, name: "Authorization " + value, auth: value}
}

// AdminToken is the super admin's DirectLogin token.
func (e *Engine) AdminToken() string { return e.adminToken }

// DirectLogin is the Authorization header value carrying a DirectLogin
// token.
func DirectLogin(token string) string { return `DirectLogin token="` + token + `"` }

// Loopback sends this caller's requests over a real connection to a
// loopback listener, for what the in-process path cannot show (limits the
// HTTP layer enforces before any handler, raw bytes on the wire).
func (c Caller) Loopback() Caller {
	c.loopback = true
	return c
}

// String names the caller in failure messages.
func (c Caller) String() string { return c.name }

// Request is one HTTP request. Header values are set as given; no
// Content-Type is added.
type Request struct {
	Method, Path string
	Body         []byte
	Header       map[string]string
}

// Response is a finished exchange with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Get sends a GET.
func (c Caller) Get(t testing.TB, path string) Response {
	t.Helper()
	return c.Send(t, Request{Method: http.MethodGet, Path: path})
}

// Delete sends a DELETE.
func (c Caller) Delete(t testing.TB, path string) Response {
	t.Helper()
	return c.Send(t, Request{Method: http.MethodDelete, Path: path})
}

// Post sends body with no Content-Type (documents are recognised by
// their content).
func (c Caller) Post(t testing.TB, path string, body []byte) Response {
	t.Helper()
	return c.Send(t, Request{Method: http.MethodPost, Path: path, Body: body})
}

// PostJSON sends v encoded as JSON.
func (c Caller) PostJSON(t testing.TB, path string, v any) Response {
	t.Helper()
	return c.Send(t, JSONRequest(t, http.MethodPost, path, v))
}

// JSONRequest is a request carrying v encoded as JSON, or v itself when it
// is a string or []byte of JSON.
func JSONRequest(t testing.TB, method, path string, v any) Request {
	t.Helper()
	var body []byte
	switch b := v.(type) {
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		body = MustJSON(t, v)
	}
	return Request{Method: method, Path: path, Body: body, Header: JSONHeader()}
}

// Send sends r as this caller: through the application in process, or over
// the loopback listener.
func (c Caller) Send(t testing.TB, r Request) Response {
	t.Helper()
	if c.e == nil {
		t.Fatalf("%s %s: no caller; say who calls (Admin, As, Anonymous)", r.Method, r.Path)
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	var req *http.Request
	if c.loopback {
		var err error
		if req, err = http.NewRequest(r.Method, "http://"+c.e.listen(t)+r.Path, body); err != nil {
			t.Fatal(err)
		}
	} else {
		req = httptest.NewRequest(r.Method, r.Path, body)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	var resp *http.Response
	var err error
	if c.loopback {
		resp, err = (&http.Client{Transport: &c.e.loopback, Timeout: 30 * time.Second}).Do(req)
	} else {
		resp, err = c.e.Server.App().Test(req, 30_000)
	}
	if err != nil {
		t.Fatalf("%s %s as %s: %v", r.Method, r.Path, c, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// JSON decodes a JSON object answer, failing the test otherwise.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Problem decodes a problem+json answer, failing the test when the answer
// is not one.
func (r Response) Problem(t testing.TB) server.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != server.MIMEProblemJSON {
		t.Fatalf("content type %q, want %s; status %d, body %s", ct, server.MIMEProblemJSON, r.Status, r.Body)
	}
	var p server.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("bad problem: %v\n%s", err, r.Body)
	}
	return p
}

// HasViolation reports whether p lists a violation at location whose
// pointer and code match ("*" matches any).
func HasViolation(p server.Problem, location, pointer, code string) bool {
	for _, v := range p.Violations {
		if v.Location == location && (pointer == "*" || v.Pointer == pointer) && (code == "*" || v.Code == code) {
			return true
		}
	}
	return false
}
