package consentauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
)

// Bounds on a request object (RFC 9101).
const (
	// MaxRequestObject bounds a request object's length.
	MaxRequestObject = 16 << 10
	// MaxRequestObjectLife is how far ahead a request object's exp may be.
	MaxRequestObjectLife = time.Hour
	// requestObjectLeeway is the clock skew allowed on exp and nbf.
	requestObjectLeeway = 10 * time.Second
)

// CodeInvalidRequestObject refuses a request object that does not verify
// (RFC 9101 section 6.3).
const CodeInvalidRequestObject = "invalid_request_object"

// RequestObjectAlgs are the signing algorithms of request objects; "none"
// is accepted beside them only with Options.AllowUnsignedRequestObjects.
var RequestObjectAlgs = []string{"PS256", "RS256", "ES256"}

// requestParams are the authorization request parameters a request
// object may carry; its other claims (iss, aud, exp, ...) are checked or
// ignored.
var requestParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "claims", "consent_id", "request_uri", "request"}

// requestAlgs are the algorithms request objects are verified with:
// "none" beside RequestObjectAlgs when enabled, and then only for a client
// with no key (keyless); a client that registered keys signs.
func (s *Service) requestAlgs(keyless bool) []string {
	if s.o.AllowUnsignedRequestObjects && keyless {
		return append(RequestObjectAlgs[:len(RequestObjectAlgs):len(RequestObjectAlgs)], "none")
	}
	return RequestObjectAlgs
}

// unpack is the parameters an authorization request stands for: outer
// itself, or, when it carries a request object, the object's claims, which
// win (RFC 9101 section 6.3). Only a fapi1_request_object client may send
// one; its client_id and response_type must be outer's.
func (s *Service) unpack(client *identity.Consumer, outer url.Values) (url.Values, []engine.Violation) {
	raws, ok := outer["request"]
	if !ok {
		return outer, nil
	}
	if !client.UsesRequestObjects() {
		return nil, []engine.Violation{fault(CodeRequestNotSupported, "request",
			"request objects are not enabled for this client; push the parameters")}
	}
	if len(raws) != 1 || raws[0] == "" || len(raws[0]) > MaxRequestObject {
		return nil, []engine.Violation{fault(codeInvalidRequest, "request", fmt.Sprintf("is one JWT of at most %d bytes", MaxRequestObject))}
	}
	inner, faults := s.verifyRequestObject(client, raws[0])
	if faults != nil {
		return nil, faults
	}
	for _, name := range [...]string{"client_id", "response_type"} {
		if v, ok := outer[name]; ok && (len(v) != 1 || v[0] != inner.Get(name)) {
			faults = append(faults, fault(codeInvalidRequest, name, "is not the one of the request object"))
		}
	}
	return inner, faults
}

// verifyRequestObject checks raw's signature against the client's JWK
// Set by kid (PS256, RS256 or ES256; none only when enabled and the
// client registered no key), iss the
// client, aud the issuer, exp required and at most MaxRequestObjectLife
// ahead, nbf not in the future; it returns the object's request
// parameters.
func (s *Service) verifyRequestObject(client *identity.Consumer, raw string) (url.Values, []engine.Violation) {
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods(s.requestAlgs(len(client.JWKS) == 0)), jwt.WithIssuer(client.Key), jwt.WithAudience(s.o.Issuer),
		jwt.WithExpirationRequired(), jwt.WithLeeway(requestObjectLeeway), jwt.WithTimeFunc(s.now))
	_, err := parser.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		if tok.Method == jwt.SigningMethodNone {
			return jwt.UnsafeAllowNoneSignatureType, nil // reached only when "none" is a valid method
		}
		kid, _ := tok.Header["kid"].(string)
		key, ok := client.RequestObjectKey(kid)
		if !ok {
			return nil, errors.New("its kid names no key the client registered")
		}
		return key, nil
	})
	if err != nil {
		return nil, []engine.Violation{fault(CodeInvalidRequestObject, "request", "does not verify: "+err.Error())}
	}
	if exp, _ := claims.GetExpirationTime(); exp.Sub(s.now()) > MaxRequestObjectLife+requestObjectLeeway {
		return nil, []engine.Violation{fault(CodeInvalidRequestObject, "request",
			fmt.Sprintf("exp is more than %s ahead", MaxRequestObjectLife))}
	}
	params := url.Values{}
	var faults []engine.Violation
	for _, name := range requestParams {
		switch v := claims[name].(type) {
		case nil:
		case string:
			params.Set(name, v)
		case map[string]any:
			if name != "claims" {
				faults = append(faults, fault(codeInvalidRequest, name, "is a string"))
				continue
			}
			b, _ := json.Marshal(v) // decoded from JSON: encodes again
			params.Set(name, string(b))
		default:
			faults = append(faults, fault(codeInvalidRequest, name, "is a string"))
		}
	}
	return params, faults
}
