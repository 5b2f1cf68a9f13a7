package jwtbearer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
)

// Method is the authenticator name and Principal.Method of these tokens.
const Method = "jwt_bearer"

// Defaults for zero Options fields.
const (
	DefaultRefreshInterval = 10 * time.Minute
	DefaultUsernameClaim   = "preferred_username"
	DefaultEmailClaim      = "email"
	DefaultRolesClaim      = "roles"
	DefaultLeeway          = 30 * time.Second
	DefaultHTTPTimeout     = 10 * time.Second
)

// Algorithms are the signature algorithms accepted: asymmetric only, so
// never "none" nor an HMAC keyed with a public key.
var Algorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}

// unknownKIDRefresh bounds how often a token with a kid not in the key set
// triggers a fetch of the JWK Set, and unknownKIDWait how long such a token
// waits for that fetch; beyond that it is refused at once.
const (
	unknownKIDRefresh = time.Minute
	unknownKIDWait    = 5 * time.Second
)

// Users is what the authenticator asks of the user directory.
type Users interface {
	// ExternalUser returns the user of an external identity, creating it on
	// first sight.
	ExternalUser(ctx context.Context, provider, subject, username, email string) (*identity.User, error)
	// SessionValid reports, from memory, whether a token issued to the
	// user at issuedAt may still be used: the user is not locked or
	// deleted and nothing revoked its sessions since.
	SessionValid(userID string, issuedAt time.Time) bool
}

// Consumers, when given, maps the token's client ("azp", else "client_id")
// to a consumer, looked up in memory.
type Consumers interface {
	ConsumerByKey(key string) (*identity.Consumer, bool)
}

// Options configures New.
type Options struct {
	// Issuer is the identity provider's iss. Required.
	Issuer string
	// Audience must be among the token's aud. Required.
	Audience string
	// JWKSFile is a JWK Set file; JWKSURL the provider's JWK Set endpoint,
	// https unless on a loopback address. At least one is required; with
	// both, the file's keys are tried first.
	JWKSFile string
	JWKSURL  string
	// RefreshInterval is how often the JWKSURL is fetched again; zero means
	// DefaultRefreshInterval. A token with an unknown kid also triggers a
	// fetch, at most once a minute.
	RefreshInterval time.Duration
	// UsernameClaim names the claim holding the username, "sub" when the
	// token lacks it; empty means DefaultUsernameClaim.
	UsernameClaim string
	// EmailClaim names the claim holding the email; empty means
	// DefaultEmailClaim.
	EmailClaim string
	// RolesClaim names the claim listing the roles the identity provider
	// vouches for (a list of names or one space-separated string); empty
	// means DefaultRolesClaim. With just-in-time entitlements on, the guard
	// grants such a role the first time a route needs it.
	RolesClaim string
	// Leeway is the clock skew allowed on exp, nbf and iat; zero means
	// DefaultLeeway.
	Leeway time.Duration
	Users  Users
	// Consumers is optional. When set, a token naming a client in "azp" or
	// "client_id" is accepted only if that is the key of an enabled
	// consumer, which becomes Principal.ConsumerID.
	Consumers Consumers
	// HTTPClient fetches JWKSURL; nil means a client with a
	// DefaultHTTPTimeout timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshTicks, when set, paces the background refresh in place of a
	// RefreshInterval ticker: JWKSURL is fetched again each time it
	// delivers. Tests tick it by hand.
	RefreshTicks <-chan time.Time
}

// Authenticator accepts JWTs of one external identity provider. It is
// safe for concurrent use.
type Authenticator struct {
	issuer        string
	usernameClaim string
	emailClaim    string
	rolesClaim    string
	users         Users
	consumers     Consumers
	keys          keyfunc.Keyfunc
	parser        *jwt.Parser
	cancel        context.CancelFunc
	// refreshed is closed once the background refresh of JWKSURL's set
	// has returned; nil without a JWKSURL.
	refreshed chan struct{}
}

var _ identity.Authenticator = (*Authenticator)(nil)

var errNotMine = errors.New("jwtbearer: token of another issuer")

