package endpoints

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/eventapi"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/router"
	"github.com/dynapi/dynapi/internal/ident"
	"github.com/dynapi/dynapi/internal/kvjson"
	"github.com/dynapi/dynapi/internal/rolename"
	"github.com/dynapi/dynapi/specs"
)

// bucket holds one record per dynamic endpoint, keyed by its id.
const bucket = "dynamic_endpoints"

// Hosts prepares the invokers of documents' operations: a document's host
// names the connector that answers its operations' methods by default.
// The connector dispatcher is the Hosts of a running engine, so a method
// routing or a script can take an operation over.
type Hosts interface {
	// OperationInvoker returns the invoker of op, an operation of doc,
	// answered by default by the connector named host.
	OperationInvoker(host string, doc *specs.Document, op *specs.Operation) (engine.Invoker, error)
	// HostNames lists the connectors a document may name as its host.
	HostNames() []string
}

// Endpoint is one submitted document, compiled and ready to serve. It is
// immutable: a change makes a new Endpoint.
type Endpoint struct {
	ID          string
	BankID      string // "" for system-level documents
	Mount       string
	Host        string
	ContentType string
	CreatedAt   time.Time
	Doc         *specs.Document
	// Consent is how the document is bound to a consent profile; nil when
	// it is bound to none.
	Consent *consent.DocBinding
	// consentChoice is the profile asked for at submission (?consent_profile),
	// "" when the document or the profiles decide.
	consentChoice string
	invokers      []engine.Invoker  // one per Doc.Operations entry
	hooks         []engine.Hooks    // one per Doc.Operations entry: the consent check's
	roles         map[string]string // operation id -> the role made for it
	// errors renders the refusals of a document whose operations the
	// engine answers in a standard's shape without a consent profile (the
	// UK events API); nil for the others.
	errors engine.ErrorRenderer
}

// ServedPath is where an operation of the endpoint is served.
func (e *Endpoint) ServedPath(op *specs.Operation) string {
	prefix := ""
	if e.BankID != "" {
		prefix = "/banks/" + e.BankID
	}
	return prefix + e.Mount + op.Path
}

// Route is what the route table holds for one served operation.
type Route struct {
	Endpoint  *Endpoint
	Operation *specs.Operation
	Invoker   engine.Invoker
	// Rule is who may call the operation, checked at the endpoint's bank.
	Rule guard.Rule
	// Hooks are the operation's own policies and response filters, run
	// after the server's policies and before its filters.
	Hooks engine.Hooks
	// BankParam is the position (from 1) of the path parameter naming the
	// bank the route is called at; 0 when it is the endpoint's (BankID).
	BankParam int
	// Errors renders the route's refusals in its standard's shape (from
	// the document's consent profile); nil: application/problem+json.
	Errors engine.ErrorRenderer
	// InteractionHeader names the header a request's interaction id comes
	// in and every answer plays back (x-fapi-interaction-id, from the
	// consent profile); "" for none.
	InteractionHeader string
	// DateTimeQuery are the query parameters of format date-time that the
	// consent profile's DateTimes form normalises before validation.
	DateTimeQuery []string
	DateTimes     string
	// Window names the query parameters asking for a period that the
	// server clamps to the transaction window of the consent a call is
	// made under (from the consent profile); nil for none.
	Window *consent.WindowFilter
	// Metrics records the route's requests, under its operation id; nil
	// when metrics are off.
	Metrics *metrics.Route
}

var nonWord = regexp.MustCompile(`\W`)

// baseRoleName is the predictable name of an operation's role,
// Can<Verb>DynamicEndpoint_<operationId>: the name it gets unless another
// document holds it already. nameRoles fits it within rolename.Max.
func baseRoleName(op *specs.Operation) string {
	return "Can" + string(rolename.VerbOf(op.Method)) + "DynamicEndpoint_" + nonWord.ReplaceAllString(op.ID, "_")
}

// needsRole tells whether an operation gets a dynamic role of its own: it
// does unless the document names its roles or opens it to everyone.
func needsRole(op *specs.Operation) bool { return !op.Access.Public && !op.Access.RolesDeclared }

// RoleOf is the dynamic role made for an operation of the endpoint, "" when
// the document names the operation's roles or opens it to everyone.
func (e *Endpoint) RoleOf(op *specs.Operation) string { return e.roles[op.ID] }

