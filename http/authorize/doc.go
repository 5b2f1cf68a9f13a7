// Package authorize serves the customer's authorisation of a consent over
// HTTP (engine/consentauth): the TPP's pushed authorization requests
// (POST /oauth2/par) and token revocation (POST /oauth2/revoke), the
// discovery document (GET /.well-known/openid-configuration), the
// server-rendered pages a customer authorises on (/oauth2/authorize...),
// and the same steps as a JSON API for banks with their own front end
// (/my/consent-authorisations...).
package authorize
