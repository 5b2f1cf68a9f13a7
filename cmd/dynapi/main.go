// Command dynapi runs the dynapi API engine.
//
//	dynapi serve [--addr 127.0.0.1:8080] [--data-dir ./data]
//	dynapi user create --username NAME [--email E] (password from DYNAPI_NEW_USER_PASSWORD or stdin)
//	dynapi user unlock --username NAME
//	dynapi user password --username NAME (password from DYNAPI_NEW_USER_PASSWORD or stdin)
//	dynapi version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/ratelimit"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/http/netguard"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/plugins/jsvm"
	"github.com/dynapi/dynapi/plugins/jwtbearer"
	"github.com/dynapi/dynapi/specs"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dynapi:", err)
		os.Exit(1)
	}
}

const usage = `dynapi: a declarative API engine for banks

Usage:
  dynapi serve [flags]         serve the management API and every dynamic endpoint
  dynapi user create [flags]   create a user in the store (the server must be stopped)
  dynapi user unlock [flags]   unlock a user (break-glass; the server must be stopped)
  dynapi user password [flags] set a user's password, ending its sessions (likewise)
  dynapi version               print the version

Run "dynapi serve -h" for the flags.
`

func run(args []string, stdout, stderr io.Writer) error {
	return runWithInput(args, os.Stdin, stdout, stderr)
}

// runWithInput runs a command reading what it asks for (a new user's
// password) from stdin.
func runWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "user":
		return user(args[1:], stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return "dynapi " + info.Main.Version
	}
	return "dynapi (devel)"
}

