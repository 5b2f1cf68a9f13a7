// Package portal is the developer portal at /portal: server-rendered
// pages (html/template, one embedded stylesheet, plain forms) for signing
// in and up, a developer's consumer apps, the API catalogue with Swagger
// UI, a customer's consents and the bank's administration.
//
// The portal is a client of the engine's own API: each page calls the
// management and self-service routes in process (Engine), with the
// signed-in user's DirectLogin token, so every change passes the same
// guard, validation, use case and audit log as a call over HTTP, and a
// page shows what the API refuses. Only what the API has no route for is
// called directly: self-registration (identity.Service.CreateUser, when
// the bank enables it), a creator disabling their own app, and the
// catalogue's reading of the live documents (endpoints.Manager).
//
// The session is an HttpOnly, SameSite=Strict cookie holding the token,
// scoped to /portal; every form carries a double-submit CSRF token.
package portal
