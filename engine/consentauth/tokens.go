package consentauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Grant types served by Exchange.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// IDTokenLifetime is how long an ID token is valid.
const IDTokenLifetime = 5 * time.Minute

// issuedCode is an authorization code as stored, under its SHA-256.
type issuedCode struct {
	Request   Request   `json:"request"`
	UserID    string    `json:"user_id"`
	AuthTime  time.Time `json:"auth_time"`
	ExpiresAt time.Time `json:"expires_at"`
	// Used is set by the exchange; Grant is the key of the grant it made,
	// revoked if the code comes again.
	Used  bool   `json:"used"`
	Grant string `json:"grant,omitempty"`
}

// grant is what a code's exchange granted, under its refresh token's
// SHA-256: a refresh token bound to the consent, the client and the
// customer.
type grant struct {
	ConsumerID string    `json:"consumer_id"`
	UserID     string    `json:"user_id"`
	ConsentID  string    `json:"consent_id"`
	Scope      string    `json:"scope"`
	CreatedAt  time.Time `json:"created_at"`
	Revoked    bool      `json:"revoked"`
}

// Granted is the answer of the token endpoint to a grant (RFC 6749 5.1,
// OpenID Connect 3.1.3.3).
type Granted struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// Exchange serves the authorization_code and refresh_token grants for
// client, authenticated by the caller; form reads the request's
// parameters. Every refused code or refresh token is invalid_grant.
func (s *Service) Exchange(ctx context.Context, client *identity.Consumer, grantType string, form func(string) string) (*Granted, error) {
	switch grantType {
	case GrantAuthorizationCode:
		return s.exchangeCode(ctx, client, form("code"), form("redirect_uri"), form("code_verifier"))
	case GrantRefreshToken:
		return s.refresh(ctx, client, form("refresh_token"))
	}
	return nil, oauthError(http.StatusBadRequest, codeUnsupportedGrantType, "the grant type is not supported")
}

// exchangeCode consumes code and grants its tokens. The code_verifier is
// required unless client's policy is fapi1_request_object, and checked
// whenever the code was issued for a challenge. A code used twice revokes
// the grant of its first use (RFC 6749 4.1.2).
func (s *Service) exchangeCode(ctx context.Context, client *identity.Consumer, code, redirectURI, verifier string) (*Granted, error) {
	var missing []engine.Violation
	for _, p := range [...]struct {
		name, value string
		required    bool
	}{{"code", code, true}, {"redirect_uri", redirectURI, true}, {"code_verifier", verifier, !client.UsesRequestObjects()}} {
		if p.value == "" && p.required || len(p.value) > maxParam {
			missing = append(missing, fault(codeInvalidRequest, p.name, "is required, at most 512 bytes"))
		}
	}
	if missing != nil {
		return nil, faultsError(missing)
	}
	now := s.now()
	refresh := random32()
	var rec *issuedCode
	var replayed bool
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		key := hashHex(code)
		var err error
		rec, err = kvjson.Get[issuedCode](tx, bucketCodes, key)
		if errors.Is(err, engine.ErrNotFound) {
			return invalidGrant("the code is unknown or expired")
		}
		if err != nil {
			return err
		}
		if rec.Used {
			replayed = true
			return revokeTx(tx, rec.Grant)
		}
		switch {
		case !now.Before(rec.ExpiresAt):
			return invalidGrant("the code is unknown or expired")
		case rec.Request.ConsumerID != client.ID:
			return invalidGrant("the code was issued to another client")
		case rec.Request.RedirectURI != redirectURI:
			return invalidGrant("redirect_uri is not the one of the authorization request")
		case rec.Request.CodeChallenge != "" && !verifies(verifier, rec.Request.CodeChallenge):
			return invalidGrant("code_verifier does not match the code challenge")
		}
		rec.Used, rec.Grant = true, hashHex(refresh)
		if err := kvjson.Put(tx, bucketCodes, key, rec); err != nil {
			return err
		}
		return kvjson.Put(tx, bucketGrants, rec.Grant, grant{ConsumerID: client.ID, UserID: rec.UserID,
			ConsentID: rec.Request.ConsentID, Scope: rec.Request.Scope, CreatedAt: now})
	})
	if replayed {
		return nil, invalidGrant("the code was used already: the tokens it granted are revoked")
	}
	if err != nil {
		return nil, err
	}
	out, err := s.accessToken(ctx, client, rec.UserID, rec.Request.ConsentID, rec.Request.Scope)
	if err != nil {
		return nil, err
	}
	out.RefreshToken = refresh
	if hasScope(rec.Request.Scope, "openid") {
		if out.IDToken, err = s.idToken(rec, nil); err != nil {
			return nil, engine.Internal(err)
		}
	}
	return out, nil
}

