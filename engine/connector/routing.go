package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
)

// Error codes of connector methods and routings.
const (
	CodeUnknownMethod    = "unknown_method"
	CodeUnknownConnector = "unknown_connector"
	CodeInvalidPattern   = "invalid_bank_id_pattern"
	CodeMethodInUse      = "connector_method_in_use"
	CodeMethodExists     = "connector_method_exists"
)

// Buckets of the stored routings and scripts.
const (
	routingBucket = "method_routings"
	scriptBucket  = "connector_methods"
)

// Routing is a method routing, in the Open Bank Project's format: calls of
// MethodName at banks whose id equals BankIDPattern (IsBankIDExactMatch) or
// matches it as a regular expression go to ConnectorName.
type Routing struct {
	ID                 string     `json:"method_routing_id"`
	MethodName         string     `json:"method_name"`
	ConnectorName      string     `json:"connector_name"`
	IsBankIDExactMatch bool       `json:"is_bank_id_exact_match"`
	BankIDPattern      string     `json:"bank_id_pattern"`
	Parameters         []KeyValue `json:"parameters"`
	CreatedAt          time.Time  `json:"created_at"`
}

// params is the routing's parameter list as a map.
func (r *Routing) params() Params {
	p := make(Params, len(r.Parameters))
	for _, kv := range r.Parameters {
		p[kv.Key] = kv.Value
	}
	return p
}

// Routings returns the routings, oldest first; a non-empty method keeps
// only that method's.
func (d *Dispatcher) Routings(method string) []*Routing {
	var out []*Routing
	for _, r := range d.table.Load().routings {
		if method == "" || r.MethodName == method {
			out = append(out, r)
		}
	}
	return out
}

// Routing returns one routing, or a 404.
func (d *Dispatcher) Routing(id string) (*Routing, error) {
	for _, r := range d.table.Load().routings {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "method routing %q not found", id)
}

// RoutingCommit stores a change to a method routing; see engine.Commit.
type RoutingCommit = engine.Commit[*Routing]

// CreateRouting checks, stores (through commit; nil: a transaction of its
// own) and applies a new routing.
func (d *Dispatcher) CreateRouting(ctx context.Context, in Routing, commit RoutingCommit) (*Routing, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	in.ID = uuid.NewString()
	in.CreatedAt = now()
	return d.putRouting(ctx, &in, commit)
}

// UpdateRouting replaces routing id, stored through commit (nil: a
// transaction of its own).
func (d *Dispatcher) UpdateRouting(ctx context.Context, id string, in Routing, commit RoutingCommit) (*Routing, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, err := d.Routing(id)
	if err != nil {
		return nil, err
	}
	in.ID, in.CreatedAt = id, cur.CreatedAt
	return d.putRouting(ctx, &in, commit)
}

// putRouting stores and applies r; d.mu is held.
func (d *Dispatcher) putRouting(ctx context.Context, r *Routing, commit RoutingCommit) (*Routing, error) {
	if r.Parameters == nil {
		r.Parameters = []KeyValue{}
	}
	if a, ok := aliases[r.ConnectorName]; ok {
		r.ConnectorName = a
	}
	cur := d.table.Load()
	routings := slices.DeleteFunc(slices.Clone(cur.routings), func(o *Routing) bool { return o.ID == r.ID })
	routings = append(routings, r)
	slices.SortStableFunc(routings, func(a, b *Routing) int { return a.CreatedAt.Compare(b.CreatedAt) })
	next, err := d.build(routings, cur.scripts, true)
	if err != nil {
		return nil, err
	}
	if err := persist(ctx, d, commit, r, routingBucket, r.ID, next); err != nil {
		return nil, err
	}
	d.log.InfoContext(ctx, "method routing stored", "method_routing_id", r.ID, "method", r.MethodName, "connector", r.ConnectorName)
	return r, nil
}

