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
// fsynced. Update returns nil only after both fsyncs succeeded, so a
// committed transaction survives a process crash or power loss, and a crash
// at any earlier point leaves the previous state: every transaction is
// there entirely or not at all. Options.NoSync skips the fsyncs; it exists
// for tests only and must never be used in production.
//
// # Concurrency
//
// A Store is safe for concurrent use. There is one writer at a time: Update
// calls queue for the write lock, and a caller whose context ends while it
// waits gets ctx.Err() without running fn. Any number of View calls run in
// parallel with each other and with the writer, each on a consistent
// snapshot taken when it starts. Long-running Views hold on to old pages and
// can stall a writer that must grow the file, so keep them short.
//
// Do not call View or Update from inside a View or Update callback: a
// nested Update waits for the lock its caller holds, and a nested View can
// deadlock against a writer that is remapping the file.
//
// # Files
//
// Open creates missing parent directories with mode 0700 and the file with
// mode 0600, and takes an exclusive lock on it: a second process opening the
// same file fails after Options.Timeout instead of hanging.
package boltstore
