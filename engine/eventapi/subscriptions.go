package eventapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/events"
)

// subscriptionData is a subscription as the standard writes it
// (OBEventSubscription1 and OBEventSubscriptionResponse1's Data).
type subscriptionData struct {
	EventSubscriptionID string   `json:"EventSubscriptionId,omitempty"`
	CallbackURL         string   `json:"CallbackUrl,omitempty"`
	Version             string   `json:"Version"`
	EventTypes          []string `json:"EventTypes,omitempty"`
}

// subscriptionBody is a subscription request (POST or PUT).
type subscriptionBody struct {
	Data subscriptionData `json:"Data"`
}

// subscriptionAnswer is OBEventSubscriptionResponse1.
type subscriptionAnswer struct {
	Data  subscriptionData `json:"Data"`
	Links links            `json:"Links"`
	Meta  meta             `json:"Meta"`
}

// links are the standard's Links.
type links struct {
	Self string `json:"Self"`
}

// meta is the standard's Meta, empty.
type meta struct{}

// pointers name a subscription's fields in the standard's requests.
var pointers = events.Pointers{URL: "/Data/CallbackUrl", EventTypes: "/Data/EventTypes"}

// create makes the TPP's one subscription: 201 with it, 409 when it has
// one already.
func (a action) create(ctx context.Context, call *engine.Call, tpp *caller) (*engine.Reply, error) {
	in, err := readBody[subscriptionBody](call)
	if err != nil {
		return nil, err
	}
	key, err := a.checkFields(ctx, tpp, in.Data)
	if err != nil {
		return nil, err
	}
	sub, err := a.b.Events.Subscribe(ctx, tpp.who, events.NewSubscription{Kind: events.KindUK, ConsumerID: tpp.consumerID,
		Audience: key, URL: in.Data.CallbackURL, EventTypes: in.Data.EventTypes, Version: in.Data.Version,
		ResourceBase: consent.BaseURL(call)}, pointers)
	if err != nil {
		return nil, err
	}
	return answer(http.StatusCreated, subscriptionAnswer{dataOf(sub), links{Self: requestURL(call) + "/" + sub.ID}, meta{}})
}

// list answers the TPP's subscriptions (none or one).
func (a action) list(ctx context.Context, call *engine.Call, tpp *caller) (*engine.Reply, error) {
	subs, err := a.b.Events.Subscriptions(ctx, tpp.consumerID, events.KindUK)
	if err != nil {
		return nil, err
	}
	data := make([]subscriptionData, 0, len(subs))
	for _, s := range subs {
		data = append(data, dataOf(s))
	}
	type list struct {
		EventSubscription []subscriptionData `json:"EventSubscription"`
	}
	return answer(http.StatusOK, struct {
		Data  list  `json:"Data"`
		Links links `json:"Links"`
		Meta  meta  `json:"Meta"`
	}{list{data}, links{Self: requestURL(call)}, meta{}})
}

// change replaces the TPP's subscription named in the path with the body:
// a CallbackUrl left out makes it polling only, EventTypes left out
// receives every type; a subscription disabled by its receiver's 410 is
// active again.
func (a action) change(ctx context.Context, call *engine.Call, tpp *caller) (*engine.Reply, error) {
	id := a.subscriptionID(call)
	in, err := readBody[subscriptionBody](call)
	if err != nil {
		return nil, err
	}
	if in.Data.EventSubscriptionID != id {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the body names another subscription than the path",
			engine.Violation{Location: "body", Pointer: "/Data/EventSubscriptionId", Code: "mismatch",
				Message: "EventSubscriptionId is the subscription's id in the path"})
	}
	if err := a.owned(ctx, tpp, id); err != nil {
		return nil, err
	}
	if _, err := a.checkFields(ctx, tpp, in.Data); err != nil {
		return nil, err
	}
	types := slices.Clone(in.Data.EventTypes)
	sub, err := a.b.Events.ChangeSubscription(ctx, tpp.who, tpp.consumerID, id, events.SubscriptionChange{
		URL: &in.Data.CallbackURL, EventTypes: &types, Version: &in.Data.Version, Enable: true}, pointers)
	if err != nil {
		return nil, notFound(err)
	}
	return answer(http.StatusOK, subscriptionAnswer{dataOf(sub), links{Self: requestURL(call)}, meta{}})
}

