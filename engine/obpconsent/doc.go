// Package obpconsent is Open Bank Project's consents over the engine's
// consents (engine/consent, kind "obp"): a logged-in customer creates a
// consent for a consumer, naming accounts (with views) and roles to
// delegate; a one-time code, sent through the sendScaChallenge connector
// method, accepts it; the consumer then calls the banking core's reading
// routes with the consent's Consent-JWT and its own Consumer-Key, as the
// customer narrowed to the consent (engine.Principal.Delegation).
//
// A consumer may also start a consent request (client credentials) that
// a customer turns into a consent.
//
// Consent-JWTs are ES256 JWTs signed with the engine's keys (verifiable
// against /.well-known/jwks.json); the engine stores only their SHA-256
// and accepts a call only with a Consent-JWT it issued, byte for byte,
// while the consent is accepted, unexpired and its consumer calls.
package obpconsent
