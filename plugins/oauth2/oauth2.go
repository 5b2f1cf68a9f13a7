package oauth2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
)

// Method is the authenticator name and Principal.Method of these tokens.
const Method = engine.MethodClientCredentials

// MethodConsent is the Principal.Method of tokens a customer granted a TPP
// under a consent (ConsentToken).
const MethodConsent = "oauth2_authorization_code"

// GrantType is the one grant the issuer serves (RFC 6749 section 4.4).
const GrantType = "client_credentials"

// Error codes of RFC 6749 section 5.2, carried in engine.Error.Code.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
)

// DefaultTTL is the token lifetime when Options.TTL is zero.
const DefaultTTL = 5 * time.Minute

// leeway absorbs clock skew between instances when checking exp and iat.
const leeway = 5 * time.Second

// maxScope bounds the scope string copied into a token.
const maxScope = 1024

// Consumers is what the issuer asks of the consumer registry.
type Consumers interface {
	// CheckConsumerSecret returns the enabled consumer with this key and
	// secret, else a 401.
	CheckConsumerSecret(key, secret string) (*identity.Consumer, error)
	// ConsumerByKey looks a consumer up in memory; it runs on every
	// authenticated request.
	ConsumerByKey(key string) (*identity.Consumer, bool)
}

// Users is optional: when set, a consumer whose owning user is locked or
// gone gets no token, and tokens issued before the owner was locked,
// deleted or had its sessions revoked stop working.
type Users interface {
	// User returns a user by id; asked when a token is requested.
	User(ctx context.Context, id string) (*identity.User, error)
	// SessionValid reports, from memory, whether a token issued to the
	// user at issuedAt may still be used; asked on every request.
	SessionValid(userID string, issuedAt time.Time) bool
}

// Options configures New.
type Options struct {
	Store     engine.Store
	Consumers Consumers
	// Users, if set, is asked whether a consumer's owning user may still
	// act, when a token is requested and on every request bearing one.
	Users Users
	// Issuer is the iss of every token, e.g. "dynapi". Required.
	Issuer string
	// Audience is the aud of every token; empty means Issuer.
	Audience string
	// TTL is the token lifetime; zero means DefaultTTL.
	TTL  time.Duration
	Keys KeyConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// TokenResponse is the successful token response of RFC 6749 section 5.1.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	// ClientID is the consumer key.
	ClientID string `json:"client_id"`
	// UID is the consumer's owning user, on whose behalf the token acts.
	UID   string `json:"uid,omitempty"`
	Scope string `json:"scope,omitempty"`
	// ConsentID is the consent a customer granted the consumer this token
	// under; absent from client-credentials tokens.
	ConsentID string `json:"consent_id,omitempty"`
}

// Issuer grants client-credentials tokens signed with its own keys and
// authenticates requests bearing them. It is safe for concurrent use;
// Authenticate reads only memory.
type Issuer struct {
	store       engine.Store
	consumers   Consumers
	users       Users
	issuer      string
	audience    string
	ttl         time.Duration
	rotateAfter time.Duration
	keep        int
	now         func() time.Time

	parser  *jwt.Parser
	keyfunc jwt.Keyfunc

	ring     atomic.Pointer[keyring]
	rotateMu sync.Mutex

	// verified remembers tokens whose signature and claims were checked, by
	// SHA-256, so that a token used again costs a hash rather than an ECDSA
	// verification. Only tokens this issuer signed get in, so its size is
	// bounded by the tokens issued within a lifetime; sweeps drop the rest.
	verified  sync.Map // [32]byte -> *verifiedToken
	lastSweep atomic.Int64

	// revoked are the access tokens revoked before they expired
	// (RevokeAccessToken), by jti.
	revoked revokedSet
}

// verifiedToken is what Authenticate needs of a token it has checked.
type verifiedToken struct {
	kid      string
	expires  time.Time // exp plus leeway
	issued   time.Time // exact for tokens issued by this process, else iat
	subject  string
	clientID string
	uid      string
	// consentID is the consent a customer's token was issued under.
	consentID string
	// jti is the token's id, which a revocation names.
	jti string
}

var _ identity.Authenticator = (*Issuer)(nil)

var errUnknownKID = errors.New("oauth2: unknown key id")

// New returns an issuer with the signing keys of the store, creating the
// first one, or a new current one if the current one is due for rotation.
func New(ctx context.Context, o Options) (*Issuer, error) {
	if o.Store == nil || o.Consumers == nil {
		return nil, errors.New("oauth2: Store and Consumers are required")
	}
	if o.Issuer == "" {
		return nil, errors.New("oauth2: Issuer is required")
	}
	i := &Issuer{store: o.Store, consumers: o.Consumers, users: o.Users,
		issuer: o.Issuer, audience: o.Audience, ttl: o.TTL,
		rotateAfter: o.Keys.RotateAfter, keep: o.Keys.Keep, now: o.Now}
	if i.audience == "" {
		i.audience = i.issuer
	}
	if i.ttl <= 0 {
		i.ttl = DefaultTTL
	}
	if i.rotateAfter <= 0 {
		i.rotateAfter = DefaultRotateAfter
	}
	switch {
	case i.keep == 0:
		i.keep = DefaultKeep
	case i.keep < 0:
		i.keep = 0
	}
	if i.now == nil {
		i.now = time.Now
	}
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{alg}),
		jwt.WithIssuer(i.issuer),
		jwt.WithAudience(i.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(i.now),
	)
	i.keyfunc = i.key
	if _, err := i.rotate(ctx, false); err != nil {
		return nil, err
	}
	if err := i.loadRevoked(ctx); err != nil {
		return nil, err
	}
	return i, nil
}

