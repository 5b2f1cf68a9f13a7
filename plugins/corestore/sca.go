package corestore

import (
	"context"

	"github.com/dynapi/dynapi/engine/banking"
)

// SendScaChallenge answers sendScaChallenge by logging the code at info
// level ("SCA code for consent ..."), for development: a bank routes the
// method to its SMS gateway (JavaScript or REST routing) instead.
func (c *Connector) SendScaChallenge(ctx context.Context, ch banking.ScaChallenge) (banking.ScaDelivery, error) {
	c.log.InfoContext(ctx, "SCA code for consent "+ch.ConsentID, "consent_id", ch.ConsentID, "user_id", ch.UserID,
		"channel", ch.Channel, "code", ch.Code)
	return banking.ScaDelivery{Delivered: true}, nil
}
