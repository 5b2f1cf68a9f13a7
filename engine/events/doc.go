// Package events tells TPPs and the bank's systems what changed, and never
// loses an event that belongs to a committed change.
//
// A change that emits an event writes it with Emit into the outbox, in the
// store transaction that makes the change. The Service's worker (Run) turns
// each outbox row into one delivery per matching subscription (UK Open
// Banking event subscriptions, generic webhooks, a Berlin Group consent's
// TPP-Notification-URI) in one transaction, then attempts each delivery on
// a schedule until the receiver takes it, the subscription is gone, or the
// last attempt fails and the delivery is dead (listed and replayable). A
// crash at any point loses nothing: the outbox row and the deliveries
// made from it are never both absent, and a delivery is recorded only
// after its attempt, so delivery is at least once; receivers deduplicate
// by the delivery's id, which retries keep.
package events
