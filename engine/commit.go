package engine

import "context"

// Commit stores a change a package has prepared to v (a document, an
// entity definition): it runs write, which puts or deletes v's record,
// inside one read-write transaction together with whatever must commit
// with it (roles, grants, the audit entry), and returns nil only once that
// transaction has committed. serve makes the change visible in memory; a
// Commit may call it right after the commit, before what else it changed
// is seen (a deletion stops serving before its roles go), and it is called
// anyway when the Commit returns nil. Until then the previous state
// answers, and a failed commit leaves it answering with nothing to undo.
type Commit[T any] func(v T, write func(Tx) error, serve func()) error

// RunCommit runs c on v (nil c: write in a transaction of its own on
// store), then serve once it has committed. An error that is not an
// *Error is returned as an internal one keeping it as its cause.
func RunCommit[T any](ctx context.Context, store Store, c Commit[T], v T, write func(Tx) error, serve func()) error {
	if c == nil {
		c = func(_ T, write func(Tx) error, _ func()) error { return store.Update(ctx, write) }
	}
	if err := c(v, write, serve); err != nil {
		return Surface(err)
	}
	serve()
	return nil
}
