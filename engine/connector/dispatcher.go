package connector

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// Names of connectors the dispatcher knows.
const (
	// Internal routes a method to the JavaScript connector method of the
	// same name; the dispatcher answers it itself.
	Internal = "internal"
	// Mapped is the default: the local store for built-in methods, the
	// document's host for dynamic operations.
	Mapped = "mapped"
	// Mock is the connector that answers from examples (plugins/mock): a
	// document's operations from the document, built-in methods from their
	// message docs. It is registered like any other connector.
	Mock = "obp_mock"
)

// aliases are OBP connector names accepted for compatibility.
var aliases = map[string]string{"rest_vMar2019": "rest", "star": Mapped, "mock": Mock}

// canonical is the connector name an alias stands for, else name itself.
func canonical(name string) string { return cmp.Or(aliases[name], name) }

// Options configure a Dispatcher.
type Options struct {
	Store engine.Store
	// Connectors by name; "mapped" must be among them when there are
	// Methods. Internal is the dispatcher's own.
	Connectors *Registry
	// Scripts compiles connector method bodies. When it is an Opener, Open
	// hands it the dispatcher as its Caller.
	Scripts ScriptEngine
	// Methods are the built-in methods, each answered by default through
	// Connectors["mapped"].
	Methods []*Method
	// Rules apply the built-in routes' access rules to scripts'
	// connector.call; nil applies none.
	Rules  CallRules
	Logger *slog.Logger
	// Metrics records every connector call by connector and method; nil
	// records nothing.
	Metrics *metrics.Set
}

// Dispatcher routes every connector method call. It holds the built-in
// methods, the method routings and the JavaScript connector methods; the
// latter two live in one immutable table that changes swap atomically.
type Dispatcher struct {
	store      engine.Store
	connectors *Registry
	scripts    ScriptEngine
	life       lifecycle
	builtins   map[string]*Method
	defaults   map[string]Invoker // mapped invoker per built-in method
	served     Operations         // set by Open; nil serves none
	rules      CallRules
	log        *slog.Logger
	metrics    *metrics.Set

	mu    sync.Mutex // serialises changes
	table atomic.Pointer[table]
}

// table is one immutable state of routings and scripts.
type table struct {
	routes   map[string]*methodRoutes
	routings []*Routing // by creation
	scripts  map[string]*scriptEntry
}

// methodRoutes are the invokers of one method.
type methodRoutes struct {
	exact    map[string]Invoker
	patterns []patternRoute
	script   Invoker
}

type patternRoute struct {
	re  *regexp.Regexp
	inv Invoker
}

// New builds a dispatcher; call Boot to load the stored routings and
// scripts.
func New(o Options) (*Dispatcher, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Connectors == nil {
		o.Connectors = &Registry{}
	}
	d := &Dispatcher{store: o.Store, connectors: o.Connectors, scripts: o.Scripts,
		builtins: map[string]*Method{}, defaults: map[string]Invoker{}, rules: o.Rules, log: o.Logger, metrics: o.Metrics}
	mapped, ok := d.connectors.Lookup(Mapped)
	if !ok && len(o.Methods) > 0 {
		return nil, fmt.Errorf("connector: no %q connector", Mapped)
	}
	comp := jsonschemas.NewCompiler("message doc schemas are self-contained")
	for _, m := range o.Methods {
		if m.Data != nil {
			url := "https://dynapi.invalid/methods/" + m.Name + ".json"
			if err := comp.AddResource(url, m.Data); err != nil {
				return nil, fmt.Errorf("connector: method %s: %w", m.Name, err)
			}
			s, err := comp.Compile(url)
			if err != nil {
				return nil, fmt.Errorf("connector: method %s: %w", m.Name, err)
			}
			m.data = jsonschemas.NewSchema(s)
		}
		inv, err := mapped.Prepare(m, nil)
		if err != nil {
			return nil, fmt.Errorf("connector: mapped cannot answer %s: %w", m.Name, err)
		}
		d.builtins[m.Name] = m
		d.defaults[m.Name] = d.measured(Mapped, m.Name, inv)
	}
	d.table.Store(&table{routes: map[string]*methodRoutes{}, scripts: map[string]*scriptEntry{}})
	return d, nil
}

