package engine

import (
	"context"
	"time"
)

// Call is one request to an operation, after it was matched and validated.
// Connectors read it; they must not keep it after Invoke returns.
type Call struct {
	// OperationID names the operation being answered.
	OperationID string
	// BankID is the bank a bank-level endpoint was called for, else "".
	BankID string
	// Prefer is the request's Prefer header (RFC 7240), which mock answers
	// read to choose a status (code=404) or a named example (example=NAME).
	Prefer string
	// Body is the decoded request body: JSON values for JSON and forms, raw
	// bytes for other media, nil when there is none.
	Body any
	// CorrelationID ties logs of this call together.
	CorrelationID string
	// Principal is the authenticated caller, nil for public operations.
	Principal *Principal
	// Path holds the path parameter values of the matched template, in
	// template order.
	Path PathValues
	// HTTP is the request being answered, for connectors that pass it on or
	// show it to scripts; nil when the call does not come from HTTP.
	HTTP HTTPRequest
	// Consent is the consent the call is made under, set by the consent
	// check of an operation that needs one; nil otherwise.
	Consent *ConsentGrant
}

// HTTPRequest is a read-only view of the HTTP request being answered,
// valid only during the call.
type HTTPRequest interface {
	Method() string
	// Path is the request path as received, without the query.
	Path() string
	// RawQuery is the query string without the '?'.
	RawQuery() string
	// Header returns a request header and whether it was sent.
	Header(name string) (string, bool)
}

// PathValues are the path parameter values of a matched route.
type PathValues interface {
	Len() int
	Value(i int) string
}

// Principal is an authenticated caller: a user acting through a consumer
// app. Authenticators make it; guards and connectors read it.
type Principal struct {
	UserID     string
	Username   string
	ConsumerID string
	// Method names how the caller authenticated: "direct_login",
	// MethodClientCredentials, "jwt_bearer".
	Method string
	// ClaimedRoles are roles the caller's identity provider vouches for, the
	// source of just-in-time entitlements.
	ClaimedRoles []string
	// ConsentID is the consent the caller's token was issued under (an
	// authorization-code token a customer granted a TPP), "" for tokens
	// bound to no consent. The consent is checked on every call that
	// needs one; the id alone grants nothing.
	ConsentID string
	// Delegation, when set, narrows the caller to what a consent delegates
	// (an OBP Consent-JWT): only routes that accept delegated callers, only
	// the accounts and roles the consent names. Nil for every other caller.
	Delegation *Delegation
}

// ConsentGrant is the consent a call is made under, as the consent check
// found it valid for this call: connectors pass it to the bank's back end
// and scripts read it as ctx.consent. It is shared between calls: never
// change it.
type ConsentGrant struct {
	ID       string `json:"id"`
	Standard string `json:"standard"`
	Version  string `json:"version"`
	// Kind is what the consent grants: "account-access".
	Kind   string `json:"type"`
	Status string `json:"status"`
	// UserID is the customer (PSU) who authorised it; ConsumerID the TPP
	// it was granted to.
	UserID      string   `json:"psu_user_id"`
	ConsumerID  string   `json:"client_id"`
	Permissions []string `json:"permissions"`
	// Accounts are the account ids the customer chose.
	Accounts        []string   `json:"accounts"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	TransactionFrom *time.Time `json:"transaction_from,omitempty"`
	TransactionTo   *time.Time `json:"transaction_to,omitempty"`
}

// Reply is a connector's answer. Body is sent as it is: a connector that
// shares a precomputed slice between calls must never change it.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
	// RetryAfter, when positive, is sent as the Retry-After header, in
	// whole seconds rounded up.
	RetryAfter time.Duration
	// Headers are further response headers, nil for most replies.
	Headers map[string]string
}

// Invoker answers calls to one operation. It is prepared once when a
// configuration snapshot is built and called concurrently afterwards.
type Invoker interface {
	Invoke(ctx context.Context, call *Call) (*Reply, error)
}

// MethodClientCredentials is the Principal.Method of a consumer's own
// OAuth2 client-credentials token: the caller is the app (a TPP) itself.
const MethodClientCredentials = "oauth2_client_credentials"