// New loads the provider's keys: from JWKSFile, and from JWKSURL, which must
// answer now and is then fetched again in the background every
// RefreshInterval until ctx ends or Close is called.
func New(ctx context.Context, o Options) (*Authenticator, error) {
	switch {
	case o.Issuer == "":
		return nil, errors.New("jwtbearer: Issuer is required")
	case o.Audience == "":
		return nil, errors.New("jwtbearer: Audience is required")
	case o.Users == nil:
		return nil, errors.New("jwtbearer: Users is required")
	case o.JWKSFile == "" && o.JWKSURL == "":
		return nil, errors.New("jwtbearer: JWKSFile or JWKSURL is required")
	}
	a := &Authenticator{issuer: o.Issuer, usernameClaim: o.UsernameClaim, emailClaim: o.EmailClaim,
		rolesClaim: o.RolesClaim, users: o.Users, consumers: o.Consumers}
	if a.rolesClaim == "" {
		a.rolesClaim = DefaultRolesClaim
	}
	if a.usernameClaim == "" {
		a.usernameClaim = DefaultUsernameClaim
	}
	if a.emailClaim == "" {
		a.emailClaim = DefaultEmailClaim
	}
	leeway := o.Leeway
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)

	var given jwkset.Storage
	if o.JWKSFile != "" {
		raw, err := os.ReadFile(o.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("jwtbearer: %w", err)
		}
		var set jwkset.JWKSMarshal
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, fmt.Errorf("jwtbearer: %s: %w", o.JWKSFile, err)
		}
		if given, err = set.ToStorage(); err != nil {
			return nil, fmt.Errorf("jwtbearer: %s: %w", o.JWKSFile, err)
		}
	}
	storage := given
	ctx, a.cancel = context.WithCancel(ctx)
	if o.JWKSURL != "" {
		if err := checkURL(o.JWKSURL); err != nil {
			a.cancel()
			return nil, err
		}
		client := o.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: DefaultHTTPTimeout}
		}
		u := o.JWKSURL
		// The set is fetched now into fetched, then again into it at each
		// tick by refresh: this package's goroutine, not jwkset's, so that
		// Close can wait for it.
		fetched := jwkset.NewMemoryStorage()
		remoteOptions := jwkset.HTTPClientStorageOptions{
			Client:      client,
			Ctx:         ctx,
			HTTPTimeout: DefaultHTTPTimeout,
			RefreshErrorHandler: func(ctx context.Context, err error) {
				slog.Default().WarnContext(ctx, "jwtbearer: JWK Set refresh failed", "url", u, "error", err)
			},
			Storage: fetched,
		}
		remote, err := jwkset.NewStorageFromHTTP(u, remoteOptions)
		if err != nil {
			a.cancel()
			return nil, fmt.Errorf("jwtbearer: JWK Set %s: %w", u, err)
		}
		ticks, stop := refreshTicks(o)
		a.refreshed = make(chan struct{})
		go func() {
			defer close(a.refreshed)
			defer stop()
			refresh(ctx, u, ticks, remoteOptions)
		}()
		storage, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			Given:             given,
			HTTPURLs:          map[string]jwkset.Storage{u: remote},
			RateLimitWaitMax:  unknownKIDWait,
			RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDRefresh), 1),
		})
		if err != nil {
			a.cancel()
			return nil, fmt.Errorf("jwtbearer: %w", err)
		}
	}
	var err error
	a.keys, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: storage,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		a.cancel()
		return nil, fmt.Errorf("jwtbearer: %w", err)
	}
	return a, nil
}

// refreshTicks is what paces the background refresh, and the function
// that stops it.
func refreshTicks(o Options) (<-chan time.Time, func()) {
	if o.RefreshTicks != nil {
		return o.RefreshTicks, func() {}
	}
	interval := o.RefreshInterval
	if interval <= 0 {
		interval = DefaultRefreshInterval
	}
	t := time.NewTicker(interval)
	return t.C, t.Stop
}

