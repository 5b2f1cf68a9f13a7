// Package endpoints manages dynamic endpoints: API documents submitted at
// run time whose operations are served at once.
//
// Configuration flows one way. A change (create, delete, set host) is built
// in full first: the document is loaded and compiled, every operation gets
// its invoker, and a new route table is built from all endpoints. Only if
// that succeeds is the change persisted, and only once it is persisted is the
// new Snapshot swapped in with one atomic store. Requests in flight finish
// on the snapshot they started with; a refused change leaves both the store
// and the served routes as they were. Loading and compiling happen before
// the change takes the mutex that serialises changes, so a large document
// holds up no other change; what depends on the other endpoints (role
// names, route conflicts) is decided under it, against the snapshot current
// then. Reads (Snapshot, List, Get) take no lock on the request path.
//
// Each operation that needs a role gets one of its own, named when its
// document is created and stored with it (see Endpoint.RoleOf).
package endpoints
