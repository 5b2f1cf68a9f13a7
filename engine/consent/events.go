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
//
// A consent with a NotificationURI (Berlin Group TPP-Notification-URI)
// has each status change pushed there too, in its standard's words.
func (s *Service) emitChanges(tx engine.Tx, c *Consent, since int, accounts []string, now time.Time) error {
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
		if c.NotificationURI != "" && typ == events.TypeConsentStatusChanged {
			if ev.NotifyBody, err = s.notification(c, h.To); err != nil {
				return err
			}
			ev.Notify = c.NotificationURI
		}
		if err := events.Emit(tx, ev, now); err != nil {
			return err
		}
	}
	return nil
}

// notification is the body pushed to a consent's NotificationURI when it
// moved to status to: the consent's id and status in its profile's words
// (Berlin Group consentStatus), and the SCA status that moved it there.
func (s *Service) notification(c *Consent, to Status) (json.RawMessage, error) {
	status := string(to)
	if p, ok := s.profile(c.ProfileID); ok {
		if word, ok := p.Statuses[to]; ok {
			status = word
		}
	}
	body := map[string]string{"consentId": c.ID, "consentStatus": status}
	switch to {
	case Authorised:
		body["scaStatus"] = "finalised"
	case Rejected:
		body["scaStatus"] = "failed"
	}
	return json.Marshal(body)
}

// profile is the profile with id in force, if the service knows the
// profiles (UseProfiles).
func (s *Service) profile(id string) (*Profile, bool) {
	if s.profiles == nil {
		return nil, false
	}
	return s.profiles.Current().Get(id)
}

// UseProfiles lets the service render statuses in the words of the
// consents' profiles where it pushes them (Berlin Group notifications).
// Call it before serving.
func (s *Service) UseProfiles(r *Registry) { s.profiles = r }
