// Package usecase holds the changes dynapi makes on behalf of someone,
// apart from any transport: the management API's handlers, the first-start
// preload and tests call the same functions. Each one runs the whole
// change in one store transaction, together with the roles it creates or
// drops, the entitlements it grants and its audit entry, and swaps the
// in-memory snapshots only after that transaction commits: a crash or a
// refusal at any point leaves all of it or none, and nothing has to be
// undone or repaired at the next start.
package usecase
