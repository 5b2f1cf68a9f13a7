package admin_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// myConsumer registers a consumer as c and returns its id.
func myConsumer(t *testing.T, c enginetest.Caller, name string) string {
	t.Helper()
	r := c.PostJSON(t, "/my/consumers", map[string]string{"name": name})
	if r.Status != http.StatusCreated {
		t.Fatalf("consumer %s as %s: %d %s", name, c, r.Status, r.Body)
	}
	id, _ := r.JSON(t)["consumer_id"].(string)
	return id
}

// obpConsent is the id of a consent the super admin, a customer of the
// demo bank, gives the consumer consumerID to their current account, by
// OBP's API, with its challenge answered: it is created, then accepted.
func obpConsent(t *testing.T, inst *enginetest.Engine, consumerID string) string {
	t.Helper()
	r := inst.Admin().PostJSON(t, "/banks/demo-bank/my/consents/SMS", map[string]any{"everything": false,
		"account_access": []map[string]string{{"account_id": "current-1", "view_id": "owner"}},
		"consumer_id":    consumerID, "phone_number": "+44 7700 900123", "time_to_live": 3600})
	if r.Status != http.StatusCreated {
		t.Fatalf("consent for %s: %d %s", consumerID, r.Status, r.Body)
	}
	c := r.JSON(t)
	id, _ := c["consent_id"].(string)
	r = inst.Admin().PostJSON(t, "/banks/demo-bank/consents/"+id+"/challenge", map[string]any{"answer": c["code"]})
	if r.Status != http.StatusCreated {
		t.Fatalf("challenge of %s: %d %s", id, r.Status, r.Body)
	}
	return id
}

// TestConsumerWebhooks: a TPP developer's webhook on their consumer gets
// that consumer's consent events and not another consumer's, nor the
// bank's record events; the developer lists only their consumer's
// deliveries; the bank's webhook list does not show it; another user
// finds neither the consumer's webhooks nor its deliveries.
func TestConsumerWebhooks(t *testing.T) {
	inst := hookEngine(t, enginetest.Configure(func(c *dynapi.Config) { c.PreloadExample, c.ScaDevCodes = true, true }))
	dev := inst.As(inst.CreateUser(t, "dev", "Dev-passw0rd-long"))
	other := inst.As(inst.CreateUser(t, "other", "Other-passw0rd-long"))
	mine, theirs := myConsumer(t, dev, "dev's app"), myConsumer(t, other, "other's app")
	rcvMine, rcvTheirs := newReceiver(t, answering(http.StatusOK)), newReceiver(t, answering(http.StatusOK))
	hookMine := createHook(t, dev, "/my/consumers/"+mine+"/webhooks", map[string]any{"url": rcvMine.URL, "event_types": []string{"consent.*"}})
	createHook(t, other, "/my/consumers/"+theirs+"/webhooks", map[string]any{"url": rcvTheirs.URL})
	if hookMine.ConsumerID != mine || hookMine.PublicKey == "" {
		t.Fatalf("webhook %+v: want consumer %s's, with the public key", hookMine, mine)
	}
	checkWebhookKeyInJWKS(t, inst, hookMine)

	consentMine, consentTheirs := obpConsent(t, inst, mine), obpConsent(t, inst, theirs)
	createOffer(t, inst, true) // the bank's: no consumer's webhook gets it
	drain(t, inst)

	for _, tc := range []struct {
		name    string
		rcv     *receiver
		consent string
	}{{"mine", rcvMine, consentMine}, {"theirs", rcvTheirs, consentTheirs}} {
		t.Run(tc.name, func(t *testing.T) {
			var types []string
			for _, a := range tc.rcv.got() {
				verifyHook(t, hookMine.PublicKey, a)
				var msg struct{ Type, Subject string }
				if err := json.Unmarshal(a.Body, &msg); err != nil || msg.Subject != "consents/"+tc.consent {
					t.Errorf("message %s (%v), want one about consent %s", a.Body, err, tc.consent)
				}
				types = append(types, msg.Type)
			}
			if !slices.Contains(types, "consent.created") || !slices.Contains(types, "consent.status_changed") {
				t.Errorf("messages of types %v, want the consent's creation and change of status", types)
			}
		})
	}

	mineList := listDeliveries(t, dev, "/my/consumers/"+mine+"/event-deliveries")
	if len(mineList) != len(rcvMine.got()) || len(mineList) == 0 {
		t.Fatalf("dev's deliveries %+v: want the %d to their consumer", mineList, len(rcvMine.got()))
	}
	for _, d := range mineList {
		if d.ConsumerID != mine || d.Status != "delivered" || d.Payload != nil {
			t.Errorf("dev's delivery %+v: want their consumer's, delivered, listed without payload", d)
		}
	}
	theirList := listDeliveries(t, other, "/my/consumers/"+theirs+"/event-deliveries")
	if d := getDelivery(t, dev, "/my/consumers/"+mine+"/event-deliveries", mineList[0].ID); d.Payload == nil {
		t.Errorf("the TPP's own delivery comes without its payload: %+v", d)
	}
	for _, tc := range []struct {
		name   string
		caller enginetest.Caller
		method string
		path   string
	}{
		{"another's delivery through my consumer", dev, http.MethodGet, "/my/consumers/" + mine + "/event-deliveries/" + theirList[0].ID},
		{"another's consumer's deliveries", dev, http.MethodGet, "/my/consumers/" + theirs + "/event-deliveries"},
		{"another's consumer's webhooks", other, http.MethodGet, "/my/consumers/" + mine + "/webhooks"},
		{"another's consumer's webhook", other, http.MethodGet, "/my/consumers/" + mine + "/webhooks/" + hookMine.ID},
		{"a webhook on another's consumer", other, http.MethodPost, "/my/consumers/" + mine + "/webhooks"},
		{"another's webhook changed", other, http.MethodPut, "/my/consumers/" + mine + "/webhooks/" + hookMine.ID},
		{"another's webhook deleted", other, http.MethodDelete, "/my/consumers/" + mine + "/webhooks/" + hookMine.ID},
		{"my webhook under their consumer", dev, http.MethodDelete, "/my/consumers/" + theirs + "/webhooks/" + hookMine.ID},
		{"a bank webhook through my consumer", dev, http.MethodGet, "/my/consumers/" + mine + "/webhooks/" + bankHookOf(t, inst)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Send(t, enginetest.JSONRequest(t, tc.method, tc.path, map[string]any{"url": rcvMine.URL}))
			if r.Status != http.StatusNotFound {
				t.Errorf("%s %s: %d %s, want 404", tc.method, tc.path, r.Status, r.Body)
			}
		})
	}
	if got := decode[struct{ Webhooks []webhook }](t, dev.Get(t, "/my/consumers/"+mine+"/webhooks")).Webhooks; len(got) != 1 || got[0].ID != hookMine.ID {
		t.Errorf("dev's webhooks %+v: want theirs alone", got)
	}
	for _, h := range decode[struct{ Webhooks []webhook }](t, inst.Admin().Get(t, "/admin/v1/webhooks")).Webhooks {
		if h.ConsumerID != "" {
			t.Errorf("the bank's webhooks list a TPP's: %+v", h)
		}
	}
}

