package oauth2

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// SignContext signs claims as a JWT with the current signing key, the one
// that signs access tokens, so that the token verifies against the JWK Set
// of JWKS (served at /.well-known/jwks.json). It is how the engine vouches
// for a call to a back end: the REST connector sends it as a header.
//
// iss, iat, exp (now plus ttl) and a fresh jti are set, replacing any the
// caller gave; claims itself is not changed. A context token must name its
// back end in aud and may not be addressed to this issuer's own audience,
// so that a back end cannot replay it here as an access token.
func (i *Issuer) SignContext(claims map[string]any, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", errors.New("oauth2: a context token needs a positive lifetime")
	}
	if addressedTo(claims["aud"], i.audience) {
		return "", fmt.Errorf("oauth2: a context token may not be addressed to the audience %q of access tokens", i.audience)
	}
	ring := i.ring.Load()
	now := i.now()
	mc := make(jwt.MapClaims, len(claims)+4)
	maps.Copy(mc, claims)
	mc["iss"] = i.issuer
	mc["iat"] = jwt.NewNumericDate(now)
	mc["exp"] = jwt.NewNumericDate(now.Add(ttl))
	mc["jti"] = uuid.NewString()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, mc)
	tok.Header["kid"] = ring.current.kid
	signed, err := tok.SignedString(ring.current.priv)
	if err != nil {
		return "", fmt.Errorf("oauth2: sign context: %w", err)
	}
	return signed, nil
}

// addressedTo tells whether an aud claim (a string or a list of them)
// names audience.
func addressedTo(aud any, audience string) bool {
	switch a := aud.(type) {
	case string:
		return a == audience
	case []string:
		return slices.Contains(a, audience)
	case jwt.ClaimStrings:
		return slices.Contains(a, audience)
	case []any:
		return slices.Contains(a, any(audience))
	}
	return false
}

// SignEvent signs claims as a security event token (RFC 8417, typ
// "secevent+jwt") with the current signing key, so that a TPP verifies it
// against the JWK Set at /.well-known/jwks.json: UK Open Banking event
// notifications. iss is set, replacing any the caller gave; a SET has no
// exp, and claims is not changed. Like a context token, it may not be
// addressed to the audience of access tokens (and, having no exp, would
// not pass as one anyway).
func (i *Issuer) SignEvent(claims map[string]any) (string, error) {
	if addressedTo(claims["aud"], i.audience) {
		return "", fmt.Errorf("oauth2: an event may not be addressed to the audience %q of access tokens", i.audience)
	}
	ring := i.ring.Load()
	mc := make(jwt.MapClaims, len(claims)+1)
	maps.Copy(mc, claims)
	mc["iss"] = i.issuer
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, mc)
	tok.Header["kid"] = ring.current.kid
	tok.Header["typ"] = "secevent+jwt"
	signed, err := tok.SignedString(ring.current.priv)
	if err != nil {
		return "", fmt.Errorf("oauth2: sign event: %w", err)
	}
	return signed, nil
}
