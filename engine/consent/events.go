package consent

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// consentChange is what an event about a consent says.
type consentChange struct {
	ConsentID string   `json:"consent_id"`
	Kind      string   `json:"kind"`
	ProfileID string   `json:"profile_id"`
	From      Status   `json:"from,omitempty"`
	To        Status   `json:"to"`
	Reason    string   `json:"reason,omitempty"`
	Actor     string   `json:"actor,omitempty"`
	Accounts  []string `json:"accounts,omitempty"`
}

// emitChanges writes in tx, the transaction that stores c, one event for
// each entry of c's history from since on (the entries this transaction
// adds): consent.created for its first, consent.status_changed for a
// change of status, and consent.accounts_changed for an authorised
// consent whose accounts are no longer accounts (those it had before).
func emitChanges(tx engine.Tx, c *Consent, since int, accounts []string, now time.Time) error {
	for _, h := range c.History[since:] {
		var typ string
		switch {
		case h.From == "":
			typ = events.TypeConsentCreated
		case h.From != h.To:
			typ = events.TypeConsentStatusChanged
		case h.To == Authorised && !slices.Equal(accounts, c.Accounts):
			typ = events.TypeConsentAccountsChanged
		default:
			continue
		}
		data, err := json.Marshal(consentChange{ConsentID: c.ID, Kind: c.Kind, ProfileID: c.ProfileID, From: h.From, To: h.To,
			Reason: h.Reason, Actor: h.Actor, Accounts: c.Accounts})
		if err != nil {
			return err
		}
		ev := &events.Event{Type: typ, Subject: "consents/" + c.ID, BankID: c.BankID, ConsumerID: c.ConsumerID,
			OccurredAt: h.At, CorrelationID: h.CorrelationID, Data: data, Resource: c.Resource}
		if err := events.Emit(tx, ev, now); err != nil {
			return err
		}
	}
	return nil
}