// ruleOf is the access rule of an operation: its own dynamic role unless
// the document says otherwise.
func (e *Endpoint) ruleOf(op *specs.Operation) guard.Rule {
	switch {
	case op.Access.Public:
		return guard.Rule{Public: true}
	case op.Access.RolesDeclared:
		return guard.Rule{Roles: op.Access.Roles}
	}
	return guard.Rule{Roles: []string{e.RoleOf(op)}}
}

// Roles returns the dynamic roles the endpoint's operations need: one per
// operation that does not name its own, bank-scoped for bank-level
// documents.
func (e *Endpoint) Roles() []authz.Role {
	seen := map[string]bool{}
	var roles []authz.Role
	for _, op := range e.Doc.Operations {
		if !needsRole(op) {
			continue
		}
		name := e.RoleOf(op)
		if !seen[name] {
			seen[name] = true
			roles = append(roles, authz.Role{Name: name, RequiresBankID: e.BankID != "", Dynamic: true})
		}
	}
	return roles
}

// nameRoles names the role of each operation of ep that needs one:
// its predictable name when nothing holds that name yet, else that name
// followed by part of ep's id (all of it if that is taken too), each
// shortened by rolename.Fit when longer than a role name may be. A document
// therefore never shares a role with another document, at any bank: what
// its creator is granted opens its own operations and nothing else. When
// ep replaces prev, an operation prev has too (same id, same verb) keeps
// prev's role, and with it every entitlement to it. Call it with m.mu
// held, so no other change takes a name in between.
func (m *Manager) nameRoles(ep, prev *Endpoint) {
	held := map[string]bool{}
	for _, other := range m.snap.Load().endpoints {
		for _, name := range other.roles {
			held[name] = true
		}
	}
	taken := func(name string) bool { return held[name] || m.roleExists(name) }
	id := strings.ReplaceAll(ep.ID, "-", "")
	roles := make(map[string]string, len(ep.Doc.Operations))
	for _, op := range ep.Doc.Operations {
		if !needsRole(op) {
			continue
		}
		base := baseRoleName(op)
		if kept := prev.keptRole(op, base); kept != "" {
			roles[op.ID] = kept
			continue
		}
		name := rolename.Fit(base)
		if taken(name) {
			short, long := rolename.Fit(base+"_"+id[:min(8, len(id))]), rolename.Fit(base+"_"+id)
			name = short
			if taken(short) {
				name = long
			}
		}
		roles[op.ID] = name
	}
	ep.roles = roles
}

// keptRole is the role e (nil: none) gave the operation a replacement
// document also has: same operationId, same predictable role name base. ""
// when the operation is new.
func (e *Endpoint) keptRole(op *specs.Operation, base string) string {
	if e == nil {
		return ""
	}
	for _, old := range e.Doc.Operations {
		if old.ID == op.ID && needsRole(old) && baseRoleName(old) == base {
			return e.roles[op.ID]
		}
	}
	return ""
}

// Snapshot is an immutable view of every served operation.
type Snapshot struct {
	Routes    *router.Table[*Route]
	endpoints map[string]*Endpoint
	// built is when building the snapshot started; metrics are its routes'
	// recorders (nil when metrics are off).
	built   time.Time
	metrics []*metrics.Route
}

// Manager owns the dynamic endpoints: it persists them, builds snapshots
// and swaps them in. It is safe for concurrent use.
//
// A change loads its document (parse, compile, prepare) without holding
// the change lock, so a large document never holds up other changes; only
// what depends on the other documents (role names, the roles check, route
// conflicts against the snapshot current then) and the persist and swap
// run under the lock.
type Manager struct {
	store       engine.Store
	booted      atomic.Bool // Boot has served the stored documents
	log         *slog.Logger
	hosts       Hosts
	defaultHost string
	reserved    [][]string
	load        specs.Options // every document's limits (SchemaBase aside)
	roleExists  func(name string) bool
	builtin     []*Builtin
	consents    *consent.Binder
	events      *eventapi.Binder
	loading     *semaphore.Weighted // bytes of documents being loaded
	loadingCap  int64
	metrics     *metrics.Set

	mu   sync.Mutex // serialises changes
	snap atomic.Pointer[Snapshot]
}

// DefaultMaxLoadingBytes bounds the documents loading at once, in bytes of
// source, unless Options say otherwise.
const DefaultMaxLoadingBytes = 64 << 20

