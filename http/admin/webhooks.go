package admin

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/events"
)

// SignatureScheme is the Standard Webhooks signature scheme of
// webhook-signature: an Ed25519 signature, verified with the public key.
const SignatureScheme = "v1a"

// webhookPointers are where a webhook's body names its URL and event
// types, for the violations that name them.
var webhookPointers = events.Pointers{URL: "/url", EventTypes: "/event_types"}

// registerWebhooks mounts the bank systems' webhooks under /admin/v1.
func (a *API) registerWebhooks(r routes) {
	if a.Events == nil {
		return
	}
	bank := func(*fiber.Ctx) (string, error) { return events.OwnerBank, nil }
	a.webhookRoutes(r, "/webhooks", bank, authz.RoleCanManageWebhooks)
}

// registerMyWebhooks mounts a TPP developer's webhooks for each of their
// consumers under /my: any logged-in caller, for the consumers they
// created (another's is a 404).
func (a *API) registerMyWebhooks(r routes) {
	if a.Events == nil {
		return
	}
	a.webhookRoutes(r, "/consumers/:consumer_id/webhooks", a.ownConsumer)
}

// webhookRoutes mounts create, list, get, change and delete of the
// webhooks at base of the owner ownerOf names, for callers holding any
// one of roles system wide (any logged-in caller when none).
func (a *API) webhookRoutes(r routes, base string, ownerOf func(*fiber.Ctx) (string, error), roles ...string) {
	w := webhooks{events: a.Events, keys: a.Events.WebhookKeys(), banks: a.Access.Banks.Exists, ownerOf: ownerOf}
	r.taking(bodyOf[newWebhook]()).system(fiber.MethodPost, base, w.create, roles...)
	r.system(fiber.MethodGet, base, w.list, roles...)
	r.system(fiber.MethodGet, base+"/:id", w.get, roles...)
	r.taking(bodyOf[webhookChange]()).system(fiber.MethodPut, base+"/:id", w.change, roles...)
	r.system(fiber.MethodDelete, base+"/:id", w.delete, roles...)
}

// ownConsumer is the owner of the request's /my/consumers/{consumer_id}
// resources: the consumer's id when the caller created it, else the 404
// of an unknown consumer.
func (a *API) ownConsumer(c *fiber.Ctx) (string, error) {
	id := param(c, "consumer_id")
	con, err := a.Access.Identity.Consumer(c.UserContext(), id)
	if err != nil {
		return "", err
	}
	if p := principal(c); p.UserID == "" || con.CreatedBy != p.UserID {
		return "", notFound("consumer", id)
	}
	return con.ID, nil
}

// webhooks answers the webhook routes of one kind of owner.
type webhooks struct {
	events *events.Service
	keys   *events.WebhookKeys
	// banks tells whether a bank exists.
	banks func(id string) bool
	// ownerOf is the owner of the request's webhooks: events.OwnerBank
	// or a consumer id.
	ownerOf func(*fiber.Ctx) (string, error)
}

// newWebhook is the body of a webhook's creation.
type newWebhook struct {
	URL string `json:"url"`
	// EventTypes: engine types ("record.created"), "prefix.*" or "*";
	// all when empty.
	EventTypes []string `json:"event_types"`
	// BankID narrows the webhook to one bank's events.
	BankID string `json:"bank_id"`
}

// webhookChange is the body of a webhook's change: absent members stay.
type webhookChange struct {
	URL        *string   `json:"url"`
	EventTypes *[]string `json:"event_types"`
	// Status "active" enables a disabled webhook again.
	Status string `json:"status"`
}

// webhookView is a webhook with the key its deliveries are signed with.
type webhookView struct {
	*events.Subscription
	// PublicKey verifies webhook-signature ("whpk_" and base64); KeyID
	// names it in /.well-known/jwks.json.
	PublicKey       string `json:"public_key"`
	KeyID           string `json:"key_id"`
	SignatureScheme string `json:"signature_scheme"`
}

// view is sub as its owner reads it.
func (w webhooks) view(sub *events.Subscription) webhookView {
	return webhookView{Subscription: sub, PublicKey: w.keys.PublicKey(), KeyID: w.keys.KeyID(), SignatureScheme: SignatureScheme}
}

func (w webhooks) create(c *fiber.Ctx) error {
	owner, err := w.ownerOf(c)
	if err != nil {
		return err
	}
	in := decoded[newWebhook](c)
	if in.BankID != "" && !w.banks(in.BankID) {
		return engine.NewError(http.StatusBadRequest, events.CodeInvalidSubscription, "the webhook cannot be made",
			engine.Violation{Location: "body", Pointer: "/bank_id", Code: "unknown", Message: "no bank has this id"})
	}
	sub, err := w.events.Subscribe(c.UserContext(), actor(c), events.NewSubscription{Kind: events.KindWebhook,
		ConsumerID: owner, BankID: in.BankID, URL: in.URL, EventTypes: in.EventTypes}, webhookPointers)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(w.view(sub))
}

func (w webhooks) list(c *fiber.Ctx) error {
	owner, err := w.ownerOf(c)
	if err != nil {
		return err
	}
	subs, err := w.events.Subscriptions(c.UserContext(), owner, events.KindWebhook)
	if err != nil {
		return err
	}
	out := make([]webhookView, len(subs))
	for i, sub := range subs {
		out[i] = w.view(sub)
	}
	return c.JSON(fiber.Map{"webhooks": out})
}

// find is the owner of the request and its webhook named by the path,
// or the 404 of an unknown webhook.
func (w webhooks) find(c *fiber.Ctx) (string, *events.Subscription, error) {
	owner, err := w.ownerOf(c)
	if err != nil {
		return "", nil, err
	}
	id := param(c, "id")
	sub, err := w.events.Subscription(c.UserContext(), owner, id)
	if err == nil && sub.Kind != events.KindWebhook {
		err = engine.ErrNotFound
	}
	return owner, sub, notFoundAs(err, "webhook", id)
}

func (w webhooks) get(c *fiber.Ctx) error {
	_, sub, err := w.find(c)
	if err != nil {
		return err
	}
	return c.JSON(w.view(sub))
}

func (w webhooks) change(c *fiber.Ctx) error {
	in := decoded[webhookChange](c)
	if in.Status != "" && in.Status != events.SubscriptionActive {
		return engine.NewError(http.StatusBadRequest, events.CodeInvalidSubscription, "the webhook cannot be changed",
			engine.Violation{Location: "body", Pointer: "/status", Code: "enum", Message: `status can only be set to "active"`})
	}
	owner, sub, err := w.find(c)
	if err != nil {
		return err
	}
	sub, err = w.events.ChangeSubscription(c.UserContext(), actor(c), owner, sub.ID, events.SubscriptionChange{
		URL: in.URL, EventTypes: in.EventTypes, Enable: in.Status == events.SubscriptionActive}, webhookPointers)
	if err != nil {
		return notFoundAs(err, "webhook", param(c, "id"))
	}
	return c.JSON(w.view(sub))
}

func (w webhooks) delete(c *fiber.Ctx) error {
	owner, sub, err := w.find(c)
	if err != nil {
		return err
	}
	if err := w.events.Unsubscribe(c.UserContext(), actor(c), owner, sub.ID); err != nil {
		return notFoundAs(err, "webhook", sub.ID)
	}
	return c.SendStatus(http.StatusNoContent)
}

// notFoundAs is err, with engine.ErrNotFound made the 404 of the unknown what
// id.
func notFoundAs(err error, what, id string) error {
	if errors.Is(err, engine.ErrNotFound) {
		return notFound(what, id)
	}
	return err
}
