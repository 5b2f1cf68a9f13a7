// Package access composes identity, authorisation, banks and the audit
// log over one store, and is the one entry point for a change that spans
// them: Update runs a use case's own writes, its roles and grants and its
// audit entry in one store transaction, and the in-memory views of every
// part see the change only once it has committed, in commit order. It
// also holds the few changes that are themselves such compositions:
// deleting a user with its grants, the first start's super admin with its
// roles, and a bank with its creator's grant.
//
// Each part is its own package with one job: engine/identity (users,
// consumers, passwords, authentication, sessions), engine/authz (roles,
// entitlements, the guard's checks), engine/banks and engine/audit. Read
// and change a single part through its field of Service.
package access
