// Package eventapi answers a posted UK Open Banking events API document
// (events-openapi.yaml) itself: event subscriptions
// (POST/GET/PUT/DELETE /event-subscriptions) and aggregated polling
// (POST /events), over the events service, for the calling TPP alone.
package eventapi

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/specs"
)

// Operation ids of the UK events API the engine answers.
const (
	OpCreateSubscription = "CreateEventSubscriptions"
	OpGetSubscriptions   = "GetEventSubscriptions"
	OpChangeSubscription = "ChangeEventSubscriptionsEventSubscriptionId"
	OpDeleteSubscription = "DeleteEventSubscriptionsEventSubscriptionId"
	OpPoll               = "CreateEvents"
)

// InteractionHeader is the header a request's interaction id comes in and
// every answer plays back.
const InteractionHeader = "x-fapi-interaction-id"

// subscriptionIDParam is the path parameter naming a subscription.
const subscriptionIDParam = "EventSubscriptionId"

// Codes of the refusals of the events API (engine.Error.Code).
const (
	// CodeNotTPP: the caller is not a TPP acting with its own
	// client-credentials token (403).
	CodeNotTPP = "event_api_not_tpp"
	// CodeSubscriptionNotFound: no subscription of the caller has the id
	// (404).
	CodeSubscriptionNotFound = "event_subscription_not_found"
)

// Consumers finds a TPP's registration (identity.Service does).
type Consumers interface {
	Consumer(ctx context.Context, id string) (*identity.Consumer, error)
}

// Binder makes the invokers of the events API's operations. Its fields
// are set before the engine serves, and read by every call.
type Binder struct {
	// Events keeps the subscriptions and the events to poll.
	Events *events.Service
	// Consumers finds the calling TPP's key and callback URLs.
	Consumers Consumers
}

// Invoker returns the engine's invoker of op, an operation of doc, when op
// is one of the UK events API's operations (matched by operation id); nil
// for every other operation, and for all of a document that opts out
// (x-dynapi-events: none), which the document's host answers.
func (b *Binder) Invoker(doc *specs.Document, op *specs.Operation) engine.Invoker {
	if doc.Events == specs.EventsNone {
		return nil
	}
	a := action{b: b, idParam: op.PathParamIndex(subscriptionIDParam), version: majorMinor(doc.Version)}
	switch op.ID {
	case OpCreateSubscription:
		return invokerFunc(a.create)
	case OpGetSubscriptions:
		return invokerFunc(a.list)
	case OpChangeSubscription:
		return invokerFunc(a.change)
	case OpDeleteSubscription:
		return invokerFunc(a.delete)
	case OpPoll:
		return invokerFunc(a.poll)
	}
	return nil
}

// Errors renders the refusals of the events API's operations in the UK
// shape (OBErrorResponse1, with the standard's error codes).
func (b *Binder) Errors() engine.ErrorRenderer { return ukErrors() }

// ukErrors is the UK error renderer of the built-in UK account information
// profile, whose error codes are the standard's for every UK API.
var ukErrors = sync.OnceValue(func() engine.ErrorRenderer {
	p, ok := consent.Builtin().Get(ukProfile)
	if !ok {
		panic("eventapi: no built-in consent profile " + ukProfile)
	}
	return p
})

// ukProfile is the built-in profile whose error rendering the events API
// shares.
const ukProfile = "uk-ob-v4.0-ais"

// invokerFunc adapts a function to engine.Invoker.
type invokerFunc func(ctx context.Context, call *engine.Call, tpp *caller) (*engine.Reply, error)

// Invoke answers a TPP's call; anyone else gets a 403.
func (f invokerFunc) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	p := call.Principal
	if p == nil || p.Method != engine.MethodClientCredentials || p.ConsumerID == "" || p.ConsentID != "" || p.Delegation != nil {
		return nil, engine.NewError(http.StatusForbidden, CodeNotTPP,
			"the events API is called by a TPP with its own client-credentials token")
	}
	return f(ctx, call, &caller{consumerID: p.ConsumerID,
		who: audit.Actor{UserID: p.UserID, ConsumerID: p.ConsumerID, CorrelationID: call.CorrelationID}})
}

// caller is the TPP making a call.
type caller struct {
	consumerID string
	who        audit.Actor
}

// action is one operation of a served events API document.
type action struct {
	b *Binder
	// idParam is the position of the path's EventSubscriptionId, -1 when
	// it has none.
	idParam int
	// version is the document's major.minor version ("4.0"), the only
	// Version its subscriptions may name.
	version string
}

// majorMinor is "4.0" of "4.0.0"; a version without a patch number is
// itself.
func majorMinor(v string) string {
	if parts := strings.SplitN(v, ".", 3); len(parts) == 3 {
		return parts[0] + "." + parts[1]
	}
	return v
}
