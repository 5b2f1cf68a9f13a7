package identity

import (
	"context"
	"errors"
)

// ErrNoCredentials is what an Authenticator returns for a request that
// carries none of its credentials: "not mine, ask the next one".
var ErrNoCredentials = errors.New("identity: no credentials for this authenticator")

// Credentials is what authenticators read from a request. The HTTP edge
// implements it without copying the request.
type Credentials interface {
	// Header returns a request header, "" when absent.
	Header(name string) string
	// ClientAddr is the caller's network address, for throttling.
	ClientAddr() string
}

// Authenticator turns credentials into a Principal. It returns
// ErrNoCredentials when the request carries none of its kind, a 401
// *engine.Error when it carries its kind but they are not valid (expired,
// revoked, wrong signature, disabled consumer), or the Principal.
// Authenticators are called concurrently.
type Authenticator interface {
	// Name identifies the method in logs and Principal.Method.
	Name() string
	Authenticate(ctx context.Context, c Credentials) (*Principal, error)
}