// Method returns the built-in method named name.
func (d *Dispatcher) Method(name string) (*Method, bool) {
	m, ok := d.builtins[name]
	return m, ok
}

// Methods returns the built-in methods by name.
func (d *Dispatcher) Methods() []*Method {
	out := make([]*Method, 0, len(d.builtins))
	for _, m := range d.builtins {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Method) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ConnectorNames lists the connectors a routing may name, sorted.
func (d *Dispatcher) ConnectorNames() []string {
	names := append(d.connectors.Names(), Internal)
	slices.Sort(names)
	return names
}

// HostNames lists the connectors a document may name as its host: the
// registered ones, sorted.
func (d *Dispatcher) HostNames() []string { return d.connectors.Names() }

// connector returns the registered connector name (or the alias name)
// stands for.
func (d *Dispatcher) connector(name string) (Connector, bool) {
	return d.connectors.Lookup(canonical(name))
}

// Open opens the registered connectors, in name order, then the script
// engine, handing each the dispatcher as the Caller of its scripts. When
// one fails, those already opened are closed. served tells from then on
// which dynamic operations routings and scripts may name. Call it once,
// before Boot and before any request.
func (d *Dispatcher) Open(ctx context.Context, served Operations) error {
	d.served = served
	parts := make([]namedPart, 0, len(d.connectors.conns)+1)
	for _, name := range d.connectors.Names() {
		parts = append(parts, namedPart{name: "connector " + name, part: d.connectors.conns[name]})
	}
	if d.scripts != nil {
		parts = append(parts, namedPart{name: "the script engine", part: d.scripts})
	}
	return d.life.open(ctx, Env{Caller: d, Logger: d.log}, parts)
}

// Close closes what Open opened, in reverse order.
func (d *Dispatcher) Close() error { return d.life.close() }

// Call calls built-in method name for a request. It is what the built-in
// routes use.
func (d *Dispatcher) Call(ctx context.Context, call *engine.Call, name, bankID string, args ...any) (*Result, error) {
	m, ok := d.builtins[name]
	if !ok {
		return nil, engine.Errorf(http.StatusInternalServerError, engine.CodeInternal, "connector method %q is not built in", name)
	}
	return d.Invoke(ctx, &Request{Method: m, BankID: bankID, Args: args, Call: call, Default: d.defaults[name]})
}

// Invoke answers req through its routed connector: an exact bank id
// routing, then the first matching pattern, then the JavaScript connector
// method of that name, then req.Default.
func (d *Dispatcher) Invoke(ctx context.Context, req *Request) (*Result, error) {
	if req.Depth > MaxDepth {
		return nil, ErrRecursion
	}
	inv := d.table.Load().pick(req.Method.Name, req.BankID)
	if inv == nil {
		inv = req.Default
	}
	if inv == nil {
		return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented,
			"no connector answers method %s", req.Method.Name)
	}
	ctx, span := traceCall(ctx, inv, req.Method.Name, Mapped)
	res, err := inv.Invoke(ctx, req)
	tracing.End(span, err)
	return res, err
}

// pick returns the invoker routing chooses for a method at a bank, or nil
// for the default.
func (t *table) pick(name, bankID string) Invoker {
	r, ok := t.routes[name]
	if !ok {
		return nil
	}
	if inv, ok := r.exact[bankID]; ok {
		return inv
	}
	for _, p := range r.patterns {
		if p.re.MatchString(bankID) {
			return p.inv
		}
	}
	return r.script
}

