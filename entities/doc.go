// Package entities will hold dynamic entities: admin-defined data types with
// storage and generated CRUD endpoints (see the dynamic entities issue). It
// is empty until then.
package entities
