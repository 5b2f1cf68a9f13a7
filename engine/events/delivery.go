package events

import (
	"fmt"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Channels a delivery goes by.
const (
	// ChannelUK: a UK Open Banking SET, pushed and pollable.
	ChannelUK = "uk-ob"
	// ChannelWebhook: a Standard Webhooks message.
	ChannelWebhook = "webhook"
	// ChannelNotify: an event's Notify URL (Berlin Group
	// TPP-Notification-URI).
	ChannelNotify = "notify"
)

// Statuses of a delivery.
const (
	// DeliveryPending: to be attempted at NextAttemptAt (or, for a UK
	// event without a callback, only polled).
	DeliveryPending = "pending"
	// DeliveryDelivered: the receiver took it (2xx).
	DeliveryDelivered = "delivered"
	// DeliveryAcknowledged: the TPP acknowledged it by polling (ack or
	// setErrs).
	DeliveryAcknowledged = "acknowledged"
	// DeliveryDead: every attempt failed; an admin may replay it.
	DeliveryDead = "dead"
	// DeliveryCancelled: its subscription was deleted or disabled (410)
	// before it was delivered.
	DeliveryCancelled = "cancelled"
)

// Delivery is one event on its way to one receiver. Its ID is the same on
// every attempt: webhook-id for webhooks, the SET's jti for UK events.
type Delivery struct {
	ID             string `json:"id"`
	EventID        string `json:"event_id"`
	EventType      string `json:"event_type"`
	Subject        string `json:"subject"`
	SubscriptionID string `json:"subscription_id,omitempty"`
	Channel        string `json:"channel"`
	ConsumerID     string `json:"consumer_id,omitempty"`
	BankID         string `json:"bank_id,omitempty"`
	// URL is where it is pushed, "" for a UK event only polled.
	URL         string `json:"url,omitempty"`
	ContentType string `json:"content_type"`
	// Payload is the body sent (a SET for UK events).
	Payload string `json:"payload"`
	Status  string `json:"status"`
	// Attempts counts the attempts of the current schedule, which began
	// at ScheduledAt (creation, or an admin's replay).
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	// LastStatus is the receiver's last HTTP status (0: none), LastError
	// what went wrong last.
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ScheduledAt time.Time `json:"scheduled_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Buckets of deliveries and their indexes.
const (
	deliveriesBucket = "event_deliveries"
	// dueBucket: "{unix nanos}/{id}" of pending deliveries with a next
	// attempt, in time order.
	dueBucket = "event_due"
	// pollBucket: "{consumer}/{id}" of UK events not yet taken.
	pollBucket = "event_poll"
	// bySubscriptionBucket: "{subscription}/{id}".
	bySubscriptionBucket = "event_by_subscription"
	// deadBucket: "{id}" of dead deliveries.
	deadBucket = "event_dead"
)

// dueKey orders deliveries by their next attempt.
func dueKey(at time.Time, id string) string { return fmt.Sprintf("%020d/%s", at.UnixNano(), id) }

// pollable tells whether d is a UK event the TPP may still poll.
func (d *Delivery) pollable() bool {
	return d.Channel == ChannelUK && d.Status != DeliveryDelivered && d.Status != DeliveryAcknowledged
}

// indexKeys are the index entries d has in its state.
func (d *Delivery) indexKeys() [][2]string {
	var keys [][2]string
	if d.Status == DeliveryPending && d.NextAttemptAt != nil {
		keys = append(keys, [2]string{dueBucket, dueKey(*d.NextAttemptAt, d.ID)})
	}
	if d.pollable() {
		keys = append(keys, [2]string{pollBucket, d.ConsumerID + "/" + d.ID})
	}
	if d.SubscriptionID != "" {
		keys = append(keys, [2]string{bySubscriptionBucket, d.SubscriptionID + "/" + d.ID})
	}
	if d.Status == DeliveryDead {
		keys = append(keys, [2]string{deadBucket, d.ID})
	}
	return keys
}

// save stores d and moves its index entries from those of prev (nil for
// a new delivery) to its own.
func save(tx engine.Tx, d, prev *Delivery) error {
	if prev != nil {
		for _, k := range prev.indexKeys() {
			if err := tx.Delete(k[0], k[1]); err != nil {
				return err
			}
		}
	}
	for _, k := range d.indexKeys() {
		if err := tx.Put(k[0], k[1], nil); err != nil {
			return err
		}
	}
	return kvjson.Put(tx, deliveriesBucket, d.ID, d)
}

// remove deletes d and its index entries.
func remove(tx engine.Tx, d *Delivery) error {
	for _, k := range d.indexKeys() {
		if err := tx.Delete(k[0], k[1]); err != nil {
			return err
		}
	}
	return tx.Delete(deliveriesBucket, d.ID)
}

// load reads the delivery with id and a copy to pass to save as prev.
func load(tx engine.Tx, id string) (d, prev *Delivery, err error) {
	d, err = kvjson.Get[Delivery](tx, deliveriesBucket, id)
	if err != nil {
		return nil, nil, err
	}
	cp := *d
	return d, &cp, nil
}
