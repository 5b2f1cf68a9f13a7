// Package consentauth is a customer's authorisation of a consent: the
// embedded authorisation server of UK Open Banking account information.
//
// A TPP pushes an authorization request naming the consent (Push, RFC
// 9126) and gets a single-use request_uri. The customer's browser, or the
// bank's own front end, opens an authorisation from it (Open), the
// customer logs in (Login), sees the consent in plain language, picks the
// accounts to share from the bank's shareable accounts (ChooseAccounts,
// which sends a one-time code by the sendScaChallenge connector method)
// and answers the code (Answer), or rejects the consent (Reject). A right
// answer authorises the consent and issues an authorization code, which
// the TPP exchanges with its PKCE verifier for an access token bound to
// the consent, a refresh token and an ID token (Exchange); Revoke ends a
// refresh token. Pushed requests, authorisations and codes expire and are
// swept (Sweep).
//
// Secrets are kept only as hashes: request URIs, authorization codes and
// refresh tokens as SHA-256, one-time codes as an HMAC-SHA256 under the
// server's secret that binds them to the authorisation, the consent, the
// customer and what the customer was shown.
package consentauth
