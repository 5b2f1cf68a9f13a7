package usecase

import (
	"context"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/endpointmap"
	"github.com/dynapi/dynapi/engine/endpoints"
)

// Cases runs the use cases over the services they change.
type Cases struct {
	// Store is the store Access keeps its data in; every use case commits
	// there.
	Store     engine.Store
	Access    *access.Service
	Endpoints *endpoints.Manager
	Entities  *dynentity.Registry
	// Methods routes connector methods and holds their scripts.
	Methods  *connector.Dispatcher
	Mappings *endpointmap.Store
	// Changes tells its subscribers of every change a use case committed,
	// once it has committed (the caches of what is served subscribe).
	Changes engine.Changes
}

// update runs fn in one transaction of the access service and then
// delivers the changes committed so far, this one's included.
func (u *Cases) update(ctx context.Context, fn func(*access.Tx) error) error {
	err := u.Access.Update(ctx, fn)
	u.Changes.Deliver()
	return err
}

// announce makes c known to the subscribers of Changes once tx has
// committed, never when it rolls back; update delivers it. Every use case
// announces its change here and only here: an outbox (c written in tx and
// delivered from the store after the commit, so a crash in between loses
// nothing) replaces this function, not its callers.
func (u *Cases) announce(tx *access.Tx, kind, action, id, bankID string) {
	c := engine.Change{Kind: kind, Action: action, ID: id, BankID: bankID}
	tx.OnCommit(func() { u.Changes.Committed(c) })
}

// system is the actor of what a change does as a consequence (a document's
// roles are made by the system, on behalf of the actor who posted it),
// keeping the actor's correlation id.
func system(who audit.Actor) audit.Actor {
	return audit.Actor{CorrelationID: who.CorrelationID}
}
