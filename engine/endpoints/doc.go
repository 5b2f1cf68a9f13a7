// Package endpoints manages dynamic endpoints: API documents submitted at
// run time whose operations are served at once.
//
// Configuration flows one way. A change (create, delete, set host) is built
// in full first: the document is loaded and compiled, every operation gets
// its invoker, and a new route table is built from all endpoints. Only if
// that succeeds is the change persisted, and only once it is persisted is the
// new Snapshot swapped in with one atomic store. Requests in flight finish
// on the snapshot they started with; a refused change leaves both the store
// and the served routes as they were. Changes are serialised by a mutex;
// reads (Snapshot, List, Get) take no lock on the request path.
package endpoints
