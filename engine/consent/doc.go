// Package consent is the engine's one model of a consent, whatever the
// standard it was created through, and the consent profiles that bind the
// operations of a served document to it.
//
// A Consent is canonical: its Status is one of a few canonical values, and
// each profile says how its standard writes them (UK Open Banking v4.0
// AWAU AUTH RJCT CANC EXPD, v3.1.7 AwaitingAuthorisation Authorised
// Rejected Revoked), so one consent is served and rendered through every
// version's paths.
//
// A Profile is data (JSON): which documents it fits (operation ids and
// info.version), what each operation does to a consent (create, get,
// delete, use), the rules a consent request must keep, how statuses are
// written and which error codes the standard uses. Profiles for UK Open
// Banking account information, v4.0 and v3.1.7, are built in (profiles/).
// Binder.Bind picks a document's profile when it is submitted and compiles
// its bindings; operations bound to create, get and delete are answered by
// the engine (Binding.Invoker), the others by the document's host.
//
// Every change to a consent is written with its audit entry in one
// transaction, and checks its Revision, so two concurrent changes never
// both apply.
package consent