// serve parses flags (each with an environment default) and serves until
// SIGINT or SIGTERM, then drains requests in flight.
func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := newEnvFlags(fs)
	addr := ef.String("addr", "DYNAPI_ADDR", "127.0.0.1:8080", "listen address")
	dataDir := ef.String("data-dir", "DYNAPI_DATA_DIR", "./data", "directory of the embedded store")
	maxBody := ef.Int("max-body-bytes", "DYNAPI_MAX_BODY_BYTES", server.DefaultMaxBodyBytes, "largest request body to a dynamic operation")
	maxDoc := ef.Int("max-document-bytes", "DYNAPI_MAX_DOCUMENT_BYTES", server.DefaultMaxDocumentBytes, "largest API document accepted")
	maxDocOps := ef.Int("max-document-operations", "DYNAPI_MAX_DOCUMENT_OPERATIONS", specs.DefaultMaxOperations, "most operations accepted in one API document")
	yamlExpansion := ef.Int("max-yaml-expansion", "DYNAPI_MAX_YAML_EXPANSION", specs.DefaultYAMLExpansion, "how many times its own size a YAML document may grow to once its aliases are expanded")
	example := ef.Bool("example", "DYNAPI_EXAMPLE", true, "serve the example API at first start")
	logFormat := ef.String("log-format", "DYNAPI_LOG_FORMAT", "text", "log format: text or json")
	logLevel := ef.String("log-level", "DYNAPI_LOG_LEVEL", "info", "least severe log lines written: debug, info, warn or error")
	tracingOn := ef.Bool("tracing", "DYNAPI_TRACING", true, "trace requests with OpenTelemetry, exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; false: never")
	tokenTTL := ef.Duration("direct-login-ttl", "DYNAPI_DIRECT_LOGIN_TTL", 24*time.Hour, "lifetime of a DirectLogin token")
	oauthTTL := ef.Duration("oauth2-token-ttl", "DYNAPI_OAUTH2_TOKEN_TTL", 5*time.Minute, "lifetime of an OAuth2 access token")
	rotate := ef.Duration("oauth2-key-rotate-after", "DYNAPI_OAUTH2_KEY_ROTATE_AFTER", 30*24*time.Hour, "age of the token signing key before a new one is made")
	maxFailures := ef.Int("login-max-failures", "DYNAPI_LOGIN_MAX_FAILURES", 5, "failed logins of a user from one address before it is locked out from that address")
	lockout := ef.Duration("login-lockout", "DYNAPI_LOGIN_LOCKOUT", 15*time.Minute, "how long a user stays locked out from that address")
	loginWindow := ef.Duration("login-window", "DYNAPI_LOGIN_WINDOW", 15*time.Minute, "how long a failed login counts")
	slowAfter := ef.Int("login-slow-after", "DYNAPI_LOGIN_SLOW_AFTER", 10, "failed logins from an address, or of a user from anywhere, before their logins are slowed")
	loginDelay := ef.Duration("login-delay", "DYNAPI_LOGIN_DELAY", 250*time.Millisecond, "first delay of a slowed login, doubled with each further failure")
	loginMaxDelay := ef.Duration("login-max-delay", "DYNAPI_LOGIN_MAX_DELAY", 2*time.Second, "longest delay of a slowed login")
	loginEvents := ef.Int("login-events-per-minute", "DYNAPI_LOGIN_EVENTS_PER_MINUTE", 120, "login events (failures, lockouts, tokens issued and revoked) written to the audit log per minute; more are counted")
	minPassword := ef.Int("password-min-length", "DYNAPI_PASSWORD_MIN_LENGTH", 10, "shortest password accepted")
	jit := ef.Bool("just-in-time-entitlements", "DYNAPI_JIT_ENTITLEMENTS", false, "grant roles claimed by an identity token when first needed")
	scaDev := ef.Bool("sca-dev", "DYNAPI_SCA_DEV", false, "return consent authorisations' one-time codes in the JSON API (development only)")
	obpConsentMaxTTL := ef.Duration("obp-consent-max-ttl", "DYNAPI_OBP_CONSENT_MAX_TTL", 365*24*time.Hour, "longest time_to_live of an OBP consent")
	unsignedRequests := ef.Bool("allow-unsigned-request-objects", "DYNAPI_ALLOW_UNSIGNED_REQUEST_OBJECTS", false, "accept unsigned request objects of fapi1_request_object consumers (sandbox only)")
	jitRoles := ef.String("jit-roles", "DYNAPI_JIT_ROLES", "", "comma-separated roles (or prefixes ending in *) that may be granted just in time; none by default")
	jwtIssuer := ef.String("jwt-issuer", "DYNAPI_JWT_ISSUER", "", "accept bearer JWTs of this external issuer")
	jwtAudience := ef.String("jwt-audience", "DYNAPI_JWT_AUDIENCE", "", "audience those JWTs must carry")
	jwksFile := ef.String("jwt-jwks-file", "DYNAPI_JWT_JWKS_FILE", "", "JWK Set file of the external issuer")
	jwksURL := ef.String("jwt-jwks-url", "DYNAPI_JWT_JWKS_URL", "", "JWK Set URL of the external issuer")
	scriptTimeout := ef.Duration("script-timeout", "DYNAPI_SCRIPT_TIMEOUT", 2*time.Second, "deadline of a JavaScript connector method call unless it sets its own")
	fetchAllow := ef.String("script-fetch-allow", "DYNAPI_SCRIPT_FETCH_ALLOW", "", "comma-separated hosts (host or host:port) scripts may reach with http.fetch")
	scriptMaxAlloc := ef.Int("script-max-alloc-bytes", "DYNAPI_SCRIPT_MAX_ALLOC_BYTES", jsvm.DefaultMaxAllocBytes, "what the builtins of one JavaScript connector method call may allocate")
	scriptMemory := ef.Int("script-memory-limit", "DYNAPI_SCRIPT_MEMORY_LIMIT", jsvm.DefaultMemoryLimit, "heap the running JavaScript connector methods may hold together before they are stopped")
	contextHeader := ef.String("context-header", "DYNAPI_CONTEXT_HEADER", "Account-Request-Information", "header carrying the signed call context to REST back ends")
	maxConns := ef.Int("max-conns", "DYNAPI_MAX_CONNS", netguard.DefaultMaxConns(), "open connections in total; more are closed at once; default 3/4 of the descriptor limit, at most 10000")
	maxConnsPerIP := ef.Int("max-conns-per-ip", "DYNAPI_MAX_CONNS_PER_IP", netguard.DefaultMaxConnsPerIP, "open connections per client address, an IPv4 address or an IPv6 /64; trusted proxies are exempt")
	headerTimeout := ef.Duration("header-timeout", "DYNAPI_HEADER_TIMEOUT", server.DefaultHeaderTimeout, "time a request line and header may take to arrive")
	minBodyRate := ef.Int("min-body-rate", "DYNAPI_MIN_BODY_RATE", server.DefaultMinBodyRate, "bytes per second a request body must average, after the header timeout")
	idleTimeout := ef.Duration("idle-timeout", "DYNAPI_IDLE_TIMEOUT", server.DefaultIdleTimeout, "how long a keep-alive connection may wait for its next request")
	writeTimeout := ef.Duration("write-timeout", "DYNAPI_WRITE_TIMEOUT", server.DefaultWriteTimeout, "time to write one response to a client")
	maxHeader := ef.Int("max-header-bytes", "DYNAPI_MAX_HEADER_BYTES", server.DefaultMaxHeaderBytes, "largest request header fields accepted; more is a 431")
	trustedProxies := ef.String("trusted-proxies", "DYNAPI_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of proxies whose client IP header is believed")
	clientIPHeader := ef.String("client-ip-header", "DYNAPI_CLIENT_IP_HEADER", netguard.DefaultClientIPHeader, "header in which trusted proxies name the client, X-Forwarded-For style")
	recordPageBytes := ef.Int("record-page-bytes", "DYNAPI_RECORD_PAGE_BYTES", records.DefaultPageBytes, "stored bytes of entity records one list page holds at most, beyond its first record")
	recordQuotaCount := ef.Int("record-quota-count", "DYNAPI_RECORD_QUOTA_COUNT", records.DefaultQuotaRecords, "records of one entity one user may keep, shared and personal each; negative: no bound")
	recordQuotaBytes := ef.Int("record-quota-bytes", "DYNAPI_RECORD_QUOTA_BYTES", records.DefaultQuotaBytes, "stored bytes of the records of one entity one user may keep, shared and personal each; negative: no bound")
	callbackAllow := ef.String("callback-allow", "DYNAPI_CALLBACK_ALLOW", "", "comma-separated hosts (host, host:port, *.suffix), addresses and CIDRs that event receivers may be at over http or at private addresses")
	deliveryTimeout := ef.Duration("delivery-timeout", "DYNAPI_DELIVERY_TIMEOUT", 10*time.Second, "time one attempt to deliver an event may take")
	shutdownTimeout := ef.Duration("shutdown-timeout", "DYNAPI_SHUTDOWN_TIMEOUT", 30*time.Second, "on SIGTERM or SIGINT, how long requests in flight may take to finish before the server stops anyway")
	selfRegistration := ef.Bool("self-registration", "DYNAPI_SELF_REGISTRATION", false, "let developers create their own user (no roles) on the portal's sign-up page")
	metricsOn := ef.Bool("metrics", "DYNAPI_METRICS", true, "record Prometheus metrics and serve them at /metrics (to callers holding CanGetMetrics, or on --metrics-addr)")
	metricsAddr := ef.String("metrics-addr", "DYNAPI_METRICS_ADDR", "", "serve /metrics on this address of its own, unauthenticated (for a Prometheus inside the bank's network), and not on --addr")
	consumerLimits := ef.String("consumer-call-limits", "DYNAPI_CONSUMER_CALL_LIMITS", "", "default call limits of a consumer without its own, e.g. second=50,minute=2000,hour=-1 (periods second, minute, hour, day, week, month; -1 or left out: unlimited)")
	userLimits := ef.String("user-call-limits", "DYNAPI_USER_CALL_LIMITS", "", "default call limits of a user without their own, written as --consumer-call-limits")
	patternBudget := ef.Duration("pattern-budget", "DYNAPI_PATTERN_BUDGET", jsonschemas.DefaultPatternBudget, "time all backtracking pattern matches of one request's validation may take together")
	if err := ef.parse(args); err != nil {
		return err
	}
	if *logFormat != "text" && *logFormat != "json" {
		return fmt.Errorf("log format %q (-log-format, env DYNAPI_LOG_FORMAT): want text or json", *logFormat)
	}
	level, err := parseLogLevel(*logLevel)
	if err != nil {
		return err
	}
	rateLimits, err := callLimits(*consumerLimits, *userLimits)
	if err != nil {
		return err
	}
	proxies, err := netguard.ParsePrefixes(splitList(*trustedProxies))
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(handler)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	inst, err := dynapi.Open(ctx, dynapi.Config{
		DataDir: *dataDir,
		Admin: identity.BootstrapOptions{AdminUsername: os.Getenv("DYNAPI_ADMIN_USERNAME"), AdminPassword: os.Getenv("DYNAPI_ADMIN_PASSWORD"),
			ConsumerKey: os.Getenv("DYNAPI_ADMIN_CONSUMER_KEY"), ConsumerSecret: os.Getenv("DYNAPI_ADMIN_CONSUMER_SECRET")},
		Passwords:                   identity.PasswordPolicy{MinLength: *minPassword},
		Throttle:                    identity.ThrottleOptions{MaxFailures: *maxFailures, Lockout: *lockout, Window: *loginWindow, SlowAfter: *slowAfter, Delay: *loginDelay, MaxDelay: *loginMaxDelay},
		JustInTimeEntitlements:      *jit,
		JustInTimeRoles:             splitList(*jitRoles),
		ScaDevCodes:                 *scaDev,
		SelfRegistration:            *selfRegistration,
		OBPConsentMaxTTL:            *obpConsentMaxTTL,
		AllowUnsignedRequestObjects: *unsignedRequests,
		LoginEventsPerMinute:        *loginEvents,
		DirectLoginTTL:              *tokenTTL,
		OAuth2:                      dynapi.OAuth2Config{TTL: *oauthTTL, RotateAfter: *rotate},
		ExternalJWT:                 jwtbearer.Options{Issuer: *jwtIssuer, Audience: *jwtAudience, JWKSFile: *jwksFile, JWKSURL: *jwksURL},
		Connectors: dynapi.ConnectorConfig{ScriptTimeout: *scriptTimeout, FetchAllow: splitList(*fetchAllow),
			ContextHeader: *contextHeader, ScriptMaxAllocBytes: *scriptMaxAlloc, ScriptMemoryLimit: *scriptMemory},
		Records: records.Options{PageBytes: *recordPageBytes,
			Quota: records.Quota{Records: *recordQuotaCount, Bytes: int64(*recordQuotaBytes)}},
		MaxDocumentOperations: *maxDocOps, MaxYAMLExpansion: *yamlExpansion,
		MaxBodyBytes: *maxBody, MaxDocumentBytes: *maxDoc, PreloadExample: *example, Logger: log, Out: stdout, Addr: *addr, Version: version(),
		Edge: server.EdgeConfig{MaxConns: *maxConns, MaxConnsPerIP: *maxConnsPerIP, HeaderTimeout: *headerTimeout,
			MinBodyRate: *minBodyRate, IdleTimeout: *idleTimeout, WriteTimeout: *writeTimeout, MaxHeaderBytes: *maxHeader,
			TrustedProxies: proxies, ClientIPHeader: *clientIPHeader},
		PatternBudget: *patternBudget,
		RateLimits:    rateLimits,
		Events:        dynapi.EventsConfig{CallbackAllow: splitList(*callbackAllow), DeliveryTimeout: *deliveryTimeout},
		Tracing:       dynapi.TracingConfig{Off: !*tracingOn},
		Metrics:       dynapi.MetricsConfig{Disabled: !*metricsOn, Addr: *metricsAddr},
	})
	if err != nil {
		return nameBootstrapVariables(err)
	}
	errc := make(chan error, 2)
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return errors.Join(fmt.Errorf("metrics address (--metrics-addr): %w", err), inst.Close(context.Background()))
		}
		go func() { errc <- inst.ServeMetrics(ln) }()
		log.Info("dynapi metrics listening", "metrics_addr", *metricsAddr)
	}
	go func() { errc <- inst.Server.Listen(*addr) }()
	log.Info("dynapi listening", "addr", *addr, "data_dir", *dataDir, "version", version())
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	return errors.Join(err, inst.Close(shutdownCtx))
}

