package obpconsent

import (
	"context"
	"errors"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/identity"
)

// Bounds.
const (
	// DefaultMaxTTL bounds a consent's time_to_live unless
	// Options.MaxTTL says otherwise.
	DefaultMaxTTL = 365 * 24 * time.Hour
	// DefaultTTL is a consent's time_to_live when its body names none.
	DefaultTTL = time.Hour
	// ChallengeLifetime is how long a one-time code may be answered.
	ChallengeLifetime = 5 * time.Minute
	// MaxWrongAnswers wrong codes reject the consent.
	MaxWrongAnswers = 3
	// MaxCodesPerLifetime bounds the consents, each sending a code, one
	// customer creates per ChallengeLifetime.
	MaxCodesPerLifetime = 10
	// RequestLifetime is how long a consent request may be turned into a
	// consent.
	RequestLifetime = time.Hour
	// maxViews and maxEntitlements bound what one consent names.
	maxViews        = 100
	maxEntitlements = 50
)

// Roles is what the service asks of authorisation: the roles there are,
// and whether a customer has one now.
type Roles interface {
	Role(name string) (authz.Role, bool)
	HasAny(userID, bankID string, roleNames []string) bool
}

// Consumers finds consumers.
type Consumers interface {
	Consumer(ctx context.Context, id string) (*identity.Consumer, error)
}

// Signer signs Consent-JWTs with the engine's keys (plugins/oauth2's
// Issuer).
type Signer interface {
	SignConsentJWT(claims map[string]any) (string, error)
}

// Codes makes and binds one-time codes (engine/consentauth's Service):
// the same codes and secret as every other consent authorisation.
type Codes interface {
	BindCode(parts ...string) []byte
}

// Options configures New.
type Options struct {
	Store     engine.Store
	Consents  *consent.Service
	Roles     Roles
	Consumers Consumers
	// Methods routes getShareableAccounts and sendScaChallenge.
	Methods *connector.Dispatcher
	Signer  Signer
	Codes   Codes
	// Issuer is the iss of Consent-JWTs.
	Issuer string
	// DevCodes returns one-time codes in the answers (--sca-dev), for
	// development only.
	DevCodes bool
	// MaxTTL bounds time_to_live; DefaultMaxTTL when zero.
	MaxTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service creates and accepts OBP consents. It is safe for concurrent
// use; all state is in the store.
type Service struct{ o Options }

// New returns the service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Consents == nil || o.Roles == nil || o.Consumers == nil || o.Methods == nil ||
		o.Signer == nil || o.Codes == nil || o.Issuer == "" {
		return nil, errors.New("obpconsent: Store, Consents, Roles, Consumers, Methods, Signer, Codes and Issuer are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = DefaultMaxTTL
	}
	return &Service{o: o}, nil
}

// now is the service's clock in UTC, to the second.
func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Second) }
