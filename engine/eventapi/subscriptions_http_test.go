package eventapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestEventSubscriptions runs the UK event subscription resources the
// engine answers once events-openapi.yaml is served: a TPP's one
// subscription made, read, changed and deleted, every answer in the
// document's shapes; refused with the standard's error naming the field
// when its callback URL is not registered, its version is not the
// document's or an event type is not one the bank sends; a second one
// is a 409; another TPP neither sees nor changes it; a caller that is not
// a TPP is refused.
func TestEventSubscriptions(t *testing.T) {
	t.Parallel()
	inst, doc := newEngine(t)
	rcv := newReceiver(t, inst, http.StatusAccepted)
	callback := rcv.URL + "/tpp"
	alice := newTPP(t, inst, "alice's app", callback)
	bob := newTPP(t, inst, "bob's app")

	for _, tc := range []struct {
		name, path string
		data       map[string]any
	}{
		{"callback not registered", "Data.CallbackUrl", map[string]any{"Version": "4.0", "CallbackUrl": rcv.URL + "/other"}},
		{"private callback not registered", "Data.CallbackUrl", map[string]any{"Version": "4.0", "CallbackUrl": "http://10.0.0.1/cb"}},
		{"another version", "Data.Version", map[string]any{"Version": "3.1", "CallbackUrl": callback}},
		{"unknown event type", "Data.EventTypes[1]", map[string]any{"Version": "4.0",
			"EventTypes": []string{events.UKResourceUpdate, "urn:uk:org:openbanking:events:account-access-consent-linked-account-update-x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := alice.subscribe(t, tc.data)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%d %s; want 400", r.Status, r.Body)
			}
			enginetest.Fits(t, doc, "CreateEventSubscriptions", "400", r.Body)
			if !namesPath(r.JSON(t), tc.path) || !namesCode(r.JSON(t), "U002") {
				t.Errorf("%s names no U002 error at %s", r.Body, tc.path)
			}
		})
	}
	if subs, _ := inst.Events.Subscriptions(t.Context(), alice.id, events.KindUK); len(subs) != 0 {
		t.Fatalf("refused requests made subscriptions: %v", subs)
	}

	req := enginetest.JSONRequest(t, "POST", subscriptions, map[string]any{"Data": map[string]any{
		"Version": "4.0", "CallbackUrl": callback, "EventTypes": []string{events.UKResourceUpdate}}})
	req.Header["x-jws-signature"], req.Header["x-fapi-interaction-id"] = "detached..signature", "93bac548-d2de-4546-b106-880a5018460d"
	created := alice.Send(t, req)
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	if got := created.Header.Get("x-fapi-interaction-id"); got != req.Header["x-fapi-interaction-id"] {
		t.Errorf("x-fapi-interaction-id %q; want the request's played back", got)
	}
	enginetest.Fits(t, doc, "CreateEventSubscriptions", "201", created.Body)
	data := created.JSON(t)["Data"].(map[string]any)
	id := data["EventSubscriptionId"].(string)
	self := created.JSON(t)["Links"].(map[string]any)["Self"]
	if data["CallbackUrl"] != callback || data["Version"] != "4.0" || self != "http://example.com"+subscriptions+"/"+id {
		t.Errorf("created %s", created.Body)
	}
	sub, err := inst.Events.Subscription(t.Context(), alice.id, id)
	if err != nil || sub.Audience != alice.key || sub.ResourceBase != "http://example.com" || sub.Kind != events.KindUK {
		t.Errorf("stored %+v, %v; want audience %s and the called base URL", sub, err, alice.key)
	}
	if r := alice.subscribe(t, map[string]any{"Version": "4.0"}); r.Status != http.StatusConflict || !namesCode(r.JSON(t), "U000") {
		t.Errorf("second subscription: %d %s; want 409 in the standard's shape", r.Status, r.Body)
	}

	read := alice.Get(t, subscriptions)
	enginetest.Fits(t, doc, "GetEventSubscriptions", "200", read.Body)
	if list := read.JSON(t)["Data"].(map[string]any)["EventSubscription"].([]any); read.Status != http.StatusOK || len(list) != 1 ||
		list[0].(map[string]any)["EventSubscriptionId"] != id {
		t.Errorf("GET: %d %s", read.Status, read.Body)
	}
	theirs := bob.Get(t, subscriptions)
	enginetest.Fits(t, doc, "GetEventSubscriptions", "200", theirs.Body)
	if list := theirs.JSON(t)["Data"].(map[string]any)["EventSubscription"].([]any); len(list) != 0 {
		t.Errorf("another TPP sees %s", theirs.Body)
	}

	hook, err := inst.Events.Subscribe(t.Context(), audit.Actor{UserID: inst.AdminID(t)},
		events.NewSubscription{Kind: events.KindWebhook, ConsumerID: alice.id, URL: callback}, events.Pointers{})
	if err != nil {
		t.Fatal(err)
	}
	change := map[string]any{"Data": map[string]any{"EventSubscriptionId": id, "Version": "4.0",
		"EventTypes": []string{events.UKConsentRevoked, events.UKResourceUpdate}}}
	for _, tc := range []struct {
		name   string
		caller app
		method string
		path   string
		body   any
		status int
	}{
		{"another TPP changes it", bob, "PUT", subscriptions + "/" + id, change, http.StatusNotFound},
		{"another TPP deletes it", bob, "DELETE", subscriptions + "/" + id, nil, http.StatusNotFound},
		{"unknown id", alice, "DELETE", subscriptions + "/no-such", nil, http.StatusNotFound},
		{"its webhook is not the events API's", alice, "DELETE", subscriptions + "/" + hook.ID, nil, http.StatusNotFound},
		{"body names another", alice, "PUT", subscriptions + "/" + id,
			map[string]any{"Data": map[string]any{"EventSubscriptionId": "other", "Version": "4.0"}}, http.StatusBadRequest},
		{"changed to an unregistered callback", alice, "PUT", subscriptions + "/" + id,
			map[string]any{"Data": map[string]any{"EventSubscriptionId": id, "Version": "4.0", "CallbackUrl": rcv.URL + "/other"}}, http.StatusBadRequest},
		{"changed to another version", alice, "PUT", subscriptions + "/" + id,
			map[string]any{"Data": map[string]any{"EventSubscriptionId": id, "Version": "3.1"}}, http.StatusBadRequest},
		{"not a TPP", app{Caller: inst.Admin()}, "GET", subscriptions, nil, http.StatusForbidden},
		{"not a TPP polls", app{Caller: inst.Admin()}, "POST", pollPath, map[string]any{}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r enginetest.Response
			if tc.body == nil {
				r = tc.caller.Send(t, enginetest.Request{Method: tc.method, Path: tc.path})
			} else {
				r = tc.caller.send(t, tc.method, tc.path, tc.body)
			}
			if r.Status != tc.status {
				t.Fatalf("%d %s; want %d", r.Status, r.Body, tc.status)
			}
			if _, ok := r.JSON(t)["Errors"].([]any); !ok {
				t.Errorf("not the standard's error: %s", r.Body)
			}
			if tc.status == http.StatusForbidden {
				enginetest.Fits(t, doc, "GetEventSubscriptions", "403", r.Body)
			}
		})
	}

	if sub, err := inst.Events.Subscription(t.Context(), alice.id, id); err != nil || sub.URL != callback || sub.Version != "4.0" || len(sub.EventTypes) != 1 {
		t.Errorf("refused changes changed the subscription: %+v, %v", sub, err)
	}
	changed := alice.send(t, "PUT", subscriptions+"/"+id, change)
	if changed.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", changed.Status, changed.Body)
	}
	enginetest.Fits(t, doc, "ChangeEventSubscriptionsEventSubscriptionId", "200", changed.Body)
	if d := changed.JSON(t)["Data"].(map[string]any); d["CallbackUrl"] != nil || len(d["EventTypes"].([]any)) != 2 {
		t.Errorf("changed %s; want polling only, two types", changed.Body)
	}
	if r := alice.Delete(t, subscriptions+"/"+id); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if list := alice.Get(t, subscriptions).JSON(t)["Data"].(map[string]any)["EventSubscription"].([]any); len(list) != 0 {
		t.Errorf("deleted subscription still listed, or the webhook listed: %v", list)
	}
	if _, err := inst.Events.Subscription(t.Context(), alice.id, hook.ID); err != nil {
		t.Errorf("the TPP's webhook is gone: %v", err)
	}
	if r := alice.subscribe(t, map[string]any{"Version": "4.0"}); r.Status != http.StatusCreated {
		t.Errorf("subscription after deleting the first: %d %s", r.Status, r.Body)
	}
	for _, action := range []string{"event_subscription.create", "event_subscription.change", "event_subscription.delete"} {
		if n := inst.Audited(t, action, id); n != 1 {
			t.Errorf("%s audited %d times; want 1", action, n)
		}
	}
}