// Options configure a Manager.
type Options struct {
	// Hosts prepares every operation's invoker; DefaultHost, one of its
	// HostNames, answers the documents that name no host.
	Hosts       Hosts
	DefaultHost string
	Logger      *slog.Logger
	// Reserved are path prefixes the engine serves itself ("/admin",
	// "/my", ...); a document whose operations would be served under one is
	// refused, since its routes could never answer. A prefix may hold one
	// "*" segment standing for any bank id.
	Reserved []string
	// MaxOperations and YAMLExpansion bound every document, at submission
	// and at boot alike (see specs.Options; 0: the defaults).
	MaxOperations int
	YAMLExpansion int
	// MaxLoadingBytes bounds the documents loading at once, in bytes of
	// source: a change beyond it waits for others to finish loading. A
	// larger document loads alone. 0: DefaultMaxLoadingBytes.
	MaxLoadingBytes int64
	// RoleExists tells whether a role name is taken outside the served
	// documents (by a stored document that no longer builds, say), so no
	// new document's role takes it over. Nil: only the served documents'
	// roles are taken.
	RoleExists func(name string) bool
	// Builtin are documents served from every snapshot, never stored.
	Builtin []*Builtin
	// Consents binds documents to consent profiles, whose consent
	// resources the engine answers; nil binds none.
	Consents *consent.Binder
	// Events answers the UK Open Banking events API's operations
	// (event subscriptions, aggregated polling) of any document holding
	// them; nil answers none.
	Events *eventapi.Binder
	// Metrics records each route's requests and the snapshot swaps; nil
	// records nothing.
	Metrics *metrics.Set
}

// New returns a Manager with no endpoints; call Boot to load the persisted
// ones.
func New(store engine.Store, opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxLoadingBytes <= 0 {
		opts.MaxLoadingBytes = DefaultMaxLoadingBytes
	}
	if opts.RoleExists == nil {
		opts.RoleExists = func(string) bool { return false }
	}
	m := &Manager{store: store, log: opts.Logger, hosts: opts.Hosts, defaultHost: opts.DefaultHost,
		roleExists: opts.RoleExists, builtin: opts.Builtin, consents: opts.Consents, events: opts.Events,
		load:    specs.Options{MaxOperations: opts.MaxOperations, YAMLExpansion: opts.YAMLExpansion},
		loading: semaphore.NewWeighted(opts.MaxLoadingBytes), loadingCap: opts.MaxLoadingBytes, metrics: opts.Metrics}
	for _, p := range opts.Reserved {
		m.reserved = append(m.reserved, strings.Split(strings.Trim(p, "/"), "/"))
	}
	snap, err := m.snapshot(map[string]*Endpoint{})
	if err != nil {
		panic("endpoints: the built-in documents cannot be served: " + err.Error())
	}
	m.serve(snap)
	return m
}

// Snapshot returns the snapshot being served. It never blocks.
func (m *Manager) Snapshot() *Snapshot { return m.snap.Load() }

