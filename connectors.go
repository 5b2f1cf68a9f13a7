package dynapi

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpointmap"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/http/recordapi"
	"github.com/dynapi/dynapi/plugins/core"
	"github.com/dynapi/dynapi/plugins/corestore"
	"github.com/dynapi/dynapi/plugins/jsvm"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/plugins/rest"
)

// ConnectorConfig configures connector methods: scripts and REST back ends.
type ConnectorConfig struct {
	// ScriptTimeout is a JavaScript connector method's deadline per call
	// when it sets none itself (default 2s).
	ScriptTimeout time.Duration
	// FetchAllow lists the hosts ("host" or "host:port") scripts may reach
	// with http.fetch; empty allows none.
	FetchAllow []string
	// ScriptMaxAllocBytes bounds what the builtins of one script call may
	// allocate (default 32 MiB); ScriptMemoryLimit the heap the running
	// scripts may hold together (default 512 MiB). See jsvm.Options.
	ScriptMaxAllocBytes int
	ScriptMemoryLimit   int
	// ContextHeader names the signed JWT header sent to REST back ends
	// (default Account-Request-Information).
	ContextHeader string
	// BreakerFailures and BreakerCooldown tune the REST connector's circuit
	// breaker per back end; Retries and Backoff its retries of idempotent
	// calls. Zero values take the connector's defaults.
	BreakerFailures int
	BreakerCooldown time.Duration
	Retries         int
	Backoff         time.Duration
	// CoreMappingsDir is a directory whose uk-ob.json and berlin-group.json,
	// where present, replace the core connector's embedded mappings (see
	// plugins/core/mappings); a mapping that does not check refuses the
	// start.
	CoreMappingsDir string
	// Plugins are further connectors by name, registered by Go code that
	// embeds the engine; routings and documents' hosts may name them like
	// the built-in ones. A name the engine uses itself (core, mapped, rest,
	// obp_mock, dynamic_entity, internal, or an alias such as mock) is
	// refused at start. A plugin that is a connector.Opener is opened at
	// start, and one that is an io.Closer closed when the instance closes,
	// or when its start fails.
	Plugins map[string]connector.Connector
}

// connectorMethods builds the dispatcher of connector methods with its
// connectors (the plugins, then mapped, rest, obp_mock, dynamic_entity)
// and the JavaScript engine. A plugin under a built-in's name is refused.
// The dispatcher is opened by openConnectors once the endpoint manager,
// whose operations it routes, exists.
func connectorMethods(cfg Config, set *metrics.Set, store engine.Store, svc *access.Service, auth *authenticators,
	records *recordapi.API, entities *endpointmap.Connector) (*connector.Dispatcher, error) {
	svc.Authz.RegisterRoles(banking.Roles()...)
	c := cfg.Connectors
	scripts := jsvm.New(jsvm.Options{Entities: recordapi.Scripted{API: records},
		FetchAllow: c.FetchAllow, Logger: cfg.Logger, DefaultTimeout: c.ScriptTimeout,
		MaxAllocBytes: c.ScriptMaxAllocBytes, MemoryLimit: c.ScriptMemoryLimit,
		HiddenHeaders: []string{cmp.Or(c.ContextHeader, rest.DefaultContextHeader)}, Emit: scriptEvents(store, cfg.Now),
		Metrics: set.Scripts()})
	backends := rest.New(rest.Options{Signer: auth.oauth2, ContextHeader: c.ContextHeader, Logger: cfg.Logger,
		Retries: c.Retries, Backoff: c.Backoff, BreakerFailures: c.BreakerFailures, BreakerCooldown: c.BreakerCooldown,
		Now: cfg.Now})
	mappings, err := core.LoadMappings(c.CoreMappingsDir)
	if err != nil {
		return nil, err
	}
	reg := &connector.Registry{}
	errs := []error{reg.Register(core.Name, core.New(mappings, cfg.Now))}
	for _, name := range slices.Sorted(maps.Keys(c.Plugins)) {
		errs = append(errs, reg.Register(name, c.Plugins[name]))
	}
	errs = append(errs, reg.Register(corestore.Name, corestore.New(store, svc.Banks).WithLogger(cfg.Logger)), reg.Register(rest.Name, backends),
		reg.Register(mock.Host, mock.Connector{}), reg.Register(endpointmap.Host, entities))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return connector.New(connector.Options{Store: store, Scripts: scripts, Methods: banking.Methods(),
		Connectors: reg, Rules: banking.NewCallRules(auth.gate), Logger: cfg.Logger,
		Metrics: set})
}

// scriptEvents writes the events a script call emitted (jsvm
// Options.Emit) to the outbox, in one transaction, at the time of now
// (time.Now when nil).
func scriptEvents(store engine.Store, now func() time.Time) func(context.Context, []*events.Event) error {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, evs []*events.Event) error {
		at := now()
		return store.Update(ctx, func(tx engine.Tx) error {
			for _, ev := range evs {
				if err := events.Emit(tx, ev, at); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// openConnectors opens the dispatcher's connectors and script engine for
// the operations mgr serves and loads the stored routings and scripts; on
// an error what was opened is closed.
func openConnectors(ctx context.Context, d *connector.Dispatcher, mgr *endpoints.Manager) error {
	if err := d.Open(ctx, mgr); err != nil {
		return err
	}
	if err := d.Boot(ctx); err != nil {
		return errors.Join(err, d.Close())
	}
	return nil
}
