package connector

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
)

// MethodScript is a connector method written in JavaScript, in the Open
// Bank Project's format plus an optional per-call deadline.
type MethodScript struct {
	ID              string `json:"connector_method_id"`
	MethodName      string `json:"method_name"`
	MethodBody      string `json:"method_body"`
	ProgrammingLang string `json:"programming_lang"`
	// TimeoutMS is the script's deadline per call in milliseconds; 0 means
	// the engine's default.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// UnrestrictedConnectorCalls lets the script's connector.call reach
	// built-in methods beyond what its caller may: without it, each call
	// passes the called route's role and account-holder rules for the
	// caller, as the route itself would.
	UnrestrictedConnectorCalls bool      `json:"unrestricted_connector_calls,omitempty"`
	CreatedAt                  time.Time `json:"created_at"`
	UpdatedAt                  time.Time `json:"updated_at"`
}

// MaxScriptTimeout bounds a connector method's own deadline.
const MaxScriptTimeout = time.Minute

// scriptEntry is a stored script and its compiled form.
type scriptEntry struct {
	rec    *MethodScript
	script Invoker
}

// Scripts returns the connector methods by method name.
func (d *Dispatcher) Scripts() []*MethodScript {
	t := d.table.Load()
	out := make([]*MethodScript, 0, len(t.scripts))
	for _, s := range t.scripts {
		out = append(out, s.rec)
	}
	slices.SortFunc(out, func(a, b *MethodScript) int { return strings.Compare(a.MethodName, b.MethodName) })
	return out
}

// Script returns one connector method by id, or a 404.
func (d *Dispatcher) Script(id string) (*MethodScript, error) {
	for _, s := range d.table.Load().scripts {
		if s.rec.ID == id {
			return s.rec, nil
		}
	}
	return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "connector method %q not found", id)
}

// CreateScript compiles, stores and applies a new connector method. A
// method has at most one script (409 otherwise); from then on it answers
// the method at every bank no routing sends elsewhere. It is stored
// through commit (nil: a transaction of its own).
func (d *Dispatcher) CreateScript(ctx context.Context, in MethodScript, commit ScriptCommit) (*MethodScript, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.table.Load()
	if s, ok := cur.scripts[in.MethodName]; ok {
		return nil, engine.Errorf(http.StatusConflict, CodeMethodExists,
			"method %s has a connector method already (%s); update it with PUT", in.MethodName, s.rec.ID)
	}
	in.ID = uuid.NewString()
	in.CreatedAt = now()
	in.UpdatedAt = in.CreatedAt
	return d.putScript(ctx, cur, &in, commit)
}

// UpdateScript replaces the body (and language and deadline) of connector
// method id; its name stays. It is stored through commit (nil: a
// transaction of its own).
func (d *Dispatcher) UpdateScript(ctx context.Context, id string, in MethodScript, commit ScriptCommit) (*MethodScript, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, err := d.Script(id)
	if err != nil {
		return nil, err
	}
	if in.MethodName != "" && in.MethodName != cur.MethodName {
		return nil, fieldError("/method_name", "immutable", "a connector method's method_name cannot change; create another")
	}
	in.ID, in.MethodName, in.CreatedAt, in.UpdatedAt = id, cur.MethodName, cur.CreatedAt, now()
	return d.putScript(ctx, d.table.Load(), &in, commit)
}

// ScriptCommit stores a change to a connector method; see engine.Commit.
type ScriptCommit = engine.Commit[*MethodScript]

// putScript compiles, stores and applies rec; d.mu is held.
func (d *Dispatcher) putScript(ctx context.Context, cur *table, rec *MethodScript, commit ScriptCommit) (*MethodScript, error) {
	entry, err := d.compile(rec, true)
	if err != nil {
		return nil, err
	}
	next, err := d.build(cur.routings, scriptsWith(cur.scripts, rec.MethodName, entry), false)
	if err != nil {
		return nil, err
	}
	if err := persist(ctx, d, commit, rec, scriptBucket, rec.ID, next); err != nil {
		return nil, err
	}
	d.log.InfoContext(ctx, "connector method stored", "connector_method_id", rec.ID, "method", rec.MethodName)
	return rec, nil
}

