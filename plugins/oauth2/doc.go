// Package oauth2 is an OAuth 2.0 authorization server for one grant, client
// credentials (RFC 6749 section 4.4), whose access tokens are JWTs signed by
// the engine itself (ES256, RFC 9068 profile).
//
// A consumer authenticates with its key as client_id and its secret; the
// token's sub is the consumer id, client_id the consumer key, and uid the
// user who created the consumer, on whose behalf the token acts.
//
// # Keys
//
// Signing keys are P-256 keys generated with crypto/ecdsa and kept in the
// store as PKCS#8 DER, one record per kid. The newest key signs; it is
// replaced once older than KeyConfig.RotateAfter (at start-up or on
// Rotate), and the KeyConfig.Keep keys before it stay published in JWKS and
// accepted, so tokens they signed live out their short lifetime. Keys
// beyond that are deleted.
//
// # Verification
//
// Authenticate reads only memory: the parsed public keys of an immutable
// key ring, swapped atomically on rotation, and the in-memory consumer
// registry, so a consumer disabled after a token was issued is refused at
// once, and with Options.Users the owner's standing, so a token issued
// before its owner was locked, deleted or had its sessions revoked is
// refused too. A bearer token that is not a JWT or not from this issuer is left to
// the next authenticator.
package oauth2
