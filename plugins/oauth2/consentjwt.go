package oauth2

import (
	"errors"
	"fmt"
	"maps"

	"github.com/golang-jwt/jwt/v5"
)

// ConsentJWTType is the typ header of OBP Consent-JWTs.
const ConsentJWTType = "consent+jwt"

// SignConsentJWT signs claims as an OBP Consent-JWT with the current
// signing key, so that it verifies against the JWK Set of JWKS: the
// caller sets sub, aud (the consumer), jti (the consent), nbf and exp; iss
// and iat are set here, replacing any the caller gave. Its aud may not be
// this issuer's audience, so a Consent-JWT is never taken for an access
// token.
func (i *Issuer) SignConsentJWT(claims map[string]any) (string, error) {
	if aud, _ := claims["aud"].(string); aud == "" || addressedTo(aud, i.audience) {
		return "", errors.New("oauth2: a Consent-JWT is addressed to its consumer")
	}
	ring := i.ring.Load()
	mc := make(jwt.MapClaims, len(claims)+2)
	maps.Copy(mc, claims)
	mc["iss"] = i.issuer
	mc["iat"] = jwt.NewNumericDate(i.now())
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, mc)
	tok.Header["kid"] = ring.current.kid
	tok.Header["typ"] = ConsentJWTType
	signed, err := tok.SignedString(ring.current.priv)
	if err != nil {
		return "", fmt.Errorf("oauth2: sign Consent-JWT: %w", err)
	}
	return signed, nil
}