// bootstrapVariables names the environment variable of each bootstrap
// option, by the pointer identity.Bootstrap reports its violations at.
var bootstrapVariables = map[string]string{
	identity.BootstrapAdminUsername:  "DYNAPI_ADMIN_USERNAME",
	identity.BootstrapAdminPassword:  "DYNAPI_ADMIN_PASSWORD",
	identity.BootstrapConsumerKey:    "DYNAPI_ADMIN_CONSUMER_KEY",
	identity.BootstrapConsumerSecret: "DYNAPI_ADMIN_CONSUMER_SECRET",
}

// nameBootstrapVariables adds to a refused bootstrap one line per
// violation, naming the environment variable at fault and the rule it
// breaks; any other error is returned as it is.
func nameBootstrapVariables(err error) error {
	var e *engine.Error
	if !errors.As(err, &e) {
		return err
	}
	var lines []string
	for _, v := range e.Violations {
		if name, ok := bootstrapVariables[v.Pointer]; ok && v.Location == identity.BootstrapLocation {
			lines = append(lines, "\n  "+name+": "+v.Message)
		}
	}
	if lines == nil {
		return err
	}
	return fmt.Errorf("%w:%s", err, strings.Join(lines, ""))
}

// parseLogLevel reads --log-level: debug, info, warn or error.
func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q (-log-level, env DYNAPI_LOG_LEVEL): want debug, info, warn or error", s)
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// callLimits reads the default call limits of consumers and users, naming
// the flag and variable of a refused one.
func callLimits(consumer, user string) (dynapi.RateLimitConfig, error) {
	var cfg dynapi.RateLimitConfig
	var err error
	if cfg.Consumer, err = ratelimit.ParseLimits(consumer); err != nil {
		return cfg, fmt.Errorf("call limits (-consumer-call-limits, env DYNAPI_CONSUMER_CALL_LIMITS): %w", err)
	}
	if cfg.User, err = ratelimit.ParseLimits(user); err != nil {
		return cfg, fmt.Errorf("call limits (-user-call-limits, env DYNAPI_USER_CALL_LIMITS): %w", err)
	}
	return cfg, nil
}
