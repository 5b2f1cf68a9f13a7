package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Stable error codes carried in Error.Code. Clients match on these, never on
// messages, so they never change once released.
const (
	CodeBadRequest           = "bad_request"
	CodeValidationFailed     = "validation_failed"
	CodeInvalidDocument      = "invalid_document"
	CodeUnresolvedRef        = "unresolved_ref"
	CodeRouteConflict        = "route_conflict"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeNotAcceptable        = "not_acceptable"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotImplemented       = "not_implemented"
	CodeInternal             = "internal_error"
	CodeConflict             = "conflict"
	// Connector methods and back ends.
	CodeScriptFailed       = "script_failed"            // a script threw (500)
	CodeScriptTimeout      = "script_timeout"           // a script ran past its deadline (504)
	CodeInvalidResult      = "invalid_connector_result" // data not as the message doc says (502)
	CodeBackendError       = "backend_error"            // a back end answered an error status (passed on)
	CodeBackendUnreachable = "backend_unreachable"      // connection refused or reset (502)
	CodeBackendTimeout     = "backend_timeout"          // no answer within the timeout (504)
	CodeCircuitOpen        = "circuit_open"             // a back end failed repeatedly; calls are held off (503)
	// The HTTP edge: requests refused before any route sees them.
	CodeAmbiguousFraming     = "ambiguous_message_framing"       // Content-Length and Transfer-Encoding disagree or repeat (400, connection closed)
	CodeAmbiguousCredentials = "ambiguous_credentials"           // more than one credential in one request (400)
	CodeInvalidPath          = "invalid_path"                    // a dot segment or an encoded slash in the path (400)
	CodeHeaderTooLarge       = "request_header_fields_too_large" // header fields over the limit (431)
	CodeRequestTimeout       = "request_timeout"                 // the request did not arrive in time (408)
)

// Entity records.
const (
	CodeRecordQuotaExceeded = "record_quota_exceeded" // a user's records of an entity reached a quota: 429 by count, 413 by bytes
	CodePreconditionFailed  = "precondition_failed"   // If-Match names no current version of the record (412)
)

// Script limits (JavaScript connector methods).
const (
	// CodeScriptMemoryLimit: a script's builtin call was refused because it
	// would exceed the call's allocation, size or nesting limits (500).
	CodeScriptMemoryLimit = "script_memory_limit"
	// CodeScriptMemoryExhausted: the scripts running together held more
	// memory than the engine allows them; every running call was stopped
	// (503, retry later).
	CodeScriptMemoryExhausted = "script_memory_exhausted"
)

// Violation is one reason a request or a submitted definition was refused.
// Location says where (path, query, header, cookie, body, document), Pointer
// is a JSON pointer inside that location, Code a stable keyword such as
// "required" or "pattern".
type Violation struct {
	Location string `json:"location"`
	Pointer  string `json:"pointer"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// Error is the one error type every layer returns to the HTTP edge. It
// carries the HTTP status, a stable code, a message safe to show a client and
// the list of violations. The cause is kept for logs and never rendered.
type Error struct {
	Status     int
	Code       string
	Message    string
	Violations []Violation
	// MissingRoles names the roles any one of which would have let a 403
	// through, and BankID the bank they were checked at ("" system wide).
	MissingRoles []string
	BankID       string
	// RetryAfter is how long to wait before asking again (a 429's
	// Retry-After), 0 when it says nothing.
	RetryAfter time.Duration
	// Headers are further response headers of the refusal (a 429's
	// RateLimit fields), nil for most errors.
	Headers map[string]string
	cause   error
}

// Error implements error with the message and, for logs, the cause.
func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the private cause so errors.Is and errors.As see through.
func (e *Error) Unwrap() error { return e.cause }

// NewError returns an Error with the given status, code and message.
func NewError(status int, code, message string, violations ...Violation) *Error {
	return &Error{Status: status, Code: code, Message: message, Violations: violations}
}

// Errorf returns an Error whose message is formatted like fmt.Sprintf.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithCause returns e with cause kept for logging; the cause is never shown to
// clients.
func (e *Error) WithCause(cause error) *Error {
	e.cause = cause
	return e
}

// Internal wraps an unexpected failure as a 500 whose message reveals
// nothing; the cause is kept for the log.
func Internal(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "internal error", cause: cause}
}

// Surface prepares an error for the HTTP edge: nil, an *Error and the
// context's cancellation and deadline errors pass as they are; anything
// else (a store failure, say) is hidden behind Internal.
func Surface(err error) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return Internal(err)
}

// AsError converts any error into an *Error: an *Error anywhere in the chain
// is returned as it is, anything else becomes Internal(err).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
