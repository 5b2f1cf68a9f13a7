// Package rest is the rest connector: it answers connector methods by
// calling a bank's back end over HTTP, the way OBP's rest_vMar2019
// connector does.
//
// # Routing parameters
//
// A method routing to connector "rest" carries these parameters; Prepare
// refuses a routing with a missing, malformed or unknown one (400
// bad_request, one violation per parameter at /parameters):
//
//   - url (required): an absolute http or https URL. It may hold {name}
//     placeholders in its path and query, never in its scheme or host. For
//     a built-in method a placeholder names one of the method's arguments,
//     in snake or camel case alike ({bank_id} is {bankId}); for a dynamic
//     operation it names one of the operation's path parameters. The
//     values are escaped: path placeholders are one path segment each.
//   - method: the HTTP method. Built-in methods default to POST, their body
//     being the outbound message; GET and HEAD send no body. Dynamic
//     operations default to their own method.
//   - timeout: per attempt, a Go duration ("750ms") or milliseconds; at
//     most 5m. The default is Options.DefaultTimeout.
//   - retries, breaker_failures, breaker_cooldown: override the Options of
//     the same names for this routing.
//   - context_header: the name of the signed context header.
//   - header.<Name>: a header sent as it is on every call, such as
//     header.X-Api-Key.
//   - outBoundMapping, inBoundMapping: templates (below) reshaping what is
//     sent and what is answered.
//
// # Built-in methods
//
// The body is OBP's outbound message (connector.Outbound): the call context
// then the method's named fields. A 2xx answer is OBP's inbound message,
// {"inboundAdapterCallContext", "status": {"errorCode", "backendMessages"},
// "data"}: a non-empty errorCode is a 400 backend_error carrying the code
// and the messages' texts, else data is the method's result, checked
// against its message doc by the dispatcher.
//
// # Dynamic operations
//
// The validated request is passed on: to url followed by the operation's
// path with the call's path values when url has no placeholders (else to
// url with them filled), with the request's query string, its body as JSON
// and its Accept header. Credentials the caller sent (Authorization,
// DirectLogin, cookies) are never passed on. A 2xx answer goes back to the
// caller as it is.
//
// # Headers, errors and resilience
//
// Every call carries X-Correlation-ID, the routing's static headers and,
// when the connector has a Signer, the context header: a JWT saying who
// calls and what for. Its claims are the back end (aud, its scheme and
// host), the method, bank_id and the caller (consumer_id, user_id,
// username), each left out when empty, plus iss, iat, exp and jti. It is
// signed with ES256 by the engine's OAuth 2.0 issuer; a back end verifies
// it against the issuer's JWK Set (/.well-known/jwks.json, the key named by
// kid), and checks iss, that aud is its own scheme and host, and exp.
//
// A token lives one minute (contextTTL). Signing is most of the cost of a
// call to a fast back end, so the connector sends the same token again for
// the same claims during its first 30 seconds (contextReuse): a back end
// always gets at least 30 seconds of validity, and a token names no single
// call. The correlation id is therefore not signed; it travels in
// X-Correlation-ID alone. Tokens are kept by their claims, at most
// maxContextTokens of them; past that the cache starts over, so a flood of
// distinct callers costs signatures, never unbounded memory.
//
// An error status of the back end is passed on with code backend_error; a
// back end that cannot be reached is a 502 backend_unreachable, one that
// does not answer within the timeout a 504 backend_timeout. Redirects are
// not followed. Messages name the back end by scheme and host only.
//
// Calls go over HTTP/1.1 with fasthttp, on the caller's goroutine, over up
// to 64 kept-alive connections per back end (client.go); answers are read
// up to 16 MiB. Back ends are reached directly, not through a proxy from
// the environment; user info in the url is sent as Basic credentials.
//
// Calls that only read (idempotent built-in methods; GET, HEAD, OPTIONS,
// PUT and DELETE operations) are retried on 502, 503, 504, timeouts and
// unreachable back ends, within the call's deadline, after a delay with
// full jitter: drawn uniformly between zero and a ceiling that starts at
// Options.Backoff and doubles for each next retry, up to MaxBackoff, so
// calls that failed together do not retry together against a back end
// that is recovering. Each back end (scheme, host and port) has one circuit breaker
// shared by all routings to it: after breaker_failures failed attempts in a
// row (unreachable, timeout or 5xx) calls fail at once with 503
// circuit_open until breaker_cooldown has passed; then one trial call is let
// through, whose success closes the circuit and whose failure opens it
// again.
//
// # Mapping templates
//
// outBoundMapping reshapes the outbound message (for a dynamic operation,
// the request argument {"path", "query", "headers", "body"}) into the body
// sent; inBoundMapping reshapes the decoded answer before it is read. A
// template is a JSON value:
//
//   - a string starting with "$" is a path into the source: "$" is the
//     whole source, "$.a.b" a member, "$.items[0].id" an array element;
//   - a string starting with "$$" is a literal string without its first
//     "$";
//   - an object maps each of its values; a member whose path leads nowhere
//     is left out;
//   - a two-element array whose first element is a path and second a
//     template, ["$.items", {"id": "$.item_id"}], maps every element of the
//     array at that path with the template, "$" meaning the element;
//   - any other array maps each of its elements;
//   - any other value is a literal.
//
// After inBoundMapping, an answer with a "data" member is read as OBP's
// inbound message; any other answer is the data itself. For a dynamic
// operation inBoundMapping reshapes a JSON 2xx answer, sent back as JSON.
package rest
