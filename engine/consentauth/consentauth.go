package consentauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/identity"
)

// Buckets. Keys of secrets are their SHA-256 in hex.
const (
	bucketMeta     = "consentauth_meta"     // "secret" -> the HMAC key
	bucketPushed   = "consentauth_pushed"   // sha256(request_uri) -> pushed
	bucketSessions = "consentauth_sessions" // authorisation id -> session
	bucketCodes    = "consentauth_codes"    // sha256(code) -> issuedCode
	bucketGrants   = "consentauth_grants"   // sha256(refresh token) -> grant
)

// Lifetimes and bounds.
const (
	// PushedLifetime is how long a request_uri may be used (expires_in).
	PushedLifetime = 90 * time.Second
	// SessionLifetime is how long an authorisation may take.
	SessionLifetime = 10 * time.Minute
	// ChallengeLifetime is how long a one-time code may be answered.
	ChallengeLifetime = 5 * time.Minute
	// CodeLifetime is how long an authorization code may be exchanged.
	CodeLifetime = 60 * time.Second
	// MaxWrongAnswers wrong one-time codes fail the authorisation and
	// reject the consent.
	MaxWrongAnswers = 3
	// MaxChallenges bounds the one-time codes sent per authorisation.
	MaxChallenges = 5
	// MaxLoginFailures wrong passwords fail an authorisation.
	MaxLoginFailures = 5
	// maxSweep bounds the rows one Sweep removes per bucket.
	maxSweep = 10_000
)

// ACR is the authentication context class of every authorisation: strong
// customer authentication.
const ACR = "urn:openbanking:psd2:sca"

// OAuth2 error codes beside those of package oauth2 (RFC 6749, RFC 9126).
const (
	CodeInvalidGrant            = "invalid_grant"
	CodeInvalidRequestURI       = "invalid_request_uri"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeRequestNotSupported     = "request_not_supported"
	CodeAccessDenied            = "access_denied"
)

// OAuth2 error codes and the grant served elsewhere (RFC 6749).
const (
	codeInvalidRequest       = "invalid_request"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeInvalidScope         = "invalid_scope"
	codeInvalidClient        = "invalid_client"
	codeServerError          = "server_error"
	grantClientCredentials   = "client_credentials"
)

// Error codes of the authorisation steps (engine.Error.Code).
const (
	CodeAuthorisationState = "authorisation_state"
	CodeWrongCode          = "sca_code_wrong"
	CodeCodeExpired        = "sca_code_expired"
	CodeTooManyChallenges  = "sca_too_many_challenges"
)

// Tokens issues what a code's exchange grants, with the engine's keys.
type Tokens interface {
	// AccessToken issues the access token of a consent the customer
	// userID authorised for client, living at most ttl (the issuer's
	// lifetime when zero), and says how long it lives.
	AccessToken(client *identity.Consumer, userID, consentID, scope string, ttl time.Duration) (token string, expiresIn int64, err error)
	// SignContext signs claims as a JWT with iss, iat, exp and jti set.
	SignContext(claims map[string]any, ttl time.Duration) (string, error)
	// RevokeAccessToken revokes an access token the engine issued to the
	// client with key clientKey; false when token is none of those.
	RevokeAccessToken(ctx context.Context, token, clientKey string) (bool, error)
}

// Options configures New.
type Options struct {
	Store    engine.Store
	Consents *consent.Service
	// Profiles describe each consent's permissions to the customer.
	Profiles *consent.Registry
	// Identity checks passwords (with its login throttle) and finds
	// consumers.
	Identity *identity.Service
	// Methods routes getShareableAccounts and sendScaChallenge.
	Methods *connector.Dispatcher
	// Tokens issues the access tokens and signs the ID tokens: the
	// engine's OAuth2 issuer.
	Tokens Tokens
	Audit  *audit.Log
	// Issuer is the iss of ID tokens and authorization responses: the
	// issuer of Tokens.
	Issuer string
	// DevCodes returns one-time codes in the JSON API's answers, for
	// development; never set it in production.
	DevCodes bool
	// AllowUnsignedRequestObjects accepts request objects of alg "none"
	// from clients of the fapi1_request_object policy, for a sandbox;
	// never set it in production.
	AllowUnsignedRequestObjects bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service is the authorisation server. It is safe for concurrent use; all
// state is in the store.
type Service struct {
	o      Options
	secret []byte
}

// New returns the service, creating the server's HMAC secret in the store
// at first start.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Store == nil || o.Consents == nil || o.Profiles == nil || o.Identity == nil || o.Methods == nil || o.Tokens == nil || o.Issuer == "" {
		return nil, errors.New("consentauth: Store, Consents, Profiles, Identity, Methods, Tokens and Issuer are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{o: o}
	err := o.Store.Update(ctx, func(tx engine.Tx) error {
		v, err := tx.Get(bucketMeta, "secret")
		if err == nil && len(v) == 32 {
			s.secret = append([]byte(nil), v...)
			return nil
		}
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
		s.secret = make([]byte, 32)
		_, _ = rand.Read(s.secret)
		return tx.Put(bucketMeta, "secret", s.secret)
	})
	if err != nil {
		return nil, fmt.Errorf("consentauth: secret: %w", err)
	}
	return s, nil
}

// DevCodes tells whether one-time codes are shown in the JSON API.
func (s *Service) DevCodes() bool { return s.o.DevCodes }

// AllowsUnsignedRequestObjects tells whether unsigned request objects
// are accepted (a sandbox).
func (s *Service) AllowsUnsignedRequestObjects() bool { return s.o.AllowUnsignedRequestObjects }

// Issuer is the iss of ID tokens and authorization responses.
func (s *Service) Issuer() string { return s.o.Issuer }

// now is the service's clock in UTC.
func (s *Service) now() time.Time { return s.o.Now().UTC() }

// random is n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashHex is the SHA-256 of s in hex: how secrets are keyed.
func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// mac is HMAC-SHA256 under the server's secret of parts joined by NUL.
func (s *Service) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.secret)
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// oauthError is an error of RFC 6749's kinds.
func oauthError(status int, code, message string, faults ...engine.Violation) *engine.Error {
	return engine.NewError(status, code, message, faults...)
}

// invalidGrant is the one answer to every refused code or refresh token,
// so that it tells nothing about which check failed.
func invalidGrant(why string) *engine.Error {
	return oauthError(http.StatusBadRequest, CodeInvalidGrant, why)
}

// auditActor is the client acting for the customer userID.
func auditActor(client *identity.Consumer, userID string) audit.Actor {
	return audit.Actor{UserID: userID, ConsumerID: client.ID}
}

// hasScope tells whether the space-separated scope holds tok.
func hasScope(scope, tok string) bool { return slices.Contains(strings.Split(scope, " "), tok) }
