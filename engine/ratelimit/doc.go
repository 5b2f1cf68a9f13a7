// Package ratelimit is the engine's call limits per consumer and per user,
// as the Open Bank Project's: at most so many calls per second, minute,
// hour, day, week and month, set on a consumer or a user by an admin, with
// a configured default for those without their own.
//
// The Service is one engine.Policy, placed first in the pipeline's
// policies: every authenticated call counts against its consumer's and
// its user's limits, and a call over one of them is refused with a 429
// naming it, with Retry-After and the IETF RateLimit fields.
//
// Concurrency: the limits set are an immutable view swapped whole after
// each change commits; the counters are found through a sync.Map and
// counted with atomics, so the policy takes no lock. Counters are kept in
// memory per node, in fixed windows aligned to the clock, and forgotten
// (Sweep) once every window they count has passed.
package ratelimit
