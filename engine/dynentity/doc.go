// Package dynentity serves dynamic entities: admin-defined data types in the
// Open Bank Project's format, each with validated storage and a generated
// record API (list with filters and paging, get, create, replace, patch,
// delete), guarded by roles made for the entity.
//
// Definitions are data, not routes: the record API is a handful of fixed
// routes that look the entity up in an immutable snapshot of definitions,
// swapped atomically when a definition is created, changed or deleted, so
// no route is rebuilt and requests in flight keep the definition they
// started with.
package dynentity
