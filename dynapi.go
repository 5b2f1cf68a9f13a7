// Package dynapi wires a complete dynapi server from a Config: the
// embedded store, access control (users, consumers, entitlements and the
// authenticators), the dynamic endpoint manager with its connectors, the
// management API and the HTTP edge. cmd/dynapi and the end-to-end tests both
// start servers through it.
package dynapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpointmap"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/eventapi"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/engine/obpconsent"
	"github.com/dynapi/dynapi/engine/ratelimit"
	"github.com/dynapi/dynapi/engine/tracing"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/http/admin"
	"github.com/dynapi/dynapi/http/authorize"
	obpconsenthttp "github.com/dynapi/dynapi/http/obpconsent"
	"github.com/dynapi/dynapi/http/portal"
	"github.com/dynapi/dynapi/http/recordapi"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/egress"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/directlogin"
	"github.com/dynapi/dynapi/plugins/jwtbearer"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// Config is everything a server needs to start.
type Config struct {
	DataDir string
	// Admin is the super admin and first consumer made at first start;
	// empty fields are generated and printed once to Out.
	Admin     identity.BootstrapOptions
	Passwords identity.PasswordPolicy
	Throttle  identity.ThrottleOptions
	// PasswordHashing is the argon2id cost of new password hashes
	// (identity.DefaultPasswordHashing when zero); tests set a cheap one.
	PasswordHashing identity.PasswordHashing
	// JustInTimeEntitlements grants a role a caller's identity token claims
	// the first time a route needs it (OBP's create_just_in_time_entitlements).
	JustInTimeEntitlements bool
	// JustInTimeRoles are the roles that may be granted just in time
	// (names, or prefixes ending in '*'); none by default.
	JustInTimeRoles []string
	// LoginEventsPerMinute bounds the login events written to the audit
	// log (default 120); past it they are counted, not written.
	LoginEventsPerMinute int
	// DirectLoginTTL is how long a DirectLogin token lives (default 24h).
	DirectLoginTTL time.Duration
	// OAuth2 configures the client credentials grant's tokens.
	OAuth2 OAuth2Config
	// ExternalJWT, when its Issuer is set, accepts bearer JWTs of an
	// external identity provider.
	ExternalJWT jwtbearer.Options
	// MaxBodyBytes bounds a request body to a dynamic operation;
	// MaxDocumentBytes a submitted API document.
	MaxBodyBytes     int
	MaxDocumentBytes int
	// Edge bounds connections and the pace of requests at the HTTP edge,
	// and names the trusted proxies whose forwarding header is believed.
	Edge server.EdgeConfig
	// Records bounds entity records: the bytes of a list page and what
	// each user may keep of each entity (records.Options' defaults for
	// zero fields). Record bodies are bounded by MaxBodyBytes. The engine
	// always sets Events (record writes emit record.* events) and, when
	// nil, Now to the engine's clock.
	Records records.Options
	// MaxDocumentOperations refuses a document with more operations
	// (default specs.DefaultMaxOperations); MaxYAMLExpansion a YAML document
	// that grows past that many times its size once its aliases are expanded
	// (default specs.DefaultYAMLExpansion). Both apply at boot too.
	MaxDocumentOperations int
	MaxYAMLExpansion      int
	// Connectors configures scripts and REST back ends.
	Connectors ConnectorConfig
	// PatternBudget bounds the time all backtracking pattern matches of
	// one request's validation take together (default 100ms).
	PatternBudget time.Duration
	// Hooks are the policies and response filters of the request pipeline
	// that every request passes (engine.Hooks).
	Hooks engine.Hooks
	// ScaDevCodes returns the one-time codes of consent authorisations in
	// the JSON API's answers (--sca-dev), for development only.
	ScaDevCodes bool
	// OBPConsentMaxTTL bounds an OBP consent's time_to_live (default one
	// year).
	OBPConsentMaxTTL time.Duration
	// AllowUnsignedRequestObjects accepts unsigned (alg none) request
	// objects of fapi1_request_object consumers
	// (--allow-unsigned-request-objects), for a sandbox only.
	AllowUnsignedRequestObjects bool
	// Events configures the delivery of events to subscribers.
	Events EventsConfig
	// SelfRegistration lets developers create their own user (no roles)
	// on the portal's sign-up page (--self-registration).
	SelfRegistration bool
	// Tracing configures OpenTelemetry traces.
	Tracing TracingConfig
	// Metrics configures the Prometheus metrics (on by default).
	Metrics MetricsConfig
	// RateLimits are the default call limits of consumers and users
	// without limits of their own (--consumer-call-limits,
	// --user-call-limits); the zero value limits nothing.
	RateLimits RateLimitConfig
	// PreloadExample serves examples.BankAccounts at first start, with a
	// demo bank and accounts.
	PreloadExample bool
	// Now is the clock of access control and the authenticators (token
	// lifetimes, lockouts, audit times) and of the REST connector's circuit
	// breakers; time.Now when nil. Tests move a
	// fake one instead of sleeping.
	Now func() time.Time
	// Version names the build in /openapi.json.
	Version string
	Logger  *slog.Logger
	// Out receives the one-time notice of generated credentials, with a
	// login command for the server at Addr.
	Out  io.Writer
	Addr string
}

