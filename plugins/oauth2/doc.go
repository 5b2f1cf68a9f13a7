// Package oauth2 is the engine's OAuth 2.0 token issuer: it serves the
// client credentials grant (RFC 6749 section 4.4) and issues the access
// tokens of consents a customer authorised (ConsentToken, for the
// authorization code grant engine/consentauth runs), all JWTs signed by the
// engine itself (ES256, RFC 9068 profile).
//
// A consumer authenticates with its key as client_id and its secret; the
// token's sub is the consumer id, client_id the consumer key, and uid the
// user on whose behalf the token acts: the one who created the consumer,
// or the customer who authorised the consent named by consent_id.
// RevokeAccessToken revokes a token before it expires (RFC 7009).
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