// refresh fetches the JWK Set at u again at each tick until ctx ends.
// Each fetch is jwkset's own, by a throwaway HTTP storage over
// remote.Storage, so the set is parsed as at the first fetch and replaces
// the keys only when it was read whole.
func refresh(ctx context.Context, u string, ticks <-chan time.Time, remote jwkset.HTTPClientStorageOptions) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		if _, err := jwkset.NewStorageFromHTTP(u, remote); err != nil {
			// Unwrapped, it is the error jwkset reports of its refreshes
			// rather than of a first request.
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			remote.RefreshErrorHandler(ctx, err)
		}
	}
}

// checkURL refuses a JWK Set URL that an attacker on the path could answer:
// anything but https, except plain http to a loopback address.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("jwtbearer: JWKSURL: %w", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("jwtbearer: JWKSURL %q must be https (or http to a loopback address)", raw)
}

// Close stops the background refresh of the JWK Set and waits until it has
// returned: no fetch starts after Close.
func (a *Authenticator) Close() {
	a.cancel()
	if a.refreshed != nil {
		<-a.refreshed
	}
}

// Name implements identity.Authenticator.
func (a *Authenticator) Name() string { return Method }

// Authenticate implements identity.Authenticator for "Authorization: Bearer
// <jwt>". A bearer token that is not a JWT, or whose iss is not the
// provider, is ErrNoCredentials; one of the provider's that does not verify
// is a 401. The user is found, or created on first sight, by
// Users.ExternalUser with the provider and the token's sub; a token issued
// before the user was locked, deleted or had its sessions revoked is a
// 401.
func (a *Authenticator) Authenticate(ctx context.Context, c identity.Credentials) (*identity.Principal, error) {
	raw, ok := bearer(c.Header("Authorization"))
	if !ok {
		return nil, identity.ErrNoCredentials
	}
	claims := jwt.MapClaims{}
	keys := a.keys.KeyfuncCtx(ctx)
	_, err := a.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		// Only the provider's tokens may make the key set refresh.
		if iss, _ := claims["iss"].(string); iss != a.issuer {
			return nil, errNotMine
		}
		return keys(t)
	})
	if err != nil {
		// The claims are decoded before anything is verified, so a failure
		// after that still tells whose token it is.
		if iss, _ := claims["iss"].(string); iss != a.issuer {
			return nil, identity.ErrNoCredentials
		}
		return nil, invalidToken().WithCause(err)
	}
	sub := str(claims, "sub")
	if sub == "" {
		return nil, invalidToken()
	}
	username := str(claims, a.usernameClaim)
	if username == "" {
		username = sub
	}

	var consumerID string
	if a.consumers != nil {
		client := str(claims, "azp")
		if client == "" {
			client = str(claims, "client_id")
		}
		if client != "" {
			con, ok := a.consumers.ConsumerByKey(client)
			if !ok || con == nil || !con.Enabled {
				return nil, invalidToken()
			}
			consumerID = con.ID
		}
	}

	user, err := a.users.ExternalUser(ctx, a.issuer, sub, username, str(claims, a.emailClaim))
	if err != nil {
		// The store failing is a 500; any refusal (a locked user, an
		// identity the directory will not take) is this package's 401.
		if e := engine.AsError(err); e.Status >= http.StatusInternalServerError ||
			e.Status == http.StatusTooManyRequests {
			return nil, e
		}
		return nil, invalidToken().WithCause(err)
	}
	if user == nil || user.Locked {
		return nil, invalidToken()
	}
	var issued time.Time // without iat, as old as can be
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		issued = iat.Time
	}
	if !a.users.SessionValid(user.ID, issued) {
		return nil, invalidToken()
	}
	return &identity.Principal{UserID: user.ID, Username: user.Username, ConsumerID: consumerID,
		Method: Method, ClaimedRoles: roleList(claims[a.rolesClaim])}, nil
}

// roleList reads a roles claim: a JSON list of names or one
// space-separated string (as OAuth2 scopes are written).
func roleList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// str returns a string claim, "" when absent or not a string.
func str(claims jwt.MapClaims, name string) string {
	s, _ := claims[name].(string)
	return s
}

// bearer returns the token of an Authorization header of the Bearer scheme.
func bearer(h string) (string, bool) {
	const scheme = "Bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	t := strings.TrimSpace(h[len(scheme):])
	return t, t != ""
}

func invalidToken() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid or expired bearer token")
}