// bankHookOf registers a bank webhook as the admin and returns its id.
func bankHookOf(t *testing.T, inst *enginetest.Engine) string {
	t.Helper()
	return createHook(t, inst.Admin(), "/admin/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/bank"}).ID
}

// TestWebhookRoutesNeedRoles: the bank's webhooks and every delivery are
// for holders of CanManageWebhooks, CanGetEventDeliveries and
// CanReplayEventDeliveries; anyone else is refused (401 without
// credentials, 403 naming the role), and a consumer's routes need a
// login. The admin gets a 404 for a webhook or delivery that does not
// exist.
func TestWebhookRoutesNeedRoles(t *testing.T) {
	inst := hookEngine(t)
	dev := inst.As(inst.CreateUser(t, "dev", "Dev-passw0rd-long"))
	for _, tc := range []struct {
		method, path, role string
	}{
		{http.MethodPost, "/admin/v1/webhooks", "CanManageWebhooks"},
		{http.MethodGet, "/admin/v1/webhooks", "CanManageWebhooks"},
		{http.MethodGet, "/admin/v1/webhooks/x", "CanManageWebhooks"},
		{http.MethodPut, "/admin/v1/webhooks/x", "CanManageWebhooks"},
		{http.MethodDelete, "/admin/v1/webhooks/x", "CanManageWebhooks"},
		{http.MethodGet, "/admin/v1/event-deliveries", "CanGetEventDeliveries"},
		{http.MethodGet, "/admin/v1/event-deliveries/stats", "CanGetEventDeliveries"},
		{http.MethodGet, "/admin/v1/event-deliveries/x", "CanGetEventDeliveries"},
		{http.MethodPost, "/admin/v1/event-deliveries/x/replay", "CanReplayEventDeliveries"},
		{http.MethodGet, "/my/consumers/x/webhooks", ""},
		{http.MethodPost, "/my/consumers/x/webhooks", ""},
		{http.MethodGet, "/my/consumers/x/event-deliveries", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			body := map[string]any{"url": "http://127.0.0.1:9/"}
			if r := inst.Anonymous().Send(t, enginetest.JSONRequest(t, tc.method, tc.path, body)); r.Status != http.StatusUnauthorized {
				t.Errorf("anonymous: %d %s, want 401", r.Status, r.Body)
			}
			if tc.role == "" {
				return
			}
			if got := missingRole(t, dev.Send(t, enginetest.JSONRequest(t, tc.method, tc.path, body))); got != tc.role {
				t.Errorf("missing role %s, want %s", got, tc.role)
			}
			if !strings.HasSuffix(tc.path, "/x") && !strings.HasSuffix(tc.path, "/x/replay") {
				return
			}
			if r := inst.Admin().Send(t, enginetest.JSONRequest(t, tc.method, tc.path, map[string]any{})); r.Status != http.StatusNotFound {
				t.Errorf("the admin, for an unknown id: %d %s, want 404", r.Status, r.Body)
			}
		})
	}
}