// DeleteRouting removes routing id, through commit (nil: a transaction of
// its own).
func (d *Dispatcher) DeleteRouting(ctx context.Context, id string, commit RoutingCommit) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, err := d.Routing(id)
	if err != nil {
		return err
	}
	cur := d.table.Load()
	routings := slices.DeleteFunc(slices.Clone(cur.routings), func(o *Routing) bool { return o.ID == id })
	next, err := d.build(routings, cur.scripts, false)
	if err != nil {
		return err
	}
	if err := engine.RunCommit(ctx, d.store, commit, rec, func(tx engine.Tx) error { return tx.Delete(routingBucket, id) },
		func() { d.table.Store(next) }); err != nil {
		return err
	}
	d.log.InfoContext(ctx, "method routing deleted", "method_routing_id", id)
	return nil
}

// methodFor returns the method a routing or script names: a built-in one,
// or a dynamic operation. Strict refuses names that are neither.
func (d *Dispatcher) methodFor(name string, strict bool) (*Method, error) {
	if m, ok := d.builtins[name]; ok {
		return m, nil
	}
	if strict && (d.served == nil || !d.served.Serves(strings.TrimPrefix(name, DynamicPrefix))) {
		return nil, engine.NewError(http.StatusBadRequest, CodeUnknownMethod,
			fmt.Sprintf("method %q is neither a built-in connector method nor the operation id of a served dynamic endpoint; GET /admin/v1/message-docs lists them", name),
			engine.Violation{Location: "body", Pointer: "/method_name", Code: "unknown", Message: "no such method"})
	}
	return &Method{Name: name, Dynamic: true, Args: []Arg{{Name: "request"}}}, nil
}

// build prepares a table from routings and scripts. Strict (a change being
// submitted) refuses any routing that does not prepare; otherwise (boot,
// deletes) such routings are logged and left out, so one stale routing
// cannot keep the rest from being served.
func (d *Dispatcher) build(routings []*Routing, scripts map[string]*scriptEntry, strict bool) (*table, error) {
	t := &table{routes: map[string]*methodRoutes{}, routings: routings, scripts: scripts}
	for name, s := range scripts {
		t.routesOf(name).script = checked{inv: s.script, source: "connector method " + name, connector: Internal}
	}
	for _, r := range routings {
		if err := d.addRouting(t, r, strict); err != nil {
			if strict {
				return nil, err
			}
			d.log.Error("method routing does not apply; left out", "method_routing_id", r.ID, "error", err)
		}
	}
	return t, nil
}

func (t *table) routesOf(name string) *methodRoutes {
	r, ok := t.routes[name]
	if !ok {
		r = &methodRoutes{exact: map[string]Invoker{}}
		t.routes[name] = r
	}
	return r
}

// addRouting prepares one routing's invoker into t.
func (d *Dispatcher) addRouting(t *table, r *Routing, strict bool) error {
	if r.MethodName == "" {
		return fieldError("/method_name", "required", "method_name is required")
	}
	m, err := d.methodFor(r.MethodName, strict)
	if err != nil {
		return err
	}
	var inv Invoker
	switch {
	case r.ConnectorName == Internal:
		s, ok := t.scripts[r.MethodName]
		if !ok {
			return engine.NewError(http.StatusBadRequest, CodeUnknownConnector,
				fmt.Sprintf("connector internal needs a connector method named %s; create it first with POST /admin/v1/connector-methods", r.MethodName),
				engine.Violation{Location: "body", Pointer: "/connector_name", Code: "unknown", Message: "no connector method " + r.MethodName})
		}
		inv = checked{inv: s.script, source: "connector method " + r.MethodName, connector: Internal}
	case r.ConnectorName == Mapped && m.Dynamic:
		inv = defaultTo
	default:
		c, ok := d.connector(r.ConnectorName)
		if !ok {
			return engine.NewError(http.StatusBadRequest, CodeUnknownConnector,
				fmt.Sprintf("connector %q is not available; available: %s", r.ConnectorName, strings.Join(d.ConnectorNames(), ", ")),
				engine.Violation{Location: "body", Pointer: "/connector_name", Code: "unknown", Message: "no such connector"})
		}
		if oc, ok := c.(OperationConnector); ok && m.Dynamic {
			if err := noParams(r); err != nil {
				return err
			}
			inv = operationVia{name: canonical(r.ConnectorName), conn: oc}
			break
		}
		prepared, err := c.Prepare(m, r.params())
		if err != nil {
			return err
		}
		prepared = d.measured(canonical(r.ConnectorName), m.Name, prepared)
		inv = named{inv: prepared, connector: canonical(r.ConnectorName)}
		if name := canonical(r.ConnectorName); name != Mapped && name != Mock {
			inv = checked{inv: prepared, source: "connector " + name, connector: name}
		}
	}
	routes := t.routesOf(r.MethodName)
	if r.IsBankIDExactMatch {
		if _, dup := routes.exact[r.BankIDPattern]; dup && strict {
			return engine.Errorf(http.StatusConflict, engine.CodeConflict,
				"method %s already has a routing for bank id %q", r.MethodName, r.BankIDPattern)
		}
		routes.exact[r.BankIDPattern] = inv
		return nil
	}
	re, err := bankPattern(r.BankIDPattern)
	if err != nil {
		return err
	}
	routes.patterns = append(routes.patterns, patternRoute{re: re, inv: inv})
	return nil
}