// OAuth2Config configures the tokens the engine signs.
type OAuth2Config struct {
	Issuer      string        // default "dynapi"
	TTL         time.Duration // default 5m
	RotateAfter time.Duration // signing key age before a new one is made (default 30 days)
}

// RateLimitConfig is the default call limits of consumers and of users.
type RateLimitConfig = ratelimit.Config

// EventsConfig configures event deliveries (events.Options' defaults for
// zero fields).
type EventsConfig struct {
	// CallbackAllow lists the hosts and address prefixes receivers may be
	// at over plain http or at private addresses (--callback-allow): the
	// bank's own systems, tests. Empty: only https URLs of public
	// addresses.
	CallbackAllow []string
	// DeliveryTimeout bounds one attempt (default 10s).
	DeliveryTimeout time.Duration
	// PollInterval is how often the worker looks for work (default 1s);
	// tests shorten it to follow a fake clock.
	PollInterval time.Duration
}

// TracingConfig configures OpenTelemetry traces (engine/tracing): by
// default they are exported by OTLP when the standard OTEL_EXPORTER_OTLP_*
// variables say where to, and not made otherwise.
type TracingConfig struct {
	// Off turns tracing off whatever the environment says
	// (--tracing=false).
	Off bool
	// Provider, when set, receives the spans instead (tests: an in-memory
	// exporter); the engine does not shut it down.
	Provider trace.TracerProvider
}

// Instance is a running dynapi: its store, access control, endpoints and
// HTTP server.
type Instance struct {
	Store     engine.Store
	Access    *access.Service
	Endpoints *endpoints.Manager
	Methods   *connector.Dispatcher
	Server    *server.Server
	// Consents keeps the consents; OAuth2 issues the engine's access
	// tokens (those bound to a consent among them).
	Consents *consent.Service
	OAuth2   *oauth2.Issuer
	// Authorisations are the customers' authorisations of consents.
	Authorisations *consentauth.Service
	// OBPConsents are OBP's consents: creation, challenges, requests.
	OBPConsents *obpconsent.Service
	// Events keeps subscriptions and delivers events.
	Events *events.Service
	// Metrics are the Prometheus metrics; nil when they are off.
	Metrics *metrics.Set
	// metricsServer serves the metrics on a listener of their own
	// (ServeMetrics); nil unless Config.Metrics.Addr is set.
	metricsServer *http.Server

	stop    context.CancelFunc // ends background work (key rotation)
	done    chan struct{}
	tracing *tracing.Tracing
}