// TestWebhookURLRefused: a webhook's URL at a loopback, link-local
// (metadata) or private address not on the allow-list is refused with a
// 400 naming /url, for the bank's webhooks and a consumer's, at creation
// and change, and nothing is stored; so are bad event types, an unknown
// bank and a status other than active.
func TestWebhookURLRefused(t *testing.T) {
	inst := hookEngine(t, enginetest.Configure(func(c *dynapi.Config) { c.Events.CallbackAllow = []string{"127.0.0.2"} }))
	dev := inst.As(inst.CreateUser(t, "dev", "Dev-passw0rd-long"))
	consumer := myConsumer(t, dev, "dev's app")
	allowed := map[string]any{"url": "http://127.0.0.2:9/hooks"}
	for _, owner := range []struct {
		name   string
		caller enginetest.Caller
		base   string
	}{{"bank", inst.Admin(), "/admin/v1/webhooks"}, {"consumer", dev, "/my/consumers/" + consumer + "/webhooks"}} {
		hook := createHook(t, owner.caller, owner.base, allowed)
		for _, tc := range []struct {
			name, pointer string
			body          map[string]any
		}{
			{"loopback", "/url", map[string]any{"url": "http://127.0.0.1:8080/hooks"}},
			{"metadata", "/url", map[string]any{"url": "http://169.254.169.254/latest/meta-data"}},
			{"private", "/url", map[string]any{"url": "http://10.0.0.1/hooks"}},
			{"no url", "/url", map[string]any{"event_types": []string{"*"}}},
			{"empty event type", "/event_types/1", map[string]any{"url": "http://127.0.0.2:9/", "event_types": []string{"*", ""}}},
			{"too many event types", "/event_types", map[string]any{"url": "http://127.0.0.2:9/", "event_types": make([]string, 33)}},
			{"unknown bank", "/bank_id", map[string]any{"url": "http://127.0.0.2:9/", "bank_id": "no-such-bank"}},
		} {
			t.Run(owner.name+" "+tc.name, func(t *testing.T) {
				r := owner.caller.PostJSON(t, owner.base, tc.body)
				if r.Status != http.StatusBadRequest || !hasPointer(r.Problem(t), tc.pointer) {
					t.Errorf("create: %d %s, want 400 naming %s", r.Status, r.Body, tc.pointer)
				}
				if _, ok := tc.body["url"]; !ok || tc.pointer != "/url" {
					return
				}
				r = owner.caller.Send(t, enginetest.JSONRequest(t, http.MethodPut, owner.base+"/"+hook.ID, tc.body))
				if r.Status != http.StatusBadRequest || !hasPointer(r.Problem(t), tc.pointer) {
					t.Errorf("change: %d %s, want 400 naming %s", r.Status, r.Body, tc.pointer)
				}
			})
		}
		t.Run(owner.name+" unchanged", func(t *testing.T) {
			list := decode[struct{ Webhooks []webhook }](t, owner.caller.Get(t, owner.base)).Webhooks
			if len(list) != 1 || list[0].URL != allowed["url"] {
				t.Errorf("webhooks %+v: want the one allowed, unchanged", list)
			}
		})
	}
}

// hasPointer tells whether p has a violation at pointer.
func hasPointer(p server.Problem, pointer string) bool {
	return slices.ContainsFunc(p.Violations, func(v engine.Violation) bool { return v.Pointer == pointer })
}