// namesCode tells whether a UK error answer has an error with code.
func namesCode(body map[string]any, code string) bool {
	errs, _ := body["Errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["ErrorCode"] == code {
			return true
		}
	}
	return false
}

// namesPath tells whether a UK error answer names an error at path.
func namesPath(body map[string]any, path string) bool {
	errs, _ := body["Errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["Path"] == path {
			return true
		}
	}
	return false
}

// TestSubscriptionCallbackCheckedAgain: a callback URL registered while
// the allow-list let its private address through is refused when the
// subscription is made after the allow-list no longer does.
func TestSubscriptionCallbackCheckedAgain(t *testing.T) {
	t.Parallel()
	inst, _ := newEngine(t)
	callback := newReceiver(t, inst, http.StatusAccepted).URL
	alice := newTPP(t, inst, "alice's app", callback)
	dir := inst.Dir
	inst.Close(t)

	strict := enginetest.New(t, enginetest.InDir(dir), enginetest.Configure(func(c *dynapi.Config) { c.Events.CallbackAllow = nil }))
	alice.Caller = strict.WithAuthorization(alice.authorization)
	r := alice.subscribe(t, map[string]any{"Version": "4.0", "CallbackUrl": callback})
	if r.Status != http.StatusBadRequest || !namesPath(r.JSON(t), "Data.CallbackUrl") {
		t.Fatalf("%d %s; want 400 naming Data.CallbackUrl", r.Status, r.Body)
	}
	enginetest.Fits(t, load(t, eventsDoc), "CreateEventSubscriptions", "400", r.Body)
	if r := alice.subscribe(t, map[string]any{"Version": "4.0"}); r.Status != http.StatusCreated {
		t.Errorf("polling-only subscription: %d %s", r.Status, r.Body)
	}
}

