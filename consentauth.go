package dynapi

import (
	"time"

	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// consentTokens lets the customer's authorisations (consentauth) issue
// tokens through the engine's OAuth2 issuer, which the kernel may not
// import.
type consentTokens struct{ *oauth2.Issuer }

var _ consentauth.Tokens = consentTokens{}

// AccessToken implements consentauth.Tokens with Issuer.ConsentToken.
func (t consentTokens) AccessToken(client *identity.Consumer, userID, consentID, scope string, ttl time.Duration) (string, int64, error) {
	r, err := t.ConsentToken(client, userID, consentID, scope, ttl)
	if err != nil {
		return "", 0, err
	}
	return r.AccessToken, r.ExpiresIn, nil
}
