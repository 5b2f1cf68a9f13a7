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
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"time"

	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/instance"
	"github.com/dynapi/dynapi/engine/jsonschemas"
	"github.com/dynapi/dynapi/engine/server"
	"github.com/dynapi/dynapi/engine/server/netguard"
	"github.com/dynapi/dynapi/entities/records"
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
	addr := fs.String("addr", env("DYNAPI_ADDR", "127.0.0.1:8080"), "listen address (env DYNAPI_ADDR)")
	dataDir := fs.String("data-dir", env("DYNAPI_DATA_DIR", "./data"), "directory of the embedded store (env DYNAPI_DATA_DIR)")
	maxBody := fs.Int("max-body-bytes", envInt("DYNAPI_MAX_BODY_BYTES", server.DefaultMaxBodyBytes), "largest request body to a dynamic operation (env DYNAPI_MAX_BODY_BYTES)")
	maxDoc := fs.Int("max-document-bytes", envInt("DYNAPI_MAX_DOCUMENT_BYTES", server.DefaultMaxDocumentBytes), "largest API document accepted (env DYNAPI_MAX_DOCUMENT_BYTES)")
	maxDocOps := fs.Int("max-document-operations", envInt("DYNAPI_MAX_DOCUMENT_OPERATIONS", specs.DefaultMaxOperations), "most operations accepted in one API document (env DYNAPI_MAX_DOCUMENT_OPERATIONS)")
	yamlExpansion := fs.Int("max-yaml-expansion", envInt("DYNAPI_MAX_YAML_EXPANSION", specs.DefaultYAMLExpansion), "how many times its own size a YAML document may grow to once its aliases are expanded (env DYNAPI_MAX_YAML_EXPANSION)")
	example := fs.Bool("example", env("DYNAPI_EXAMPLE", "true") == "true", "serve the example API at first start (env DYNAPI_EXAMPLE)")
	logFormat := fs.String("log-format", env("DYNAPI_LOG_FORMAT", "text"), "log format: text or json (env DYNAPI_LOG_FORMAT)")
	tokenTTL := fs.Duration("direct-login-ttl", envDuration("DYNAPI_DIRECT_LOGIN_TTL", 24*time.Hour), "lifetime of a DirectLogin token (env DYNAPI_DIRECT_LOGIN_TTL)")
	oauthTTL := fs.Duration("oauth2-token-ttl", envDuration("DYNAPI_OAUTH2_TOKEN_TTL", 5*time.Minute), "lifetime of an OAuth2 access token (env DYNAPI_OAUTH2_TOKEN_TTL)")
	rotate := fs.Duration("oauth2-key-rotate-after", envDuration("DYNAPI_OAUTH2_KEY_ROTATE_AFTER", 30*24*time.Hour), "age of the token signing key before a new one is made (env DYNAPI_OAUTH2_KEY_ROTATE_AFTER)")
	maxFailures := fs.Int("login-max-failures", envInt("DYNAPI_LOGIN_MAX_FAILURES", 5), "failed logins of a user from one address before it is locked out from that address (env DYNAPI_LOGIN_MAX_FAILURES)")
	lockout := fs.Duration("login-lockout", envDuration("DYNAPI_LOGIN_LOCKOUT", 15*time.Minute), "how long a user stays locked out from that address (env DYNAPI_LOGIN_LOCKOUT)")
	loginWindow := fs.Duration("login-window", envDuration("DYNAPI_LOGIN_WINDOW", 15*time.Minute), "how long a failed login counts (env DYNAPI_LOGIN_WINDOW)")
	slowAfter := fs.Int("login-slow-after", envInt("DYNAPI_LOGIN_SLOW_AFTER", 10), "failed logins from an address, or of a user from anywhere, before their logins are slowed (env DYNAPI_LOGIN_SLOW_AFTER)")
	loginDelay := fs.Duration("login-delay", envDuration("DYNAPI_LOGIN_DELAY", 250*time.Millisecond), "first delay of a slowed login, doubled with each further failure (env DYNAPI_LOGIN_DELAY)")
	loginMaxDelay := fs.Duration("login-max-delay", envDuration("DYNAPI_LOGIN_MAX_DELAY", 2*time.Second), "longest delay of a slowed login (env DYNAPI_LOGIN_MAX_DELAY)")
	loginEvents := fs.Int("login-events-per-minute", envInt("DYNAPI_LOGIN_EVENTS_PER_MINUTE", 120), "login events (failures, lockouts, tokens issued and revoked) written to the audit log per minute; more are counted (env DYNAPI_LOGIN_EVENTS_PER_MINUTE)")
	minPassword := fs.Int("password-min-length", envInt("DYNAPI_PASSWORD_MIN_LENGTH", 10), "shortest password accepted (env DYNAPI_PASSWORD_MIN_LENGTH)")
	jit := fs.Bool("just-in-time-entitlements", env("DYNAPI_JIT_ENTITLEMENTS", "false") == "true", "grant roles claimed by an identity token when first needed (env DYNAPI_JIT_ENTITLEMENTS)")
	jitRoles := fs.String("jit-roles", env("DYNAPI_JIT_ROLES", ""), "comma-separated roles (or prefixes ending in *) that may be granted just in time; none by default (env DYNAPI_JIT_ROLES)")
	jwtIssuer := fs.String("jwt-issuer", env("DYNAPI_JWT_ISSUER", ""), "accept bearer JWTs of this external issuer (env DYNAPI_JWT_ISSUER)")
	jwtAudience := fs.String("jwt-audience", env("DYNAPI_JWT_AUDIENCE", ""), "audience those JWTs must carry (env DYNAPI_JWT_AUDIENCE)")
	jwksFile := fs.String("jwt-jwks-file", env("DYNAPI_JWT_JWKS_FILE", ""), "JWK Set file of the external issuer (env DYNAPI_JWT_JWKS_FILE)")
	jwksURL := fs.String("jwt-jwks-url", env("DYNAPI_JWT_JWKS_URL", ""), "JWK Set URL of the external issuer (env DYNAPI_JWT_JWKS_URL)")
	scriptTimeout := fs.Duration("script-timeout", envDuration("DYNAPI_SCRIPT_TIMEOUT", 2*time.Second), "deadline of a JavaScript connector method call unless it sets its own (env DYNAPI_SCRIPT_TIMEOUT)")
	fetchAllow := fs.String("script-fetch-allow", env("DYNAPI_SCRIPT_FETCH_ALLOW", ""), "comma-separated hosts (host or host:port) scripts may reach with http.fetch (env DYNAPI_SCRIPT_FETCH_ALLOW)")
	scriptMaxAlloc := fs.Int("script-max-alloc-bytes", envInt("DYNAPI_SCRIPT_MAX_ALLOC_BYTES", jsvm.DefaultMaxAllocBytes), "what the builtins of one JavaScript connector method call may allocate (env DYNAPI_SCRIPT_MAX_ALLOC_BYTES)")
	scriptMemory := fs.Int("script-memory-limit", envInt("DYNAPI_SCRIPT_MEMORY_LIMIT", jsvm.DefaultMemoryLimit), "heap the running JavaScript connector methods may hold together before they are stopped (env DYNAPI_SCRIPT_MEMORY_LIMIT)")
	contextHeader := fs.String("context-header", env("DYNAPI_CONTEXT_HEADER", "Account-Request-Information"), "header carrying the signed call context to REST back ends (env DYNAPI_CONTEXT_HEADER)")
	maxConns := fs.Int("max-conns", envInt("DYNAPI_MAX_CONNS", netguard.DefaultMaxConns()), "open connections in total; more are closed at once (env DYNAPI_MAX_CONNS; default 3/4 of the descriptor limit, at most 10000)")
	maxConnsPerIP := fs.Int("max-conns-per-ip", envInt("DYNAPI_MAX_CONNS_PER_IP", netguard.DefaultMaxConnsPerIP), "open connections per client address, an IPv4 address or an IPv6 /64; trusted proxies are exempt (env DYNAPI_MAX_CONNS_PER_IP)")
	headerTimeout := fs.Duration("header-timeout", envDuration("DYNAPI_HEADER_TIMEOUT", server.DefaultHeaderTimeout), "time a request line and header may take to arrive (env DYNAPI_HEADER_TIMEOUT)")
	minBodyRate := fs.Int("min-body-rate", envInt("DYNAPI_MIN_BODY_RATE", server.DefaultMinBodyRate), "bytes per second a request body must average, after the header timeout (env DYNAPI_MIN_BODY_RATE)")
	idleTimeout := fs.Duration("idle-timeout", envDuration("DYNAPI_IDLE_TIMEOUT", server.DefaultIdleTimeout), "how long a keep-alive connection may wait for its next request (env DYNAPI_IDLE_TIMEOUT)")
	writeTimeout := fs.Duration("write-timeout", envDuration("DYNAPI_WRITE_TIMEOUT", server.DefaultWriteTimeout), "time to write one response to a client (env DYNAPI_WRITE_TIMEOUT)")
	maxHeader := fs.Int("max-header-bytes", envInt("DYNAPI_MAX_HEADER_BYTES", server.DefaultMaxHeaderBytes), "largest request header fields accepted; more is a 431 (env DYNAPI_MAX_HEADER_BYTES)")
	trustedProxies := fs.String("trusted-proxies", env("DYNAPI_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of proxies whose client IP header is believed (env DYNAPI_TRUSTED_PROXIES)")
	clientIPHeader := fs.String("client-ip-header", env("DYNAPI_CLIENT_IP_HEADER", netguard.DefaultClientIPHeader), "header in which trusted proxies name the client, X-Forwarded-For style (env DYNAPI_CLIENT_IP_HEADER)")
	recordPageBytes := fs.Int("record-page-bytes", envInt("DYNAPI_RECORD_PAGE_BYTES", records.DefaultPageBytes), "stored bytes of entity records one list page holds at most, beyond its first record (env DYNAPI_RECORD_PAGE_BYTES)")
	recordQuotaCount := fs.Int("record-quota-count", envInt("DYNAPI_RECORD_QUOTA_COUNT", records.DefaultQuotaRecords), "records of one entity one user may keep, shared and personal each; negative: no bound (env DYNAPI_RECORD_QUOTA_COUNT)")
	recordQuotaBytes := fs.Int("record-quota-bytes", envInt("DYNAPI_RECORD_QUOTA_BYTES", records.DefaultQuotaBytes), "stored bytes of the records of one entity one user may keep, shared and personal each; negative: no bound (env DYNAPI_RECORD_QUOTA_BYTES)")
	patternBudget := fs.Duration("pattern-budget", envDuration("DYNAPI_PATTERN_BUDGET", jsonschemas.DefaultPatternBudget), "time all backtracking pattern matches of one request's validation may take together (env DYNAPI_PATTERN_BUDGET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	proxies, err := netguard.ParsePrefixes(splitList(*trustedProxies))
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(handler)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	inst, err := instance.Open(ctx, instance.Config{
		DataDir: *dataDir,
		Admin: access.BootstrapOptions{AdminUsername: os.Getenv("DYNAPI_ADMIN_USERNAME"), AdminPassword: os.Getenv("DYNAPI_ADMIN_PASSWORD"),
			ConsumerKey: os.Getenv("DYNAPI_ADMIN_CONSUMER_KEY"), ConsumerSecret: os.Getenv("DYNAPI_ADMIN_CONSUMER_SECRET")},
		Passwords:              access.PasswordPolicy{MinLength: *minPassword},
		Throttle:               access.ThrottleOptions{MaxFailures: *maxFailures, Lockout: *lockout, Window: *loginWindow, SlowAfter: *slowAfter, Delay: *loginDelay, MaxDelay: *loginMaxDelay},
		JustInTimeEntitlements: *jit,
		JustInTimeRoles:        splitList(*jitRoles),
		LoginEventsPerMinute:   *loginEvents,
		DirectLoginTTL:         *tokenTTL,
		OAuth2:                 instance.OAuth2Config{TTL: *oauthTTL, RotateAfter: *rotate},
		ExternalJWT:            jwtbearer.Options{Issuer: *jwtIssuer, Audience: *jwtAudience, JWKSFile: *jwksFile, JWKSURL: *jwksURL},
		Connectors: instance.ConnectorConfig{ScriptTimeout: *scriptTimeout, FetchAllow: splitList(*fetchAllow),
			ContextHeader: *contextHeader, ScriptMaxAllocBytes: *scriptMaxAlloc, ScriptMemoryLimit: *scriptMemory},
		Records: records.Options{PageBytes: *recordPageBytes,
			Quota: records.Quota{Records: *recordQuotaCount, Bytes: int64(*recordQuotaBytes)}},
		MaxDocumentOperations: *maxDocOps, MaxYAMLExpansion: *yamlExpansion,
		MaxBodyBytes: *maxBody, MaxDocumentBytes: *maxDoc, PreloadExample: *example, Logger: log, Out: stdout, Addr: *addr, Version: version(),
		Edge: server.EdgeConfig{MaxConns: *maxConns, MaxConnsPerIP: *maxConnsPerIP, HeaderTimeout: *headerTimeout,
			MinBodyRate: *minBodyRate, IdleTimeout: *idleTimeout, WriteTimeout: *writeTimeout, MaxHeaderBytes: *maxHeader,
			TrustedProxies: proxies, ClientIPHeader: *clientIPHeader},
		PatternBudget: *patternBudget,
	})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- inst.Server.Listen(*addr) }()
	log.Info("dynapi listening", "addr", *addr, "data_dir", *dataDir, "version", version())
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(err, inst.Close(shutdownCtx))
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

func envDuration(name string, fallback time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return fallback
}

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return fallback
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