// revokeTx marks the grant under key revoked.
func revokeTx(tx engine.Tx, key string) error {
	g, err := kvjson.Get[grant](tx, bucketGrants, key)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	g.Revoked = true
	return kvjson.Put(tx, bucketGrants, key, g)
}

// verifies checks a PKCE verifier against an S256 challenge (RFC 7636
// 4.6), in constant time.
func verifies(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	h := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(h[:])), []byte(challenge)) == 1
}

// accessToken issues the consent token of consentID for client and the
// customer userID, if the consent is still authorised for them; it lives
// no longer than the consent.
func (s *Service) accessToken(ctx context.Context, client *identity.Consumer, userID, consentID, scope string) (*Granted, error) {
	c, err := s.o.Consents.Get(ctx, consentID)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return nil, err
	}
	if err != nil || c.Status != consent.Authorised || c.ConsumerID != client.ID || c.UserID != userID {
		return nil, invalidGrant("the consent is not authorised")
	}
	var ttl time.Duration
	if c.ExpiresAt != nil {
		if ttl = c.ExpiresAt.Sub(s.o.Now()); ttl <= 0 {
			return nil, invalidGrant("the consent expired")
		}
	}
	tok, expiresIn, err := s.o.Tokens.AccessToken(client, userID, consentID, scope, ttl)
	if err != nil {
		return nil, err
	}
	return &Granted{AccessToken: tok, TokenType: "Bearer", ExpiresIn: expiresIn, Scope: scope}, nil
}

// idToken signs the ID token of code rec, with the claims extra beside
// the usual ones, with the engine's keys.
func (s *Service) idToken(rec *issuedCode, extra map[string]any) (string, error) {
	claims := map[string]any{"aud": rec.Request.ClientID, "sub": rec.UserID, "openbanking_intent_id": rec.Request.ConsentID,
		"auth_time": rec.AuthTime.Unix(), "acr": ACR, "azp": rec.Request.ClientID}
	maps.Copy(claims, extra)
	if rec.Request.Nonce != "" {
		claims["nonce"] = rec.Request.Nonce
	}
	return s.o.Tokens.SignContext(claims, IDTokenLifetime)
}

// refresh grants a new access token for a refresh token of client whose
// grant is not revoked and whose consent is still authorised.
func (s *Service) refresh(ctx context.Context, client *identity.Consumer, token string) (*Granted, error) {
	if token == "" || len(token) > maxParam {
		return nil, faultsError([]engine.Violation{fault(codeInvalidRequest, "refresh_token", "is required, at most 512 bytes")})
	}
	var g *grant
	err := s.o.Store.View(ctx, func(tx engine.Tx) error {
		var err error
		g, err = kvjson.Get[grant](tx, bucketGrants, hashHex(token))
		return err
	})
	if errors.Is(err, engine.ErrNotFound) || err == nil && (g.Revoked || g.ConsumerID != client.ID) {
		return nil, invalidGrant("the refresh token is unknown or revoked")
	}
	if err != nil {
		return nil, err
	}
	return s.accessToken(ctx, client, g.UserID, g.ConsentID, g.Scope)
}

// Revoke revokes token for client (RFC 7009): a refresh token the client
// holds ends its grant (audited, consent.token_revoke), and an access
// token the engine issued to the client is refused from then on. A token
// that is neither, or another client's, is left alone without an error,
// as RFC 7009 answers them all the same.
func (s *Service) Revoke(ctx context.Context, client *identity.Consumer, token string) error {
	if token == "" || len(token) > maxToken {
		return faultsError([]engine.Violation{fault(codeInvalidRequest, "token", fmt.Sprintf("is required, at most %d bytes", maxToken))})
	}
	key := hashHex(token)
	found := false
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		g, err := kvjson.Get[grant](tx, bucketGrants, key)
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if g.ConsumerID != client.ID || g.Revoked {
			return nil
		}
		if err := revokeTx(tx, key); err != nil {
			return err
		}
		if s.o.Audit == nil {
			return nil
		}
		return s.o.Audit.Append(tx, auditActor(client, g.UserID), "consent.token_revoke", g.ConsentID, "",
			map[string]any{"consumer_id": client.ID})
	})
	if err != nil || found {
		return err
	}
	_, err = s.o.Tokens.RevokeAccessToken(ctx, token, client.Key)
	return err
}

// maxToken bounds a token to revoke: an access token is a JWT of about a
// kilobyte, a refresh token 43 characters.
const maxToken = 8192