// record is an endpoint as persisted.
type record struct {
	ID          string    `json:"id"`
	BankID      string    `json:"bank_id,omitempty"`
	Mount       *string   `json:"mount"` // nil: the document's own
	Host        string    `json:"host"`
	ContentType string    `json:"content_type,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Source      string    `json:"source"`
	// Roles names each operation's role (operation id -> role); a record
	// without it predates per-document roles and keeps the predictable
	// names.
	Roles map[string]string `json:"roles,omitempty"`
	// ConsentProfile is the consent profile asked for at submission
	// (?consent_profile), "" when the document or the profiles decide.
	ConsentProfile string `json:"consent_profile,omitempty"`
}

// Boot loads every persisted endpoint and serves them. An endpoint that no
// longer builds (after an upgrade, say) is logged and left out rather than
// keeping the others from being served.
func (m *Manager) Boot(ctx context.Context) error {
	var records []record
	err := m.store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(_ string, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("endpoints: decode record: %w", err)
			}
			records = append(records, r)
			return nil
		})
	})
	if err != nil {
		return err
	}
	slices.SortFunc(records, func(a, b record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	m.mu.Lock()
	defer m.mu.Unlock()
	all := map[string]*Endpoint{}
	for _, r := range records {
		ep, err := m.build(r)
		if err != nil {
			m.log.Error("dynamic endpoint does not build; not served", "dynamic_endpoint_id", r.ID, "error", err)
			continue
		}
		all[ep.ID] = ep
	}
	snap, err := m.snapshot(all)
	if err != nil {
		return fmt.Errorf("endpoints: boot: %w", err)
	}
	m.warnSharedRoles(all)
	m.serve(snap)
	m.booted.Store(true)
	return nil
}

// Booted reports whether Boot has loaded the stored documents and serves
// them (the built-in ones are served from New on).
func (m *Manager) Booted() bool { return m.booted.Load() }

// warnSharedRoles logs each role that documents stored before roles were
// given per document still share at one bank: a grant of it opens all of
// them. Deleting and posting again all but one of them ends the sharing.
func (m *Manager) warnSharedRoles(all map[string]*Endpoint) {
	type scoped struct{ bank, role string }
	holders := map[scoped][]string{}
	for _, ep := range all {
		for _, role := range ep.Roles() {
			k := scoped{ep.BankID, role.Name}
			holders[k] = append(holders[k], ep.ID)
		}
	}
	for k, ids := range holders {
		if len(ids) > 1 {
			slices.Sort(ids)
			m.log.Warn("dynamic endpoints share a role: a grant of it opens all of them; post all but one again to end it",
				"role", k.role, "bank_id", k.bank, "dynamic_endpoint_ids", ids)
		}
	}
}

// CreateInput is a document submitted for serving.
type CreateInput struct {
	BankID      string
	Source      []byte
	ContentType string
	// Mount overrides the document's mount when MountSet is true ("" or "/"
	// mean the root).
	Mount    string
	MountSet bool
	// ConsentProfile names the consent profile to bind (consent.NoProfile:
	// none), "" to let the document or the profiles decide; a replacement
	// keeps the current choice unless it names one.
	ConsentProfile string
	// Check, when set, may refuse the built endpoint before anything is
	// stored or served.
	Check func(*Endpoint) error
	// Commit stores the change (nil: in a transaction of its own); see
	// Commit.
	Commit Commit
}

// Commit stores a change to an endpoint; see engine.Commit.
type Commit = engine.Commit[*Endpoint]

// commit runs c on ep (nil: write in a transaction of its own) and serves
// snap once it has committed.
func (m *Manager) commit(ctx context.Context, c Commit, ep *Endpoint, write func(engine.Tx) error, snap *Snapshot) error {
	return engine.RunCommit(ctx, m.store, c, ep, write, func() { m.serve(snap) })
}

// serve swaps snap in: requests from now on are served from it. The
// metrics drop the series of the operations it no longer serves.
func (m *Manager) serve(snap *Snapshot) {
	m.snap.Store(snap)
	if m.metrics != nil {
		m.metrics.KeepOperations(snap.metrics)
		m.metrics.Snapshots().Swapped(snap.built)
	}
}

var mountPattern = regexp.MustCompile(`^(/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*$`)

// Create loads, compiles and serves a new document.
func (m *Manager) Create(ctx context.Context, in CreateInput) (*Endpoint, error) {
	r, err := newRecord(uuid.NewString(), time.Now().UTC(), in)
	if err != nil {
		return nil, err
	}
	ep, err := m.buildServable(ctx, r)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.swapIn(ctx, ep, nil, in); err != nil {
		return nil, err
	}
	m.log.InfoContext(ctx, "dynamic endpoint created", "dynamic_endpoint_id", ep.ID, "bank_id", ep.BankID,
		"title", ep.Doc.Title, "operations", len(ep.Doc.Operations))
	return ep, nil
}

// Replace serves a new version of document id of in.BankID in its place:
// same id, same host, same mount unless in says otherwise. Operations the
// two versions share keep their roles (see nameRoles); the old version
// answers until the new one is committed. A change to the same document
// in the meantime makes it a 409.
func (m *Manager) Replace(ctx context.Context, id string, in CreateInput) (*Endpoint, error) {
	cur, err := m.Get(in.BankID, id)
	if err != nil {
		return nil, err
	}
	r, err := newRecord(id, cur.CreatedAt, in)
	if err != nil {
		return nil, err
	}
	r.Host = cur.Host
	if r.ConsentProfile == "" {
		r.ConsentProfile = cur.consentChoice
	}
	if r.Mount == nil {
		r.Mount = &cur.Mount
	}
	ep, err := m.buildServable(ctx, r)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if now, err := m.Get(in.BankID, id); err != nil {
		return nil, err
	} else if now != cur {
		return nil, engine.Errorf(http.StatusConflict, engine.CodeConflict, "dynamic endpoint %q changed meanwhile; try again", id)
	}
	if err := m.swapIn(ctx, ep, cur, in); err != nil {
		return nil, err
	}
	m.log.InfoContext(ctx, "dynamic endpoint replaced", "dynamic_endpoint_id", ep.ID, "bank_id", ep.BankID,
		"title", ep.Doc.Title, "operations", len(ep.Doc.Operations))
	return ep, nil
}

// swapIn names ep's roles (keeping prev's, when ep replaces it), runs
// in.Check, commits ep's record through in.Commit and serves it. m.mu is
// held.
func (m *Manager) swapIn(ctx context.Context, ep, prev *Endpoint, in CreateInput) error {
	m.nameRoles(ep, prev)
	if in.Check != nil {
		if err := in.Check(ep); err != nil {
			return err
		}
	}
	snap, err := m.snapshot(m.withEndpoint(ep))
	if err != nil {
		return err
	}
	source := string(in.Source)
	return m.commit(ctx, in.Commit, ep, func(tx engine.Tx) error { return ep.put(tx, source) }, snap)
}

// newRecord is the record of a document submitted as in, with its bank and
// mount checked.
func newRecord(id string, createdAt time.Time, in CreateInput) (record, error) {
	if in.BankID != "" && !ident.Valid(in.BankID) {
		return record{}, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest, "bank id %q is not valid: a bank id is "+ident.Rule, in.BankID)
	}
	r := record{ID: id, BankID: in.BankID, ContentType: in.ContentType, CreatedAt: createdAt, Source: string(in.Source),
		ConsentProfile: in.ConsentProfile}
	if in.MountSet {
		mount := specs.NormaliseMount(in.Mount)
		if fault := specs.PathFault(mount); fault != "" {
			msg := fmt.Sprintf("mount %q is ambiguous: %s", in.Mount, fault)
			return record{}, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, msg,
				engine.Violation{Location: "query", Pointer: "/mount", Code: "ambiguous_path", Message: msg})
		}
		if !mountPattern.MatchString(mount) {
			return record{}, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest, "mount %q is not a valid path prefix", in.Mount)
		}
		r.Mount = &mount
	}
	return r, nil
}

// buildBounded builds a submitted record once the documents loading leave
// room for it, so concurrent submissions cannot together hold unbounded
// buildServable builds r within the build bounds and checks it claims no
// reserved path.
func (m *Manager) buildServable(ctx context.Context, r record) (*Endpoint, error) {
	ep, err := m.buildBounded(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := m.checkReserved(ep); err != nil {
		return nil, err
	}
	return ep, nil
}

// memory.
func (m *Manager) buildBounded(ctx context.Context, r record) (*Endpoint, error) {
	weight := min(max(int64(len(r.Source)), 1), m.loadingCap)
	if err := m.loading.Acquire(ctx, weight); err != nil {
		return nil, engine.Surface(err)
	}
	defer m.loading.Release(weight)
	defer settleAfterLoad()()
	return m.build(r)
}

// build compiles a record into an Endpoint: the document, its mount and host,
// an invoker per operation and the role names it was stored with.
func (m *Manager) build(r record) (*Endpoint, error) {
	m.log.Debug("loading dynamic endpoint", "dynamic_endpoint_id", r.ID, "bytes", len(r.Source))
	opts := m.load
	opts.SchemaBase = "https://dynapi.invalid/dynamic-endpoints/" + r.ID + "/"
	doc, err := specs.Load([]byte(r.Source), r.ContentType, opts)
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{ID: r.ID, BankID: r.BankID, Mount: doc.Mount, Host: r.Host, ContentType: r.ContentType,
		CreatedAt: r.CreatedAt, Doc: doc, consentChoice: r.ConsentProfile, roles: make(map[string]string, len(r.Roles))}
	for _, op := range doc.Operations {
		if needsRole(op) {
			ep.roles[op.ID] = cmp.Or(r.Roles[op.ID], baseRoleName(op))
		}
	}
	if r.Mount != nil {
		ep.Mount = *r.Mount
	}
	hostAt := engine.Violation{Location: "body", Pointer: "/host"}
	if ep.Host == "" && doc.Host != "" {
		ep.Host = doc.Host
		hostAt = engine.Violation{Location: "document", Pointer: "/x-dynapi-host"}
		if strings.HasPrefix(doc.SpecVersion, "2.") {
			hostAt.Pointer = "/host"
		}
	}
	if ep.Host == "" {
		ep.Host = m.defaultHost
	}
	if err := m.prepare(ep, hostAt); err != nil {
		return nil, err
	}
	return ep, nil
}

// route is the route of e's i-th operation; a document bound to a consent
// profile answers in its standard's ways, and an operation the profile
// binds to use is open to any authenticated caller (or the roles the
// document names) and decided by its consent check: the consent grants
// access, not a role.
func (e *Endpoint) route(i int) *Route {
	op := e.Doc.Operations[i]
	r := &Route{Endpoint: e, Operation: op, Invoker: e.invokers[i], Rule: e.ruleOf(op)}
	if e.hooks != nil {
		r.Hooks = e.hooks[i]
	}
	if e.Consent.Uses(op.ID) {
		r.Rule = guard.Rule{Roles: op.Access.Roles, Consented: true}
	}
	if e.errors != nil {
		r.Errors, r.InteractionHeader = e.errors, eventapi.InteractionHeader
	}
	if e.Consent != nil {
		p := e.Consent.Profile
		r.Errors, r.InteractionHeader = p, p.InteractionHeader
		if p.QueryDateTimes != "" {
			r.DateTimeQuery, r.DateTimes = e.dateTimeQuery(op), p.QueryDateTimes
		}
		if w := p.Operations[op.ID].Window; w != nil && (w.QueryFrom != "" || w.QueryTo != "") && e.Consent.Uses(op.ID) {
			r.Window = w
		}
	}
	return r
}

// dateTimeQuery names op's query parameters whose schema is a string of
// format date-time.
func (e *Endpoint) dateTimeQuery(op *specs.Operation) []string {
	var names []string
	for _, p := range op.Params {
		node, _ := p.SchemaNode().(map[string]any)
		if ref, ok := node["$ref"].(string); ok {
			resolved, _ := e.Doc.Resolve(ref)
			node, _ = resolved.(map[string]any)
		}
		if p.In == "query" && node["format"] == "date-time" {
			names = append(names, p.Name)
		}
	}
	return names
}

// bindConsents binds ep to its consent profile, if any: the operations the
// profile creates, gets and deletes consents with are answered by the
// engine instead of the host, and those it uses consents with get the
// consent check as their hooks.
func (m *Manager) bindConsents(ep *Endpoint) error {
	if m.consents == nil {
		return nil
	}
	db, err := m.consents.Bind(ep.Doc, ep.consentChoice)
	if err != nil || db == nil {
		return err
	}
	ep.Consent = db
	ep.hooks = make([]engine.Hooks, len(ep.Doc.Operations))
	for i, op := range ep.Doc.Operations {
		if inv := m.consents.Invoker(db, ep.ID, ep.BankID, op); inv != nil {
			ep.invokers[i] = inv
		}
		ep.invokers[i] = m.consents.Counted(db, op, ep.invokers[i])
		ep.hooks[i] = m.consents.Hooks(db, op)
	}
	return nil
}

// checkReserved refuses operations served under a path the engine keeps.
func (m *Manager) checkReserved(ep *Endpoint) error {
	var faults []engine.Violation
	for _, op := range ep.Doc.Operations {
		served := ep.ServedPath(op)
		segs := strings.Split(strings.Trim(served, "/"), "/")
		for _, prefix := range m.reserved {
			if hasSegmentPrefix(segs, prefix) {
				faults = append(faults, engine.Violation{Location: "document", Pointer: op.Pointer, Code: "reserved",
					Message: served + " is under /" + strings.Join(prefix, "/") + ", which the engine serves itself; choose another ?mount"})
				break
			}
		}
	}
	if len(faults) > 0 {
		return engine.NewError(http.StatusConflict, engine.CodeRouteConflict, "the document's operations would be served under reserved paths", faults...)
	}
	return nil
}

// hasSegmentPrefix tells whether path segments start with prefix; "*"
// matches any one segment and a parameter segment matches anything.
func hasSegmentPrefix(segs, prefix []string) bool {
	if len(segs) < len(prefix) {
		return false
	}
	for i, p := range prefix {
		if p != "*" && p != segs[i] && !strings.HasPrefix(segs[i], "{") {
			return false
		}
	}
	return true
}

// prepare makes the invokers of every operation for the endpoint's host,
// then binds its consent profile (bindConsents). A host that names no
// connector is a 400 with a violation at hostAt, where the host was given.
func (m *Manager) prepare(ep *Endpoint, hostAt engine.Violation) error {
	if names := m.hosts.HostNames(); !slices.Contains(names, ep.Host) {
		msg := fmt.Sprintf("host %q is not a connector; available: %s", ep.Host, strings.Join(names, ", "))
		hostAt.Code, hostAt.Message = "unknown", "no connector "+ep.Host
		return engine.NewError(http.StatusBadRequest, connector.CodeUnknownConnector, msg, hostAt)
	}
	ep.invokers = make([]engine.Invoker, len(ep.Doc.Operations))
	for i, op := range ep.Doc.Operations {
		inv, err := m.hosts.OperationInvoker(ep.Host, ep.Doc, op)
		if err != nil {
			return engine.Errorf(http.StatusBadRequest, engine.CodeInvalidDocument,
				"operation %s cannot be answered by host %q: %v", op.ID, ep.Host, err)
		}
		ep.invokers[i] = inv
	}
	m.bindEvents(ep)
	return m.bindConsents(ep)
}

// bindEvents has the engine answer ep's UK events API operations, in the
// standard's error shape.
func (m *Manager) bindEvents(ep *Endpoint) {
	if m.events == nil {
		return
	}
	for i, op := range ep.Doc.Operations {
		if inv := m.events.Invoker(ep.Doc, op); inv != nil {
			ep.invokers[i], ep.errors = inv, m.events.Errors()
		}
	}
}

// withEndpoint returns a copy of the current endpoint set with ep added or
// replaced.
func (m *Manager) withEndpoint(ep *Endpoint) map[string]*Endpoint {
	next := maps.Clone(m.snap.Load().endpoints)
	next[ep.ID] = ep
	return next
}

// without returns a copy of the current endpoint set without id.
func (m *Manager) without(id string) map[string]*Endpoint {
	next := maps.Clone(m.snap.Load().endpoints)
	delete(next, id)
	return next
}

// snapshot builds a route table over all endpoints. A route conflict is a
// 409 naming both documents.
func (m *Manager) snapshot(all map[string]*Endpoint) (*Snapshot, error) {
	built := time.Now()
	routes := m.builtinRoutes()
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return all[a].CreatedAt.Compare(all[b].CreatedAt) })
	for _, id := range ids {
		ep := all[id]
		for i, op := range ep.Doc.Operations {
			routes = append(routes, router.Route[*Route]{Method: op.Method, Template: ep.ServedPath(op), Owner: ep.ID,
				Value: ep.route(i)})
		}
	}
	table, err := router.Build(routes)
	if err != nil {
		var conflict *router.ConflictError
		if errors.As(err, &conflict) {
			return nil, m.conflictError(conflict, all)
		}
		return nil, engine.Errorf(http.StatusBadRequest, engine.CodeInvalidDocument, "the document's paths cannot be served: %v", err).WithCause(err)
	}
	return &Snapshot{Routes: table, endpoints: all, built: built, metrics: m.routeMetrics(routes)}, nil
}

// routeMetrics gives each route its recorder, under its operation id, and
// returns them; nil when metrics are off.
func (m *Manager) routeMetrics(routes []router.Route[*Route]) []*metrics.Route {
	if m.metrics == nil {
		return nil
	}
	out := make([]*metrics.Route, len(routes))
	for i, r := range routes {
		r.Value.Metrics = m.metrics.OperationRoute(r.Value.Operation.ID)
		out[i] = r.Value.Metrics
	}
	return out
}

func (m *Manager) conflictError(c *router.ConflictError, all map[string]*Endpoint) *engine.Error {
	describe := func(id string) string {
		if name, ok := m.builtinName(id); ok {
			return name
		}
		if ep, ok := all[id]; ok {
			return fmt.Sprintf("dynamic endpoint %s (%q)", id, ep.Doc.Title)
		}
		return "dynamic endpoint " + id
	}
	msg := fmt.Sprintf("%s %s of %s conflicts with %s %s of %s",
		c.Method, c.Template, describe(c.Owner), c.Method, c.OtherTemplate, describe(c.OtherOwner))
	return engine.NewError(http.StatusConflict, engine.CodeRouteConflict, msg, engine.Violation{
		Location: "document", Pointer: "/paths", Code: "conflict", Message: msg})
}

// put writes the endpoint's record, with its document source, in tx.
func (e *Endpoint) put(tx engine.Tx, source string) error {
	return kvjson.Put(tx, bucket, e.ID, record{ID: e.ID, BankID: e.BankID, Mount: &e.Mount, Host: e.Host,
		ContentType: e.ContentType, CreatedAt: e.CreatedAt, Source: source, Roles: e.roles, ConsentProfile: e.consentChoice})
}

// storedSource reads the document source of endpoint id from tx.
func storedSource(tx engine.Tx, id string) (string, error) {
	r, err := kvjson.Get[record](tx, bucket, id)
	if err != nil {
		return "", err
	}
	return r.Source, nil
}

// Source returns an endpoint's document exactly as submitted. Served
// endpoints do not hold it (only what they serve from it), so it is read
// from the store: a document replaced meanwhile gives its new source.
func (m *Manager) Source(ctx context.Context, ep *Endpoint) ([]byte, error) {
	var source string
	err := m.store.View(ctx, func(tx engine.Tx) error {
		var err error
		source, err = storedSource(tx, ep.ID)
		return err
	})
	if errors.Is(err, engine.ErrNotFound) {
		return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "dynamic endpoint %q not found", ep.ID)
	}
	if err != nil {
		return nil, engine.Surface(err)
	}
	return []byte(source), nil
}

// DocumentTree decodes an endpoint's source (see Source) into generic
// values within the bounds it was loaded under.
func (m *Manager) DocumentTree(ep *Endpoint, source []byte) (any, error) {
	return specs.DecodeDocument(source, ep.ContentType, m.load)
}

// All returns every endpoint, system and bank level.
func (m *Manager) All() []*Endpoint {
	return slices.Collect(maps.Values(m.snap.Load().endpoints))
}

// List returns the endpoints of one bank ("" for system level), oldest
// first.
func (m *Manager) List(bankID string) []*Endpoint {
	return slices.DeleteFunc(m.sorted(), func(ep *Endpoint) bool { return ep.BankID != bankID })
}

// Get returns one endpoint of a bank ("" for system level), or a 404.
func (m *Manager) Get(bankID, id string) (*Endpoint, error) {
	ep, ok := m.snap.Load().endpoints[id]
	if !ok || ep.BankID != bankID {
		return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "dynamic endpoint %q not found", id)
	}
	return ep, nil
}

// Delete stops serving an endpoint and forgets it, once commit (nil: a
// transaction of its own) has removed its record; until then it answers.
func (m *Manager) Delete(ctx context.Context, bankID, id string, commit Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep, err := m.Get(bankID, id)
	if err != nil {
		return err
	}
	snap, err := m.snapshot(m.without(id))
	if err != nil {
		return err
	}
	if err := m.commit(ctx, commit, ep, func(tx engine.Tx) error { return tx.Delete(bucket, id) }, snap); err != nil {
		return err
	}
	m.log.InfoContext(ctx, "dynamic endpoint deleted", "dynamic_endpoint_id", id)
	return nil
}

// SetHost changes how an endpoint's operations answer, stored through
// commit (nil: a transaction of its own). The invokers are prepared
// outside the change lock; a change to the same endpoint in the meantime
// makes it a 409.
func (m *Manager) SetHost(ctx context.Context, bankID, id, host string, commit Commit) (*Endpoint, error) {
	cur, err := m.Get(bankID, id)
	if err != nil {
		return nil, err
	}
	ep := *cur
	ep.Host = host
	if err := m.prepare(&ep, engine.Violation{Location: "body", Pointer: "/host"}); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now, err := m.Get(bankID, id)
	if err != nil {
		return nil, err
	}
	if now != cur {
		return nil, engine.Errorf(http.StatusConflict, engine.CodeConflict, "dynamic endpoint %q changed meanwhile; try again", id)
	}
	snap, err := m.snapshot(m.withEndpoint(&ep))
	if err != nil {
		return nil, err
	}
	keep := func(tx engine.Tx) error {
		source, err := storedSource(tx, ep.ID)
		if err != nil {
			return err
		}
		return ep.put(tx, source)
	}
	if err := m.commit(ctx, commit, &ep, keep, snap); err != nil {
		return nil, err
	}
	m.log.InfoContext(ctx, "dynamic endpoint host changed", "dynamic_endpoint_id", id, "host", host)
	return &ep, nil
}

// Serves reports whether a served document has an operation with id (the
// connector dispatcher's Operations).
func (m *Manager) Serves(id string) bool {
	for _, ep := range m.snap.Load().endpoints {
		for _, op := range ep.Doc.Operations {
			if op.ID == id {
				return true
			}
		}
	}
	return false
}

// sorted returns every endpoint, oldest first.
func (m *Manager) sorted() []*Endpoint {
	all := m.All()
	slices.SortFunc(all, func(a, b *Endpoint) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return all
}