// TestEventsAPIOptOut: a document saying x-dynapi-events: none has its
// host answer the events API (here the mock), and the engine keeps no
// subscription; any other value is ignored with a warning.
func TestEventsAPIOptOut(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	src := string(enginetest.ReadFile(t, eventsDoc))
	for _, tc := range []struct{ value, warning string }{{"none", ""}, {"nobody", "ignored"}} {
		r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints?mount=/"+tc.value,
			[]byte(strings.Replace(src, "openapi: 3.0.0\n", "openapi: 3.0.0\nx-dynapi-events: "+tc.value+"\n", 1)))
		if r.Status != http.StatusCreated {
			t.Fatalf("POST: %d %s", r.Status, r.Body)
		}
		if warned := strings.Contains(string(r.Body), `"/x-dynapi-events"`); warned != (tc.warning != "") {
			t.Errorf("x-dynapi-events: %s warned %v: %s", tc.value, warned, r.Body)
		}
	}
	alice := newTPP(t, inst, "alice's app")
	if r := alice.send(t, "POST", "/none/event-subscriptions", map[string]any{"Data": map[string]any{"Version": "4.0"}}); r.Status/100 != 2 {
		t.Fatalf("the host's answer: %d %s", r.Status, r.Body)
	}
	if subs, err := inst.Events.Subscriptions(t.Context(), alice.id, ""); err != nil || len(subs) != 0 {
		t.Errorf("the engine answered an opted-out document: %v, %v", subs, err)
	}
	if r := alice.send(t, "POST", "/nobody/event-subscriptions", map[string]any{"Data": map[string]any{"Version": "4.0"}}); r.Status != http.StatusCreated {
		t.Fatalf("the engine's answer: %d %s", r.Status, r.Body)
	}
	if subs, _ := inst.Events.Subscriptions(t.Context(), alice.id, ""); len(subs) != 1 {
		t.Errorf("%d subscriptions; want the one the engine made", len(subs))
	}
}
