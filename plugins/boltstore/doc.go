// Package boltstore is dynapi's embedded default engine.Store, a single
// file managed by bbolt (go.etcd.io/bbolt).
//
// # Layout
//
// Each engine bucket is a top-level bbolt bucket, created by the first Put
// or NextSequence that names it. Keys and values are stored as given; the
// per-bucket counter behind NextSequence is bbolt's bucket sequence, kept in
// the bucket header rather than as a key, so it never shows up in Scan.
//
// # Scans
//
// Scan, ScanFrom and ScanReverse walk a bbolt cursor from a Seek, so they
// cost the keys they visit, not the size of the bucket. Their callback may
// write, to the scanned bucket too: the scan then finds its place again
// from the last key it reported. Deletes in a write transaction can leave
// empty pages until the commit; bbolt's cursor steps over them forwards
// but not backwards, so ScanReverse does that itself.
//
// # Durability
//
// Update commits with bbolt's copy-on-write scheme: the new pages are written
// and fsynced, then the meta page that points at them is written and
// fsynced. Update returns nil only after both fsyncs succeeded (for the
// transaction it shared, see Group commit), so a
// committed transaction survives a process crash or power loss, and a crash
// at any earlier point leaves the previous state: every transaction is
// there entirely or not at all. Options.NoSync skips the fsyncs; it exists
// for tests only and must never be used in production.
//
// # Group commit
//
// Update does not take bbolt's writer lock itself: it queues fn for the
// Store's committer goroutine, which takes every fn queued at that moment
// (up to 256) into one bbolt transaction, runs them one after the other,
// and commits them with one pair of fsyncs; under concurrent writes the
// cost of an fsync is shared by all of them. Each fn runs at most once (not
// at all if its context ends while it waits), and its caller is answered
// only after the shared commit, so an Update that returns nil is durable.
//
// Callers answered by a commit tend to come back with their next Update
// while the next commit already runs, so concurrent writers would split
// into two groups taking turns. Before starting a transaction the committer
// therefore waits, briefly, for as many fns as the last commit answered
// plus those queued behind it: at most half the last commit's duration and
// never more than 5 ms, and not at all once they are there. Under load
// every writer then joins one commit (64 writers: 64 writes per commit
// instead of 32).
//
// A fn that fails (returns an error, panics, or outlives its context) must
// not take the others down with it, and bbolt has no savepoints: a fn that
// runs after others in the transaction logs the previous state of every
// key, bucket and sequence it writes, and a failure replays that log
// backwards, leaving the transaction as the fns before it left it. The fn
// that runs first keeps no log: its failure rolls back the whole
// transaction, which holds nothing else, and the next fn starts a new one.
// A single writer therefore pays nothing for the log. Only a failure of
// the commit itself (an I/O error) fails every fn that shared it, and then
// none of them is written. bbolt's own DB.Batch is not used because it
// reruns every fn of a batch after each failure, and so may run fn more
// than once.
//
// # Concurrency
//
// A Store is safe for concurrent use. Writes are serialized by the
// committer; a caller whose context ends while its fn waits gets ctx.Err()
// without fn running. fn runs on the committer's goroutine, after and
// before other callers' fns, and sees their writes. Any number of View
// calls run in parallel with each other and with the writer, each on a
// consistent snapshot taken when it starts. Long-running Views hold on to
// old pages and can stall a writer that must grow the file, so keep them
// short; a slow fn delays every Update queued behind it.
//
// Do not call View or Update from inside a View or Update callback: a
// nested Update waits for the committer its caller occupies, and a nested
// View can deadlock against a writer that is remapping the file.
//
// # Files
//
// Open creates missing parent directories with mode 0700 and the file with
// mode 0600, and takes an exclusive lock on it: a second process opening the
// same file fails after Options.Timeout instead of hanging.
package boltstore
