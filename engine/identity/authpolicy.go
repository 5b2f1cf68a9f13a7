package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/MicahParks/jwkset"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

// Authorization policies: how a consumer's authorization requests reach
// the bank.
const (
	// PolicyPARPKCE is the default: pushed authorization requests (RFC
	// 9126) with an S256 PKCE challenge.
	PolicyPARPKCE = "par_pkce"
	// PolicyFAPI1RequestObject is UK Open Banking's FAPI 1 shape: a
	// request object (RFC 9101) signed with a key of the consumer's JWK
	// Set, response type code or code id_token, PKCE optional.
	PolicyFAPI1RequestObject = "fapi1_request_object"
)

// Bounds on a consumer's JWK Set.
const (
	MaxJWKSKeys  = 10
	MaxJWKSBytes = 32 << 10
	minRSABits   = 2048
	maxRSABits   = 8192
)

// requestObjectAlgs are the signing algorithms a registered key may name.
var requestObjectAlgs = []jwkset.ALG{jwkset.AlgPS256, jwkset.AlgRS256, jwkset.AlgES256}

// AuthorizationPolicyOptions bound what SetConsumerAuthorizationPolicy
// accepts.
type AuthorizationPolicyOptions struct {
	// AllowUnsigned lets a fapi1_request_object consumer register no key:
	// its request objects are then unsigned (alg none), for a sandbox.
	AllowUnsigned bool
}

// jwkFault is one fault of a JWK Set at pointer (under /jwks).
func jwkFault(pointer, code, message string) engine.Violation {
	return engine.Violation{Location: "body", Pointer: "/jwks" + pointer, Code: code, Message: message}
}

// parseJWKS reads a JWK Set of public signing keys: at most MaxJWKSKeys,
// each with a unique kid, RSA of at least 2048 bits or EC P-256, no
// private members (RSA of at most 8192 bits, so that checking a
// signature stays cheap). It returns the keys by kid and every fault.
func parseJWKS(raw json.RawMessage) (map[string]any, []engine.Violation) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if len(raw) > MaxJWKSBytes {
		return nil, []engine.Violation{jwkFault("", "max_length", fmt.Sprintf("a JWK Set is at most %d bytes", MaxJWKSBytes))}
	}
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, []engine.Violation{jwkFault("", "type", `a JWK Set is {"keys": [JWK, ...]}`)}
	}
	if len(set.Keys) > MaxJWKSKeys {
		return nil, []engine.Violation{jwkFault("/keys", "max_items", fmt.Sprintf("a JWK Set has at most %d keys", MaxJWKSKeys))}
	}
	keys := make(map[string]any, len(set.Keys))
	var faults []engine.Violation
	for i, k := range set.Keys {
		at := fmt.Sprintf("/keys/%d", i)
		key, msg := publicKey(k)
		switch {
		case msg != "":
			faults = append(faults, jwkFault(at, "key", msg))
		case k.KID == "":
			faults = append(faults, jwkFault(at+"/kid", "required", "every key has a kid"))
		case keys[k.KID] != nil:
			faults = append(faults, jwkFault(at+"/kid", "unique", fmt.Sprintf("kid %q is given twice", k.KID)))
		default:
			keys[k.KID] = key
		}
	}
	return keys, faults
}

// publicKey is the public signing key of k, or what is wrong with it.
func publicKey(k jwkset.JWKMarshal) (any, string) {
	switch {
	case k.D != "" || k.P != "" || k.Q != "" || k.DP != "" || k.DQ != "" || k.QI != "" || len(k.OTH) > 0 || k.K != "":
		return nil, "a key registered is public: private or symmetric members are refused"
	case k.KTY != jwkset.KtyRSA && k.KTY != jwkset.KtyEC:
		return nil, `a key is of kty "RSA" or "EC"`
	case k.USE != "" && k.USE != jwkset.UseSig:
		return nil, `a key's use is "sig"`
	case k.ALG != "" && !slices.Contains(requestObjectAlgs, k.ALG):
		return nil, "a key's alg is PS256, RS256 or ES256"
	}
	jwk, err := jwkset.NewJWKFromMarshal(k, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, "not a valid key: " + err.Error()
	}
	switch key := jwk.Key().(type) {
	case *rsa.PublicKey:
		if bits := key.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Sprintf("an RSA key has %d to %d bits", minRSABits, maxRSABits)
		}
		return key, ""
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return nil, "an EC key is on curve P-256"
		}
		return key, ""
	}
	return nil, "not a public RSA or EC key"
}

// RequestObjectKey is the public key with kid in c's JWK Set (an
// *rsa.PublicKey or *ecdsa.PublicKey), ok false when there is none.
func (c *Consumer) RequestObjectKey(kid string) (key any, ok bool) {
	keys, _ := parseJWKS(c.JWKS)
	key, ok = keys[kid]
	return key, ok && kid != ""
}

// UsesRequestObjects tells whether c's policy is PolicyFAPI1RequestObject.
func (c *Consumer) UsesRequestObjects() bool {
	return c.AuthorizationPolicy == PolicyFAPI1RequestObject
}

// SetConsumerAuthorizationPolicy sets the authorization policy and JWK
// Set of the consumer with id, which a.UserID created: anyone else gets
// the 404 of an unknown consumer. A fapi1_request_object consumer needs a
// key unless o.AllowUnsigned. Every fault is named in a 400 and nothing
// changes. Audit-logged as "consumer.authorization_policy".
func (s *Service) SetConsumerAuthorizationPolicy(ctx context.Context, a audit.Actor, id, policy string, jwks json.RawMessage,
	o AuthorizationPolicyOptions) (*Consumer, error) {
	keys, faults := parseJWKS(jwks)
	switch {
	case policy != PolicyPARPKCE && policy != PolicyFAPI1RequestObject:
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/authorization_policy", Code: "enum",
			Message: fmt.Sprintf("the policy is %q or %q", PolicyPARPKCE, PolicyFAPI1RequestObject)})
	case policy == PolicyFAPI1RequestObject && len(keys) == 0 && faults == nil && !o.AllowUnsigned:
		faults = append(faults, jwkFault("", "required", "a fapi1_request_object consumer registers at least one signing key"))
	}
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the authorization policy cannot be set", faults...)
	}
	return s.changeOwnConsumer(ctx, a, id, func(rec *consumerRecord) (string, map[string]any) {
		rec.AuthorizationPolicy, rec.JWKS = policy, nil
		if len(keys) > 0 {
			rec.JWKS = slices.Clone(jwks)
		}
		kids := slices.Sorted(maps.Keys(keys))
		return "consumer.authorization_policy", map[string]any{"authorization_policy": policy, "kids": kids}
	})
}
