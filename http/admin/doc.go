// Package admin is dynapi's management and self-service HTTP API: dynamic
// endpoints, users, consumers, banks, roles, entitlements, entitlement
// requests, the audit log, the bank's webhooks and every event delivery
// under /admin/v1, the caller's own resources (a consumer's webhooks and
// deliveries among them) under /my, and the token endpoints (/my/logins/direct, /oauth2/token,
// /.well-known/jwks.json).
//
// Every route is guarded: it authenticates the caller (401 with
// WWW-Authenticate) and checks its roles (403 naming them), at the URL's
// bank for bank roles, after checking that the bank exists (404). Every
// change is written to the audit log.
package admin
