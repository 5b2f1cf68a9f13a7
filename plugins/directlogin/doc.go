// Package directlogin is the Open Bank Project's DirectLogin: a client
// sends a username, password and consumer key once, in the header
//
//	DirectLogin: username="alice", password="…", consumer_key="…"
//
// (or the same parameters after "Authorization: DirectLogin"), and gets a
// random token to send on later requests as
//
//	DirectLogin: token="…"
//
// Parameter values may be quoted, with backslash escapes, or bare; they
// come in any order, separated by commas.
//
// A token is 32 random bytes in base64url. Only its SHA-256 is persisted,
// in one store bucket, with the user, the consumer and the expiry; every
// live token is also kept in memory, so authenticating a request reads no
// store. On each request the consumer must still be enabled and the user's
// sessions still valid (Users.SessionValid, from memory: not locked, not
// deleted, no password change or reset since the login). Expired and
// revoked tokens are dropped when next presented and by Purge.
//
// A client repeats its header on every request, so the plugin remembers
// the header values of recent requests (a fixed table of 4096, recent.go)
// with the session each led to: a repeated value is compared in constant
// time instead of parsed and hashed. The remembered session counts only
// while it is still the live session of its token, and every check above
// runs on it as on any other.
package directlogin