// bankPattern compiles a bank id pattern, anchored at both ends; "" and
// "*" match every bank (and calls for no bank).
func bankPattern(p string) (*regexp.Regexp, error) {
	if p == "" || p == "*" {
		p = ".*"
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidPattern,
			fmt.Sprintf("bank_id_pattern %q is not a regular expression: %v", p, err),
			engine.Violation{Location: "body", Pointer: "/bank_id_pattern", Code: "pattern", Message: err.Error()})
	}
	return re, nil
}

// noParams refuses parameters in a routing of a dynamic operation to an
// OperationConnector, which answers from the document alone.
func noParams(r *Routing) error {
	if len(r.Parameters) == 0 {
		return nil
	}
	msg := fmt.Sprintf("connector %s answers dynamic operations from their document and takes no parameters", r.ConnectorName)
	return engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, msg,
		engine.Violation{Location: "body", Pointer: "/parameters", Code: "unknown", Message: msg})
}

func fieldError(pointer, code, msg string) *engine.Error {
	return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, msg,
		engine.Violation{Location: "body", Pointer: pointer, Code: code, Message: msg})
}

// persist stores v under bucket/id through commit and then applies next.
func persist[T any](ctx context.Context, d *Dispatcher, commit engine.Commit[T], v T, bucket, id string, next *table) error {
	data, err := json.Marshal(v)
	if err != nil {
		return engine.Internal(err)
	}
	return engine.RunCommit(ctx, d.store, commit, v, func(tx engine.Tx) error { return tx.Put(bucket, id, data) },
		func() { d.table.Store(next) })
}

// Boot loads the stored scripts and routings and applies them. A script
// that no longer compiles or a routing that no longer prepares is logged
// and left out.
func (d *Dispatcher) Boot(ctx context.Context) error {
	var routings []*Routing
	scripts := map[string]*scriptEntry{}
	err := d.store.View(ctx, func(tx engine.Tx) error {
		if err := tx.Scan(routingBucket, "", func(_ string, v []byte) error {
			var r Routing
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			routings = append(routings, &r)
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan(scriptBucket, "", func(_ string, v []byte) error {
			var rec MethodScript
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			entry, err := d.compile(&rec, false)
			if err != nil {
				d.log.Error("connector method does not compile; not served", "connector_method_id", rec.ID, "method", rec.MethodName, "error", err)
				return nil
			}
			scripts[rec.MethodName] = entry
			return nil
		})
	})
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("connector: boot: %w", err)
	}
	slices.SortStableFunc(routings, func(a, b *Routing) int { return a.CreatedAt.Compare(b.CreatedAt) })
	d.mu.Lock()
	defer d.mu.Unlock()
	t, err := d.build(routings, scripts, false)
	if err != nil {
		return err
	}
	d.table.Store(t)
	return nil
}

// scriptsWith returns a copy of the scripts with entry set (or, when entry
// is nil, name removed).
func scriptsWith(cur map[string]*scriptEntry, name string, entry *scriptEntry) map[string]*scriptEntry {
	next := maps.Clone(cur)
	if entry == nil {
		delete(next, name)
	} else {
		next[name] = entry
	}
	return next
}
