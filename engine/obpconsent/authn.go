package obpconsent

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/identity"
)

// Method is the Principal.Method of calls under an OBP consent.
const Method = "obp_consent"

// The request headers of a call under an OBP consent: Consent-JWT, or
// Consent-Id, each with Consumer-Key. A consent id is no secret (it is
// logged with the code and shown to staff), nor is a consumer key, so
// Consent-Id is accepted only with the consumer's own client-credentials
// token (Authorization: Bearer) as well.
const (
	HeaderConsentJWT  = "Consent-JWT"
	HeaderConsentID   = "Consent-Id"
	HeaderConsumerKey = "Consumer-Key"
)

// maxJWT bounds a Consent-JWT.
const maxJWT = 8 << 10

// Error codes of a refused Consent-JWT (engine.Error.Code).
const (
	CodeConsentJWTInvalid = "consent_jwt_invalid"
	CodeConsumerKey       = "consumer_key_invalid"
	CodeConsentNotYet     = "consent_not_yet_valid"
)

// ConsumerKeys finds consumers by key, and tells whether a customer may
// still be acted for (not locked, not deleted): engine/identity's Service.
type ConsumerKeys interface {
	ConsumerByKey(key string) (*identity.Consumer, bool)
	SessionValid(userID string, issuedAt time.Time) bool
}

// Authenticator authenticates calls under an OBP consent: the header
// Consent-JWT, one the engine issued byte for byte, and Consumer-Key, the
// key of the consent's consumer. The caller is the consent's customer,
// narrowed to what it delegates (Principal.Delegation); the guard admits
// such callers only on routes that accept them. The consent must be
// accepted, started and unexpired, read at each call from memory: a
// revocation bites on the next call.
type Authenticator struct {
	Consents  *consent.Service
	Consumers ConsumerKeys
	// Client authenticates the consumer's own client-credentials token a
	// Consent-Id comes with, answering the consumer's id; nil accepts no
	// Consent-Id.
	Client func(ctx context.Context, c identity.Credentials) (consumerID string, err error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Name implements identity.Authenticator.
func (a *Authenticator) Name() string { return Method }

// Authenticate implements identity.Authenticator. A request without
// Consent-JWT, and without Consent-Id and Consumer-Key together, is
// ErrNoCredentials at the cost of two header lookups (a Berlin Group call
// names its consent in Consent-ID, with no Consumer-Key: it is not one of
// these).
func (a *Authenticator) Authenticate(ctx context.Context, c identity.Credentials) (*identity.Principal, error) {
	if raw := c.Header(HeaderConsentJWT); raw != "" {
		return a.byJWT(ctx, c, raw)
	}
	key := c.Header(HeaderConsumerKey)
	if key == "" {
		return nil, identity.ErrNoCredentials
	}
	id := c.Header(HeaderConsentID)
	if id == "" || a.Client == nil {
		return nil, identity.ErrNoCredentials
	}
	use, err := a.Consents.DelegatedUse(ctx, id)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return nil, engine.NewError(http.StatusUnauthorized, CodeConsentJWTInvalid, "no OBP consent "+id)
	case err != nil:
		return nil, err
	}
	if err := a.consumer(key, use); err != nil {
		return nil, err
	}
	consumerID, err := a.Client(ctx, c)
	if err != nil || consumerID != use.ConsumerID {
		return nil, engine.NewError(http.StatusUnauthorized, CodeConsumerKey,
			"Consent-Id is accepted with the client-credentials token of the consent's consumer (Authorization: Bearer)")
	}
	return a.admit(id, use)
}

// byJWT authenticates a call under the Consent-JWT raw.
func (a *Authenticator) byJWT(ctx context.Context, c identity.Credentials, raw string) (*identity.Principal, error) {
	id, ok := consentIDOf(raw)
	if !ok {
		return nil, invalidJWT()
	}
	use, err := a.Consents.DelegatedUse(ctx, id)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return nil, invalidJWT()
	case err != nil:
		return nil, err
	case !issued(use.JWTDigests, raw):
		return nil, invalidJWT()
	}
	if err := a.consumer(c.Header(HeaderConsumerKey), use); err != nil {
		return nil, err
	}
	return a.admit(id, use)
}

// consumer checks that key is the key of use's consumer.
func (a *Authenticator) consumer(key string, use consent.DelegatedUse) error {
	con, ok := a.Consumers.ConsumerByKey(key)
	if !ok || con.ID != use.ConsumerID {
		return engine.NewError(http.StatusUnauthorized, CodeConsumerKey, "Consumer-Key is not the key of the consent's consumer")
	}
	return nil
}

// admit is the caller under consent id, when it may be used now.
func (a *Authenticator) admit(id string, use consent.DelegatedUse) (*identity.Principal, error) {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	switch code := consent.Unusable(use.Status, use.ExpiresAt, now); {
	case code == consent.CodeConsentRevoked:
		return nil, engine.NewError(http.StatusUnauthorized, code, "consent "+id+" is "+StatusWord(use.Status))
	case code == consent.CodeConsentExpired:
		return nil, engine.NewError(http.StatusUnauthorized, code, "consent "+id+" expired")
	case code == consent.CodeConsentNotAuthorised:
		return nil, engine.NewError(http.StatusUnauthorized, code, "consent "+id+" is "+StatusWord(use.Status)+", not ACCEPTED")
	case now.Before(use.ValidFrom):
		return nil, engine.NewError(http.StatusUnauthorized, CodeConsentNotYet, "consent "+id+" is valid from "+use.ValidFrom.Format(time.RFC3339))
	case !a.Consumers.SessionValid(use.UserID, now):
		return nil, engine.NewError(http.StatusUnauthorized, consent.CodeConsentRevoked, "the customer of consent "+id+" can no longer be acted for")
	}
	return &identity.Principal{UserID: use.UserID, ConsumerID: use.ConsumerID, Method: Method, ConsentID: id,
		Delegation: use.Delegation}, nil
}

// consentIDOf reads the jti of a Consent-JWT without verifying it: the
// token is then compared whole with those issued for that consent.
func consentIDOf(raw string) (string, bool) {
	if len(raw) > maxJWT {
		return "", false
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.JTI == "" {
		return "", false
	}
	return claims.JTI, true
}

// issued tells whether raw is one of the Consent-JWTs of digests,
// comparing in constant time.
func issued(digests [][sha256.Size]byte, raw string) bool {
	sum := sha256.Sum256([]byte(raw))
	found := 0
	for i := range digests {
		found |= subtle.ConstantTimeCompare(sum[:], digests[i][:])
	}
	return found == 1
}

// invalidJWT is the 401 for a Consent-JWT the engine did not issue.
func invalidJWT() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, CodeConsentJWTInvalid, "the Consent-JWT is not one this bank issued")
}