// Name implements identity.Authenticator.
func (i *Issuer) Name() string { return Method }

// ClientCredentials serves the client credentials grant: clientID is the
// consumer key. Errors carry RFC 6749 codes: a 400 invalid_request,
// unsupported_grant_type or invalid_scope, or a 401 invalid_client for a
// wrong secret, a disabled consumer or a barred owning user alike.
func (i *Issuer) ClientCredentials(ctx context.Context, clientID, clientSecret, grantType, scope string) (*TokenResponse, error) {
	switch grantType {
	case GrantType:
	case "":
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidRequest, "grant_type is required")
	default:
		return nil, engine.NewError(http.StatusBadRequest, CodeUnsupportedGrantType,
			"only the client_credentials grant is supported")
	}
	if !validScope(scope) {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidScope, "scope is malformed")
	}
	if clientID == "" || clientSecret == "" {
		return nil, invalidClient()
	}
	c, err := i.consumers.CheckConsumerSecret(clientID, clientSecret)
	if err != nil {
		if e := engine.AsError(err); passThrough(e) {
			return nil, e
		}
		return nil, invalidClient().WithCause(err)
	}
	if c == nil || !c.Enabled {
		return nil, invalidClient()
	}
	now := i.now()
	if i.users != nil && c.CreatedBy != "" {
		if !i.users.SessionValid(c.CreatedBy, now) {
			return nil, invalidClient()
		}
		u, err := i.users.User(ctx, c.CreatedBy)
		if err != nil {
			if e := engine.AsError(err); passThrough(e) {
				return nil, e
			}
			return nil, invalidClient().WithCause(err)
		}
		if u == nil || u.Locked {
			return nil, invalidClient()
		}
	}

	return i.mint(c, c.CreatedBy, "", scope, now, i.ttl)
}

// ConsentToken issues the access token of a consent the customer userID
// authorised for the consumer c (the TPP), living ttl (the issuer's TTL
// when zero or longer). Requests bearing it act for the customer through
// c, under the consent: Principal.ConsentID names it and Principal.Method
// is MethodConsent. The caller checks that the consent is authorised for
// c and userID; every call under it checks the consent again.
func (i *Issuer) ConsentToken(c *identity.Consumer, userID, consentID, scope string, ttl time.Duration) (*TokenResponse, error) {
	if c == nil || userID == "" || consentID == "" {
		return nil, engine.Internal(errors.New("oauth2: a consent token needs a consumer, a customer and a consent"))
	}
	if ttl <= 0 || ttl > i.ttl {
		ttl = i.ttl
	}
	return i.mint(c, userID, consentID, scope, i.now(), ttl)
}

// mint signs an access token for consumer c acting for user uid, under
// consentID when not "", and remembers it as verified.
func (i *Issuer) mint(c *identity.Consumer, uid, consentID, scope string, now time.Time, ttl time.Duration) (*TokenResponse, error) {
	ring := i.ring.Load()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   c.ID,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        uuid.NewString(),
		},
		ClientID:  c.Key,
		UID:       uid,
		Scope:     scope,
		ConsentID: consentID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = ring.current.kid
	tok.Header["typ"] = "at+jwt" // RFC 9068
	signed, err := tok.SignedString(ring.current.priv)
	if err != nil {
		return nil, engine.Internal(fmt.Errorf("oauth2: sign: %w", err))
	}
	// Known at once, with its exact issue time: iat has whole seconds, and
	// a token issued just after its owner's lock ended must not be taken
	// for one issued before.
	i.remember(digest(signed), &verifiedToken{kid: ring.current.kid, expires: claims.ExpiresAt.Add(leeway),
		issued: now, subject: c.ID, clientID: c.Key, uid: uid, consentID: consentID, jti: claims.ID}, now, ring)
	return &TokenResponse{AccessToken: signed, TokenType: "Bearer",
		ExpiresIn: int64(ttl / time.Second), Scope: scope}, nil
}

