package admin

import (
	"net/http"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/events"
)

// deliveryStatuses are the statuses ?status= may name.
var deliveryStatuses = []string{events.DeliveryPending, events.DeliveryDelivered, events.DeliveryAcknowledged,
	events.DeliveryDead, events.DeliveryCancelled}

// maxCursorBytes bounds ?after= and ?subscription_id=, which are ids.
const maxCursorBytes = 64

// registerDeliveries mounts the bank's view of every event delivery under
// /admin/v1: list, one with its payload, the counters, and replay of a
// dead one.
func (a *API) registerDeliveries(r routes) {
	if a.Events == nil {
		return
	}
	all := func(*fiber.Ctx) (string, error) { return events.OwnerAll, nil }
	d := deliveries{events: a.Events, ownerOf: all}
	r.system(fiber.MethodGet, "/event-deliveries", d.list, authz.RoleCanGetEventDeliveries)
	r.system(fiber.MethodGet, "/event-deliveries/stats", d.stats, authz.RoleCanGetEventDeliveries)
	r.system(fiber.MethodGet, "/event-deliveries/:id", d.get, authz.RoleCanGetEventDeliveries)
	r.system(fiber.MethodPost, "/event-deliveries/:id/replay", d.replay, authz.RoleCanReplayEventDeliveries)
}

// registerMyDeliveries mounts, under /my, the deliveries to the webhooks
// of a consumer the caller created (another's consumer is a 404).
func (a *API) registerMyDeliveries(r routes) {
	if a.Events == nil {
		return
	}
	d := deliveries{events: a.Events, ownerOf: a.ownConsumer}
	r.loggedIn(fiber.MethodGet, "/consumers/:consumer_id/event-deliveries", d.list)
	r.loggedIn(fiber.MethodGet, "/consumers/:consumer_id/event-deliveries/:id", d.get)
}

// deliveries answers the delivery routes of one kind of owner.
type deliveries struct {
	events *events.Service
	// ownerOf is whose deliveries the request sees: events.OwnerAll or a
	// consumer id.
	ownerOf func(*fiber.Ctx) (string, error)
}

// deliverySummary is a delivery in a list: without its payload, which
// only the delivery's own answer carries.
type deliverySummary struct {
	*events.Delivery
	// Payload, always empty, hides the delivery's.
	Payload string `json:"payload,omitempty"`
}

// list answers a page of deliveries, oldest first, filtered by ?status=
// and ?subscription_id=, after ?after= (a delivery id); next_after, when
// present, is the ?after= of the next page.
func (d deliveries) list(c *fiber.Ctx) error {
	owner, err := d.ownerOf(c)
	if err != nil {
		return err
	}
	f := events.DeliveryFilter{Owner: owner, Status: query(c, "status"), SubscriptionID: query(c, "subscription_id"),
		After: query(c, "after"), Limit: limit(c, 50, events.MaxListDeliveries)}
	if err := checkDeliveryFilter(f); err != nil {
		return err
	}
	list, next, err := d.events.Deliveries(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := make([]deliverySummary, len(list))
	for i, del := range list {
		out[i] = deliverySummary{Delivery: del}
	}
	page := fiber.Map{"deliveries": out}
	if next != "" {
		page["next_after"] = next
	}
	return c.JSON(page)
}

// checkDeliveryFilter refuses a status that is none and ids too long to
// be ids.
func checkDeliveryFilter(f events.DeliveryFilter) error {
	var faults []engine.Violation
	if f.Status != "" && !slices.Contains(deliveryStatuses, f.Status) {
		faults = append(faults, engine.Violation{Location: "query", Pointer: "/status", Code: "enum",
			Message: "status is one of pending, delivered, acknowledged, dead, cancelled"})
	}
	for _, q := range [...][2]string{{"/after", f.After}, {"/subscription_id", f.SubscriptionID}} {
		if len(q[1]) > maxCursorBytes {
			faults = append(faults, engine.Violation{Location: "query", Pointer: q[0], Code: "max_length",
				Message: "an id is at most 64 bytes"})
		}
	}
	if faults != nil {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the deliveries cannot be listed", faults...)
	}
	return nil
}

// get answers one delivery with its payload.
func (d deliveries) get(c *fiber.Ctx) error {
	owner, err := d.ownerOf(c)
	if err != nil {
		return err
	}
	id := param(c, "id")
	del, err := d.events.Delivery(c.UserContext(), owner, id)
	if err != nil {
		return notFoundAs(err, "event delivery", id)
	}
	return c.JSON(del)
}

// replay starts a dead or cancelled delivery's schedule again, due now,
// with the same id.
func (d deliveries) replay(c *fiber.Ctx) error {
	id := param(c, "id")
	del, err := d.events.Replay(c.UserContext(), actor(c), id)
	if err != nil {
		return notFoundAs(err, "event delivery", id)
	}
	return c.JSON(del)
}

// stats answers the delivery counters since start and the queues' depths.
func (d deliveries) stats(c *fiber.Ctx) error {
	snap, err := d.events.Stats(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(snap)
}