// DeleteScript removes connector method id. A method routing that names
// it (connector internal) must go first: 409 otherwise. It is forgotten
// through commit (nil: a transaction of its own).
func (d *Dispatcher) DeleteScript(ctx context.Context, id string, commit ScriptCommit) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, err := d.Script(id)
	if err != nil {
		return err
	}
	cur := d.table.Load()
	var users []string
	for _, r := range cur.routings {
		if r.MethodName == rec.MethodName && r.ConnectorName == Internal {
			users = append(users, r.ID)
		}
	}
	if len(users) > 0 {
		return engine.Errorf(http.StatusConflict, CodeMethodInUse,
			"method routings %s send %s to this connector method; delete or change them first",
			strings.Join(users, ", "), rec.MethodName)
	}
	next, err := d.build(cur.routings, scriptsWith(cur.scripts, rec.MethodName, nil), false)
	if err != nil {
		return err
	}
	if err := engine.RunCommit(ctx, d.store, commit, rec, func(tx engine.Tx) error { return tx.Delete(scriptBucket, id) },
		func() { d.table.Store(next) }); err != nil {
		return err
	}
	d.log.InfoContext(ctx, "connector method deleted", "connector_method_id", id, "method", rec.MethodName)
	return nil
}

// languages are the accepted programming_lang values.
var languages = map[string]bool{"js": true, "javascript": true, "": true}

// compile checks a script record and compiles its body. Strict refuses an
// unknown method name.
func (d *Dispatcher) compile(rec *MethodScript, strict bool) (*scriptEntry, error) {
	if rec.MethodName == "" {
		return nil, fieldError("/method_name", "required", "method_name is required")
	}
	if !languages[strings.ToLower(rec.ProgrammingLang)] {
		return nil, fieldError("/programming_lang", "enum",
			fmt.Sprintf("programming_lang %q is not supported; use \"js\"", rec.ProgrammingLang))
	}
	rec.ProgrammingLang = "js"
	if rec.TimeoutMS < 0 || time.Duration(rec.TimeoutMS)*time.Millisecond > MaxScriptTimeout {
		return nil, fieldError("/timeout_ms", "range", fmt.Sprintf("timeout_ms is between 1 and %d", MaxScriptTimeout.Milliseconds()))
	}
	m, err := d.methodFor(rec.MethodName, strict)
	if err != nil {
		return nil, err
	}
	if d.scripts == nil {
		return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented, "this server runs no scripts")
	}
	rec.MethodBody = DecodeBody(rec.MethodBody)
	s, err := d.scripts.Compile(m, rec.MethodBody, time.Duration(rec.TimeoutMS)*time.Millisecond)
	if err != nil {
		return nil, err
	}
	s = d.measured(Internal, m.Name, s)
	if rec.UnrestrictedConnectorCalls {
		s = unrestricted{s}
	}
	return &scriptEntry{rec: rec, script: s}, nil
}

// unrestricted runs a script whose connector.call skips the access rules.
type unrestricted struct{ inv Invoker }

func (u unrestricted) Invoke(ctx context.Context, req *Request) (*Result, error) {
	r := *req
	r.Unrestricted = true
	return u.inv.Invoke(ctx, &r)
}

// DecodeBody undoes the URL encoding the Open Bank Project applies to
// method bodies ("+" for spaces, %XX escapes). A body with raw whitespace
// is plain source and kept as it is, as is one that does not decode.
func DecodeBody(body string) string {
	if strings.ContainsAny(body, " \t\r\n") || !strings.ContainsAny(body, "%+") {
		return body
	}
	decoded, err := url.QueryUnescape(body)
	if err != nil {
		return body
	}
	return decoded
}