// Authenticate implements identity.Authenticator for "Authorization: Bearer
// <jwt>". A bearer token that is not a JWT, or whose iss is not this
// issuer, is ErrNoCredentials so that another authenticator may take it.
func (i *Issuer) Authenticate(_ context.Context, c identity.Credentials) (*identity.Principal, error) {
	raw, ok := bearer(c.Header("Authorization"))
	if !ok {
		return nil, identity.ErrNoCredentials
	}
	h := digest(raw)
	now := i.now()
	ring := i.ring.Load()
	if v, ok := i.verified.Load(h); ok {
		t := v.(*verifiedToken)
		if now.Before(t.expires) && !now.Before(t.issued.Add(-leeway)) && ring.public[t.kid] != nil {
			return i.principal(t)
		}
		i.verified.CompareAndDelete(h, v)
	}
	var claims Claims
	tok, err := i.parser.ParseWithClaims(raw, &claims, i.keyfunc)
	if err != nil {
		// The claims are decoded before anything is verified, so a failure
		// after that still tells whose token it is.
		if claims.Issuer != i.issuer {
			return nil, identity.ErrNoCredentials
		}
		return nil, invalidToken().WithCause(err)
	}
	if claims.Subject == "" || claims.ClientID == "" {
		return nil, invalidToken()
	}
	kid, _ := tok.Header["kid"].(string)
	t := &verifiedToken{kid: kid, expires: claims.ExpiresAt.Add(leeway),
		subject: claims.Subject, clientID: claims.ClientID, uid: claims.UID, consentID: claims.ConsentID, jti: claims.ID}
	if claims.IssuedAt != nil {
		t.issued = claims.IssuedAt.Time
	}
	i.remember(h, t, now, ring)
	return i.principal(t)
}

// principal checks that the token was not revoked, that its consumer is
// still enabled and still the one the token was issued to, and that its
// user's sessions were not revoked since.
func (i *Issuer) principal(t *verifiedToken) (*identity.Principal, error) {
	if i.revoked.has(t.jti) {
		return nil, invalidToken()
	}
	con, ok := i.consumers.ConsumerByKey(t.clientID)
	if !ok || con == nil || !con.Enabled || con.ID != t.subject {
		return nil, invalidToken()
	}
	if i.users != nil && t.uid != "" && !i.users.SessionValid(t.uid, t.issued) {
		return nil, invalidToken()
	}
	if t.consentID != "" {
		return &identity.Principal{UserID: t.uid, ConsumerID: t.subject, Method: MethodConsent, ConsentID: t.consentID}, nil
	}
	return &identity.Principal{UserID: t.uid, ConsumerID: t.subject, Method: Method}, nil
}

// remember keeps a verified token and, once per token lifetime, forgets
// those that expired, so the map holds at most the tokens of about two
// lifetimes.
func (i *Issuer) remember(h [sha256.Size]byte, t *verifiedToken, now time.Time, ring *keyring) {
	i.verified.Store(h, t)
	if last := i.lastSweep.Load(); now.UnixNano()-last > int64(i.ttl) && i.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		i.sweep(now, ring)
	}
}

// sweep forgets verified tokens that expired or whose key was dropped,
// and revocations of tokens that expired.
func (i *Issuer) sweep(now time.Time, ring *keyring) {
	i.revoked.forgetExpired(now)
	i.verified.Range(func(k, v any) bool {
		if t := v.(*verifiedToken); !now.Before(t.expires) || ring.public[t.kid] == nil {
			i.verified.CompareAndDelete(k, v)
		}
		return true
	})
}

// digest is the SHA-256 of a token, hashed from a stack copy when it fits
// to spare the allocation of a conversion.
func digest(s string) [sha256.Size]byte {
	var buf [2048]byte
	if len(s) <= len(buf) {
		n := copy(buf[:], s)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(s))
}

// key is the jwt.Keyfunc: the public key of the token's kid among the
// current and kept keys.
func (i *Issuer) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	pub, ok := i.ring.Load().public[kid]
	if !ok {
		return nil, errUnknownKID
	}
	return pub, nil
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

// ParseBasicAuth reads client credentials from an Authorization header of
// the Basic scheme. As RFC 6749 section 2.3.1 asks, the id and secret are
// form-urlencoded before being joined, so they are decoded here.
func ParseBasicAuth(header string) (id, secret string, ok bool) {
	const scheme = "Basic "
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header[len(scheme):]))
	if err != nil {
		return "", "", false
	}
	rawID, rawSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false
	}
	return id, secret, true
}

// ClientOf reads a client's credentials the two ways RFC 6749 section
// 2.3.1 allows: the Basic scheme of header (client_secret_basic), else the
// client_id and client_secret parameters form reads (client_secret_post).
// The strings returned are copies, safe to keep.
func ClientOf(header string, form func(string) string) (id, secret string) {
	if id, secret, ok := ParseBasicAuth(header); ok {
		return id, secret
	}
	return strings.Clone(form("client_id")), strings.Clone(form("client_secret"))
}

// validScope checks the syntax of RFC 6749 section 3.3: tokens of visible
// characters other than '"' and '\', separated by single spaces.
func validScope(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > maxScope {
		return false
	}
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			return false
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}

// passThrough tells the failures of a dependency to hand on as they are:
// the store failing, or throttling. Any other refusal becomes this
// package's own error.
func passThrough(e *engine.Error) bool {
	return e.Status >= http.StatusInternalServerError || e.Status == http.StatusTooManyRequests
}

func invalidClient() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, CodeInvalidClient, "client authentication failed")
}

func invalidToken() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid or expired access token")
}
