// Package server is dynapi's HTTP edge: the fiber application, correlation
// ids, body limits, the problem+json renderer and the one handler that
// serves every dynamic operation.
//
// Every request first passes the front handler, which contains any panic
// below it (a logged 500) and refuses ambiguous requests (body framing,
// two credentials, dot segments, oversized headers). Connections come
// through a netguard listener, which caps them and survives running out of
// descriptors; EdgeConfig bounds how long a client may take.
//
// One request: copy nothing, load the current snapshot (an atomic pointer),
// match method and path (404, or 405 with Allow), authenticate the caller
// and check the operation's roles at its bank through the guard.Gate (401,
// 403, 404 for an unknown bank; public operations skip it), refuse a body
// over the limit (413), validate parameters and body against the compiled
// operation (400 listing every violation, 415), invoke the operation's
// prepared connector, write its reply. Every step returns an
// *engine.Error; the front handler renders it once.
//
// The fixed routes (health, tokens, the management API, entity records)
// are Routes New mounts: fiber matches them, and each passes the same
// authenticate, guard, policy, decode, invoke and filter stages in the
// same order, so a hook of Config.Hooks sees every request.
package server
