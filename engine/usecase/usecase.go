package usecase

import (
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
}

// system is the actor of what a change does as a consequence (a document's
// roles are made by the system, on behalf of the actor who posted it),
// keeping the actor's correlation id.
func system(who audit.Actor) audit.Actor {
	return audit.Actor{CorrelationID: who.CorrelationID}
}
