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
	"github.com/dynapi/dynapi/http/recordapi"
	"github.com/dynapi/dynapi/plugins/corestore"
	"github.com/dynapi/dynapi/plugins/jsvm"
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
	// Plugins are further connectors by name, registered by Go code that
	// embeds the engine; routings may name them like the built-in ones. A
	// name the engine uses itself (mapped, rest, mock, internal) is refused
	// at start. A plugin that is a connector.Opener is opened at start, and
	// one that is an io.Closer closed when the instance closes, or when
	// its start fails.
	Plugins map[string]connector.Connector
}

// connectorMethods builds the dispatcher of connector methods with its
// connectors (mapped, rest, the plugins, the JavaScript engine), opens
// them and loads the stored routings and scripts. dynamic tells whether a
// name is a served dynamic operation. A plugin under a built-in's name is
// refused; on any error what was opened is closed.
func connectorMethods(ctx context.Context, cfg Config, store engine.Store, svc *access.Service, auth *authenticators,
	records *recordapi.API, dynamic func(string) bool) (*connector.Dispatcher, error) {
	svc.Authz.RegisterRoles(banking.Roles()...)
	c := cfg.Connectors
	scripts := jsvm.New(jsvm.Options{Entities: recordapi.Scripted{API: records},
		FetchAllow: c.FetchAllow, Logger: cfg.Logger, DefaultTimeout: c.ScriptTimeout,
		MaxAllocBytes: c.ScriptMaxAllocBytes, MemoryLimit: c.ScriptMemoryLimit,
		HiddenHeaders: []string{cmp.Or(c.ContextHeader, rest.DefaultContextHeader)}})
	backends := rest.New(rest.Options{Signer: auth.oauth2, ContextHeader: c.ContextHeader, Logger: cfg.Logger,
		Retries: c.Retries, Backoff: c.Backoff, BreakerFailures: c.BreakerFailures, BreakerCooldown: c.BreakerCooldown})
	reg := &connector.Registry{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.Plugins)) {
		errs = append(errs, reg.Register(name, c.Plugins[name]))
	}
	errs = append(errs, reg.Register(corestore.Name, corestore.New(store, svc.Banks)), reg.Register(rest.Name, backends))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d, err := connector.New(connector.Options{Store: store, Scripts: scripts, Methods: banking.Methods(),
		Connectors: reg, Dynamic: dynamic, Rules: banking.NewCallRules(auth.gate), Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := d.Open(ctx); err != nil {
		return nil, err
	}
	if err := d.Boot(ctx); err != nil {
		return nil, errors.Join(err, d.Close())
	}
	return d, nil
}