// delete removes the TPP's subscription named in the path: 204.
func (a action) delete(ctx context.Context, call *engine.Call, tpp *caller) (*engine.Reply, error) {
	id := a.subscriptionID(call)
	if err := a.owned(ctx, tpp, id); err != nil {
		return nil, err
	}
	if err := a.b.Events.Unsubscribe(ctx, tpp.who, tpp.consumerID, id); err != nil {
		return nil, notFound(err)
	}
	return &engine.Reply{Status: http.StatusNoContent}, nil
}

// owned is nil when id is the TPP's UK event subscription, else the 404
// of an unknown one: its webhooks are not the events API's to change.
func (a action) owned(ctx context.Context, tpp *caller, id string) error {
	sub, err := a.b.Events.Subscription(ctx, tpp.consumerID, id)
	if err != nil || sub.Kind != events.KindUK {
		return notFound(err)
	}
	return nil
}

// notFound is err, or the standard's 404 when err says the subscription
// is unknown (or another TPP's, which the caller may not learn of).
func notFound(err error) error {
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	return engine.NewError(http.StatusNotFound, CodeSubscriptionNotFound, "the TPP has no event subscription with this id",
		engine.Violation{Location: "path", Pointer: "/" + subscriptionIDParam, Code: "resource_not_found", Message: "no such event subscription"})
}

// checkFields refuses a version other than the document's, event types
// the engine does not send and a callback URL the TPP has not registered,
// naming each; it returns the TPP's client id.
func (a action) checkFields(ctx context.Context, tpp *caller, d subscriptionData) (string, error) {
	consumer, err := a.b.Consumers.Consumer(ctx, tpp.consumerID)
	if err != nil {
		return "", err
	}
	var faults []engine.Violation
	if d.Version != a.version {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/Data/Version", Code: "enum",
			Message: fmt.Sprintf("this API is version %s", a.version)})
	}
	for i, t := range d.EventTypes {
		if !slices.Contains(events.UKEventTypes, t) {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("/Data/EventTypes/%d", i), Code: "enum",
				Message: "the bank sends " + strings.Join(events.UKEventTypes, ", ")})
		}
	}
	if d.CallbackURL != "" && !consumer.HasCallbackURL(d.CallbackURL) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/Data/CallbackUrl", Code: "unregistered",
			Message: "the callback URL is not one of the TPP's registered callback URLs"})
	}
	if faults != nil {
		return "", engine.NewError(http.StatusBadRequest, events.CodeInvalidSubscription, "the event subscription cannot be made", faults...)
	}
	return consumer.Key, nil
}

// readBody reads the call's JSON body, which the document's schema
// validated, as T.
func readBody[T any](call *engine.Call) (*T, error) {
	raw, err := json.Marshal(call.Body)
	if err != nil {
		return nil, err
	}
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the body is not the standard's request: "+err.Error())
	}
	return &out, nil
}

// dataOf is sub as the standard writes it.
func dataOf(sub *events.Subscription) subscriptionData {
	return subscriptionData{EventSubscriptionID: sub.ID, CallbackURL: sub.URL, Version: sub.Version, EventTypes: sub.EventTypes}
}

// answer is a JSON reply of status with body v.
func answer(status int, v any) (*engine.Reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &engine.Reply{Status: status, ContentType: "application/json; charset=utf-8", Body: b}, nil
}

// requestURL is the absolute URL the call was made to, without its query.
func requestURL(call *engine.Call) string {
	path := "/"
	if call.HTTP != nil {
		path = call.HTTP.Path()
	}
	return consent.BaseURL(call) + strings.TrimSuffix(path, "/")
}

// subscriptionID is the subscription id the call's path names.
func (a action) subscriptionID(call *engine.Call) string {
	if call.Path == nil || a.idParam < 0 || a.idParam >= call.Path.Len() {
		return ""
	}
	return call.Path.Value(a.idParam)
}