// Open starts everything but the listener.
func Open(ctx context.Context, cfg Config) (*Instance, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// Lines logged while serving a request carry its correlation and
	// trace ids.
	cfg.Logger = slog.New(tracing.LogHandler(cfg.Logger.Handler()))
	traces, err := tracing.Setup(ctx, tracing.Options{Off: cfg.Tracing.Off, Provider: cfg.Tracing.Provider})
	if err != nil {
		return nil, err
	}
	bolt, err := boltstore.Open(filepath.Join(cfg.DataDir, "dynapi.db"), boltstore.Options{})
	if err != nil {
		return nil, errors.Join(err, traces.Shutdown(ctx))
	}
	var store engine.Store = bolt
	if traces.Tracer != nil {
		store = tracing.Store(bolt)
	}
	inst, err := open(ctx, cfg, store, traces)
	if err != nil {
		return nil, errors.Join(err, store.Close(), traces.Shutdown(ctx))
	}
	// Start-up's transient memory (the first start's password hash, the
	// stored documents' loading) goes back to the system before serving.
	debug.FreeOSMemory()
	return inst, nil
}

func open(ctx context.Context, cfg Config, store engine.Store, traces *tracing.Tracing) (_ *Instance, err error) {
	set, err := metricsSet(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	store = set.Store(store)
	svc, err := access.New(ctx, access.Options{Store: store, Passwords: cfg.Passwords, Throttle: cfg.Throttle,
		JustInTimeEntitlements: cfg.JustInTimeEntitlements, JustInTimeRoles: cfg.JustInTimeRoles,
		LoginEventsPerMinute: cfg.LoginEventsPerMinute, PasswordHashing: cfg.PasswordHashing, Now: cfg.Now,
		Logins: set.Logins()})
	if err != nil {
		return nil, err
	}
	svc.Authz.RegisterRoles(authz.StaticRoles()...)
	boot, err := svc.Bootstrap(ctx, cfg.Admin)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if boot.Created && cfg.Out != nil && (boot.GeneratedPassword != "" || boot.GeneratedConsumerSecret != "") {
		printBootstrap(cfg.Out, cfg.Addr, boot)
	}
	if err := portal.EnsureConsumer(ctx, svc.Identity); err != nil {
		return nil, fmt.Errorf("portal consumer: %w", err)
	}

	// The changes that emit events wake the event worker when they commit.
	wake := events.NewWake()
	emitting := events.WakeOnCommit(store, wake)
	recOpts := cfg.Records
	recOpts.Events = true
	if recOpts.Now == nil {
		recOpts.Now = cfg.Now
	}
	recs := records.New(emitting, recOpts)
	ents, err := dynentity.NewRegistry(ctx, store, recs)
	if err != nil {
		return nil, err
	}
	mappingStore, err := endpointmap.NewStore(ctx, store)
	if err != nil {
		return nil, err
	}
	consents := consent.NewService(emitting, svc.Audit, cfg.Now)
	defer func() {
		if err != nil {
			err = errors.Join(err, consents.Close(ctx))
		}
	}()
	auth, err := authentication(ctx, cfg, store, svc, consents)
	if err != nil {
		return nil, err
	}
	writer := &dynentity.Writer{Records: recs, Access: svc}
	recordAPI := &recordapi.API{Entities: ents, Records: recs, Writer: writer, Gate: auth.gate,
		MaxBodyBytes: cfg.MaxBodyBytes}
	methods, err := connectorMethods(cfg, set, emitting, svc, auth, recordAPI,
		&endpointmap.Connector{Mappings: mappingStore, Entities: ents, Records: recs, Writer: writer})
	if err != nil {
		return nil, err
	}
	// A document's host names the connector answering its operations, so
	// the dispatcher prepares them; it routes only the operations mgr
	// serves, and opens once mgr exists.
	// The bank's own consent profiles load before the stored documents,
	// which may be bound to them.
	profiles, err := consent.NewRegistry(ctx, store, svc.Audit)
	if err != nil {
		return nil, err
	}
	// Events made by the documents' operations are delivered by evs, and
	// their receivers checked by its URL checker.
	evs, err := eventService(ctx, cfg, store, svc, auth.oauth2, wake, traces.Tracer)
	if err != nil {
		return nil, err
	}
	consents.UseProfiles(profiles)
	binder := &consent.Binder{Profiles: profiles, Service: consents, Core: banking.ConsentCore{Methods: methods},
		Notifications: identity.NotificationHosts{Consumers: svc.Identity, URLs: evs}, Decisions: set.ConsentDecisions()}
	eventAPI := &eventapi.Binder{Events: evs, Consumers: svc.Identity}
	mgr := endpoints.New(store, endpoints.Options{
		Hosts:       methods,
		DefaultHost: mock.Host,
		Logger:      cfg.Logger,
		Reserved: []string{"/admin", "/my", "/entities", "/oauth2", "/.well-known", "/healthz", "/readyz",
			"/portal", "/banks/*/entities", "/banks/*/my", "/banks/*/accounts", "/banks/*/consents/*/challenge", "/consumer/consent-requests", "/metrics"},
		// Bounds on every document; four of the largest size load at once.
		MaxOperations:   cfg.MaxDocumentOperations,
		YAMLExpansion:   cfg.MaxYAMLExpansion,
		MaxLoadingBytes: 4 * int64(cmp.Or(cfg.MaxDocumentBytes, server.DefaultMaxDocumentBytes)),
		RoleExists:      func(name string) bool { _, ok := svc.Authz.Role(name); return ok },
		Builtin:         []*endpoints.Builtin{banking.Builtin(methods, auth.gate)},
		Consents:        binder,
		Events:          eventAPI,
		Metrics:         set,
	})
	if err := openConnectors(ctx, methods, mgr); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, methods.Close())
		}
	}()
	if err := mgr.Boot(ctx); err != nil {
		return nil, err
	}
	authorisations, err := consentauth.New(ctx, consentauth.Options{Store: emitting, Consents: consents, Profiles: profiles, Identity: svc.Identity,
		Methods: methods, Tokens: consentTokens{auth.oauth2}, Audit: svc.Audit, Issuer: cmp.Or(cfg.OAuth2.Issuer, "dynapi"),
		DevCodes: cfg.ScaDevCodes, AllowUnsignedRequestObjects: cfg.AllowUnsignedRequestObjects, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	obp, err := obpconsent.New(obpconsent.Options{Store: store, Consents: consents, Roles: svc.Authz, Consumers: svc.Identity,
		Methods: methods, Signer: auth.oauth2, Codes: authorisations, Issuer: cmp.Or(cfg.OAuth2.Issuer, "dynapi"),
		DevCodes: cfg.ScaDevCodes, MaxTTL: cfg.OBPConsentMaxTTL, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	binder.Berlin = authorisations
	// The call limits are the pipeline's first policy: a call over them
	// costs nothing further.
	limits, err := ratelimit.New(ctx, ratelimit.Options{Store: store, Audit: svc.Audit, Defaults: cfg.RateLimits, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	hooks := cfg.Hooks
	hooks.Policies = slices.Concat([]engine.Policy{limits}, cfg.Hooks.Policies)
	cases := &usecase.Cases{Store: store, Access: svc, Endpoints: mgr, Entities: ents, Methods: methods, Mappings: mappingStore}
	api := &admin.API{Access: svc, Gate: auth.gate, Endpoints: mgr, DirectLogin: auth.directLogin, OAuth2: auth.oauth2,
		MaxDocumentBytes: cfg.MaxDocumentBytes, Entities: ents, Mappings: mappingStore, Methods: methods,
		Cases: cases, Consents: consents, ConsentProfiles: profiles, Grants: authorisations, CallLimits: limits, Version: cmp.Or(cfg.Version, "devel")}
	if cfg.PreloadExample {
		if err := preloadExample(ctx, cases, boot.AdminUsername); err != nil {
			return nil, fmt.Errorf("preload example: %w", err)
		}
	}
	api.CallbackURLs, api.Events = evs, evs
	set.CollectEvents(evs.Stats)
	if cfg.Metrics.Addr == "" {
		api.Metrics = set
	}
	bg, stop := context.WithCancel(context.Background())
	chores, done := make(chan struct{}), make(chan struct{})
	worked := make(chan struct{})
	go func() { defer close(worked); evs.Run(bg) }()
	go func() { <-chores; <-worked; close(done) }()
	go housekeeping(bg, cfg.Logger, chores, []chore{
		{"signing key rotation", keyCheckInterval, func(ctx context.Context) error {
			rotated, err := auth.oauth2.Rotate(ctx)
			if rotated {
				cfg.Logger.Info("signing key rotated")
			}
			return err
		}},
		{"consent expiry", consentSweepInterval, func(ctx context.Context) error {
			n, err := consents.ExpireDue(ctx)
			if n > 0 {
				cfg.Logger.Info("consents expired", "count", n)
			}
			return err
		}},
		{"consent authorisation sweep", consentSweepInterval, func(ctx context.Context) error {
			_, err := authorisations.Sweep(ctx)
			return err
		}},
		{"OBP consent sweep", consentSweepInterval, func(ctx context.Context) error {
			_, err := obp.Sweep(ctx)
			return err
		}},
		{"call limit counter sweep", time.Minute, func(context.Context) error { limits.Sweep(); return nil }},
	})
	portalAPI := &portal.API{Identity: svc.Identity, Endpoints: mgr, SelfRegistration: cfg.SelfRegistration}
	srv := server.New(server.Config{MaxBodyBytes: cfg.MaxBodyBytes, MaxDocumentBytes: cfg.MaxDocumentBytes,
		Logger: cfg.Logger, Gate: auth.gate, Edge: cfg.Edge, PatternBudget: cfg.PatternBudget, Hooks: hooks,
		Readiness: server.NewReadiness(store, cfg.Now), Tracer: traces.Tracer,
		Metrics: set}, mgr,
		slices.Concat(admin.Routes(api), authorize.Routes(&authorize.API{Auth: authorisations, Identity: svc.Identity}),
			recordapi.Routes(recordAPI), obpconsenthttp.Routes(&obpconsenthttp.API{Consents: obp}), portal.Routes(portalAPI)))
	api.Served = srv.Routes
	portalAPI.Engine = srv.App().Handler()
	return &Instance{Store: store, Access: svc, Endpoints: mgr, Methods: methods, Server: srv, Consents: consents,
		OAuth2: auth.oauth2, Authorisations: authorisations, OBPConsents: obp, Events: evs, Metrics: set,
		metricsServer: metricsServer(cfg.Metrics, set), stop: stop, done: done, tracing: traces}, nil
}

// eventService makes the events service, whose deliveries reach only what
// cfg.Events.CallbackAllow allows besides public https receivers.
func eventService(ctx context.Context, cfg Config, store engine.Store, svc *access.Service, signer events.SETSigner,
	wake chan struct{}, tracer trace.Tracer) (*events.Service, error) {
	policy, err := egress.ParsePolicy(cfg.Events.CallbackAllow)
	if err != nil {
		return nil, fmt.Errorf("callback allow-list: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	keys, err := events.LoadWebhookKeys(ctx, store, now())
	if err != nil {
		return nil, err
	}
	client := egress.NewClient(policy, egress.Options{Timeout: cfg.Events.DeliveryTimeout, Now: now, MaxIdlePerHost: events.DefaultParallel,
		Tracer: tracer})
	return events.New(events.Options{Store: store, Audit: svc.Audit, URLs: policy, Poster: client, Signer: signer,
		Keys: keys, Now: now, PollInterval: cfg.Events.PollInterval, Logger: cfg.Logger, Wake: wake})
}

// keyCheckInterval is how often the signing key's age is checked; it
// rotates when older than OAuth2Config.RotateAfter.
const keyCheckInterval = time.Hour

// consentSweepInterval is how often consents past their expiry are stored
// as expired (reads see them expired at once anyway).
const consentSweepInterval = time.Minute

// chore is background work run every interval.
type chore struct {
	name     string
	interval time.Duration
	run      func(context.Context) error
}

// housekeeping runs each chore every interval until ctx ends, then closes
// done. A failing chore is logged and runs again at its next turn.
func housekeeping(ctx context.Context, log *slog.Logger, done chan<- struct{}, chores []chore) {
	defer close(done)
	var wg sync.WaitGroup
	for _, c := range chores {
		wg.Go(func() {
			tick := time.NewTicker(c.interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if err := c.run(ctx); err != nil && ctx.Err() == nil {
						log.Error(c.name+" failed", "error", err)
					}
				}
			}
		})
	}
	wg.Wait()
}

// authenticators are the ways a caller proves who it is, and the gate over
// them.
type authenticators struct {
	gate        *guard.Gate
	directLogin *directlogin.Plugin
	oauth2      *oauth2.Issuer
}

// authentication builds the authenticators and the gate.
func authentication(ctx context.Context, cfg Config, store engine.Store, svc *access.Service, consents *consent.Service) (*authenticators, error) {
	dl, err := directlogin.New(ctx, directlogin.Options{Store: store, Users: svc.Identity, Consumers: svc.Identity, TTL: cfg.DirectLoginTTL, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	issuer := cmp.Or(cfg.OAuth2.Issuer, "dynapi")
	oa, err := oauth2.New(ctx, oauth2.Options{Store: store, Consumers: svc.Identity, Users: svc.Identity, Issuer: issuer, Audience: issuer,
		TTL: cfg.OAuth2.TTL, Keys: oauth2.KeyConfig{RotateAfter: cfg.OAuth2.RotateAfter}, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	list := []identity.Authenticator{dl, oa}
	if cfg.ExternalJWT.Issuer != "" {
		ext := cfg.ExternalJWT
		ext.Users = svc.Identity
		if ext.Now == nil {
			ext.Now = cfg.Now
		}
		jwt, err := jwtbearer.New(ctx, ext)
		if err != nil {
			return nil, fmt.Errorf("external JWT issuer: %w", err)
		}
		list = append(list, jwt)
	}
	// Calls under an OBP consent come after DirectLogin (which they do not
	// carry) and before OAuth2, whose client-credentials token a
	// Consent-Id comes with.
	obp := &obpconsent.Authenticator{Consents: consents, Consumers: svc.Identity, Now: cfg.Now,
		Client: func(ctx context.Context, c identity.Credentials) (string, error) {
			p, err := oa.Authenticate(ctx, c)
			if err != nil || p.Method != oauth2.Method {
				return "", identity.ErrNoCredentials
			}
			return p.ConsumerID, nil
		}}
	list = slices.Insert(list, 1, identity.Authenticator(obp))
	return &authenticators{gate: guard.New(svc.Authz, svc.Banks, list...), directLogin: dl, oauth2: oa}, nil
}

func printBootstrap(out io.Writer, addr string, b *identity.BootstrapResult) {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	fmt.Fprintf(out, `
First start: created the super admin and the first consumer app.
Shown once; only hashes are stored.

    username:        %s
    password:        %s
    consumer_key:    %s
    consumer_secret: %s

Log in (DirectLogin), then call the example API and the demo bank with
Authorization: DirectLogin token="<the token>":

    curl -s -X POST http://%s/my/logins/direct \
      -H 'DirectLogin: username="%s", password="%s", consumer_key="%s"'
    curl -s http://%s/banks/%s/accounts -H 'Authorization: DirectLogin token="<the token>"'

`, b.AdminUsername, orConfigured(b.GeneratedPassword), b.ConsumerKey, orConfigured(b.GeneratedConsumerSecret),
		addr, b.AdminUsername, orConfigured(b.GeneratedPassword), b.ConsumerKey, addr, DemoBankID)
}

func orConfigured(generated string) string {
	if generated == "" {
		return "(as configured)"
	}
	return generated
}

// Close shuts down gracefully: /readyz turns 503, the server stops
// accepting connections and waits for requests in flight until ctx ends,
// then the background work (the event worker, key rotation, sweeps) stops
// and the connectors, the consents (storing their recent uses) and the
// store close, and the spans not yet sent are exported. A store closed
// already is no failure.
func (i *Instance) Close(ctx context.Context) error {
	err := i.Server.Shutdown(ctx)
	i.stop()
	<-i.done
	err = errors.Join(err, i.Methods.Close(), i.Consents.Close(context.WithoutCancel(ctx)))
	if storeErr := i.Store.Close(); !errors.Is(storeErr, engine.ErrStoreClosed) {
		err = errors.Join(err, storeErr)
	}
	return errors.Join(err, i.closeMetrics(ctx), i.tracing.Shutdown(ctx))
}
