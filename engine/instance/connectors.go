package instance

import (
	"cmp"
	"context"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/recordapi"
	"github.com/dynapi/dynapi/plugins/jsvm"
	"github.com/dynapi/dynapi/plugins/mapped"
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
	// embeds the engine; routings may name them like the built-in ones.
	Plugins map[string]connector.Connector
}

// connectorMethods builds the dispatcher of connector methods with its
// connectors (mapped, rest, the JavaScript engine) and loads the stored
// routings and scripts. dynamic tells whether a name is a served dynamic
// operation.
func connectorMethods(ctx context.Context, cfg Config, store engine.Store, svc *access.Service, auth *authenticators,
	records *recordapi.API, dynamic func(string) bool) (*connector.Dispatcher, error) {
	svc.RegisterRoles(banking.Roles()...)
	caller := &lateCaller{}
	c := cfg.Connectors
	scripts := jsvm.New(jsvm.Options{Caller: caller, Entities: recordapi.Scripted{API: records},
		FetchAllow: c.FetchAllow, Logger: cfg.Logger, DefaultTimeout: c.ScriptTimeout,
		MaxAllocBytes: c.ScriptMaxAllocBytes, MemoryLimit: c.ScriptMemoryLimit,
		HiddenHeaders: []string{cmp.Or(c.ContextHeader, rest.DefaultContextHeader)}})
	backends := rest.New(rest.Options{Signer: auth.oauth2, ContextHeader: c.ContextHeader, Logger: cfg.Logger,
		Retries: c.Retries, Backoff: c.Backoff, BreakerFailures: c.BreakerFailures, BreakerCooldown: c.BreakerCooldown})
	connectors := map[string]connector.Connector{}
	for name, p := range c.Plugins {
		connectors[name] = p
	}
	connectors[mapped.Name] = mapped.New(store, svc)
	connectors[rest.Name] = backends
	d, err := connector.New(connector.Options{Store: store, Scripts: scripts, Methods: banking.Methods(),
		Connectors: connectors, Dynamic: dynamic, Rules: banking.NewCallRules(auth.gate), Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	caller.d = d
	return d, d.Boot(ctx)
}

// lateCaller lets scripts call the dispatcher that is built after their
// engine.
type lateCaller struct{ d *connector.Dispatcher }

func (l *lateCaller) CallMethod(ctx context.Context, parent *connector.Request, name string, args []any) (any, error) {
	return l.d.CallMethod(ctx, parent, name, args)
}