// CallMethod implements Caller for scripts: calling the script's own method
// reaches its default implementation; any other built-in method is routed
// as usual. Calls of built-in methods, the script's own included, pass the
// Rules for the script's caller unless the script is unrestricted; a
// dynamic operation's own method needs none, its caller having passed the
// operation's rules to reach the script.
func (d *Dispatcher) CallMethod(ctx context.Context, parent *Request, name string, args []any) (any, error) {
	depth := parent.Depth + 1
	if depth > MaxDepth {
		return nil, ErrRecursion
	}
	var child *Request
	var call func() (*Result, error)
	switch {
	case name == parent.Method.Name:
		if parent.Default == nil {
			return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented,
				"method %s has no default implementation", name)
		}
		own := *parent
		own.Args, own.Depth = args, depth
		child = &own
		call = func() (*Result, error) { return parent.Default.Invoke(ctx, child) }
	case d.builtins[name] != nil:
		child = &Request{Method: d.builtins[name], BankID: parent.BankID, Args: args,
			Call: parent.Call, Default: d.defaults[name], Depth: depth}
		call = func() (*Result, error) { return d.Invoke(ctx, child) }
	default:
		return nil, engine.Errorf(http.StatusBadRequest, CodeUnknownMethod,
			"connector.call reaches built-in methods and the script's own; %q is neither", name)
	}
	var res *Result
	var err error
	if d.rules != nil && !parent.Unrestricted && !child.Method.Dynamic {
		res, err = d.rules.Call(ctx, child, d.reader(child), call)
	} else {
		res, err = call()
	}
	if err != nil {
		return nil, err
	}
	return res.dataOrReply()
}

// reader makes the calls the rules read for req: built-in methods, routed,
// for req's caller, one level deeper.
func (d *Dispatcher) reader(req *Request) Reader {
	return func(ctx context.Context, name string, args ...any) (*Result, error) {
		m, ok := d.builtins[name]
		if !ok {
			return nil, engine.Errorf(http.StatusInternalServerError, engine.CodeInternal, "connector method %q is not built in", name)
		}
		return d.Invoke(ctx, &Request{Method: m, BankID: req.BankID, Args: args, Call: req.Call,
			Default: d.defaults[name], Depth: req.Depth + 1})
	}
}

// dataOrReply is a result's data; a reply's JSON body is decoded.
func (r *Result) dataOrReply() (any, error) {
	if r.Reply == nil {
		return r.Value()
	}
	if len(r.Reply.Body) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(r.Reply.Body, &v); err != nil {
		return string(r.Reply.Body), nil
	}
	return v, nil
}

// checked wraps an invoker whose data must be as the method's message doc
// says: scripts, back ends and plugins are checked; mapped and obp_mock
// (which answers the message doc's own example) are trusted.
type checked struct {
	inv       Invoker
	source    string
	connector string // the connector's name, for traces
}

// ReadsArgs implements ArgsReader for the invoker checked wraps.
func (c checked) ReadsArgs() bool { return readsArgs(c.inv) }

func (c checked) Invoke(ctx context.Context, req *Request) (*Result, error) {
	res, err := c.inv.Invoke(ctx, req)
	if err != nil || res == nil || res.Reply != nil || req.Method.data == nil {
		if err == nil && res == nil {
			res = &Result{}
		}
		return res, err
	}
	if err := checkData(res, req.Method.data, c.source+" answered method "+req.Method.Name, "is not as its message doc says"); err != nil {
		return nil, err
	}
	return res, nil
}

// checkedValue is a result's data as the schema validator takes it: JSON
// text decoded strictly (no duplicate keys, UTF-8 only, numbers within what
// the validator can compare), Go values as encoding/json would decode
// them. A refusal is a *strictjson.Error.
func checkedValue(res *Result) (any, error) {
	if res.JSON != nil {
		return strictjson.Decode(res.JSON)
	}
	return JSONValue(res.Data), nil
}

// JSONValue is v as decoded JSON (map[string]any, []any, string, float64,
// bool, nil), as encoding/json writes it; v itself when it already is
// one or does not encode.
func JSONValue(v any) any {
	switch v.(type) {
	case nil, string, bool, float64, map[string]any, []any:
		return v
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return v
	}
	return out
}

// defaultTo routes a dynamic operation to its document's own host.
var defaultTo defaultInvoker

// defaultInvoker answers a call through its request's Default.
type defaultInvoker struct{}

// ReadsArgs implements ArgsReader: it is the Default that reads them.
func (defaultInvoker) ReadsArgs() bool { return false }

func (defaultInvoker) Invoke(ctx context.Context, req *Request) (*Result, error) {
	if req.Default == nil {
		return nil, engine.Errorf(http.StatusNotImplemented, engine.CodeNotImplemented,
			"method %s has no default implementation", req.Method.Name)
	}
	return req.Default.Invoke(ctx, req)
}

// now is the clock of stored records.
var now = func() time.Time { return time.Now().UTC() }
