package consent

import "context"

// BerlinAuthoriser runs the authorisations of Berlin Group consents, the
// consent's authorisation sub-resources (engine/consentauth implements
// it). Each call names the TPP (consumerID) acting, and refuses an
// authorisation of another TPP or another consent as unknown.
type BerlinAuthoriser interface {
	// CheckRedirect refuses uri unless it is one of the redirect URIs
	// the TPP consumerID registered (exact match).
	CheckRedirect(ctx context.Context, consumerID, uri string) error
	// StartRedirect starts an authorisation of consent c by redirect: the
	// customer follows Link to the bank's pages, and is sent back to ok
	// (or nok, when refused or failed; ok when nok is "").
	StartRedirect(ctx context.Context, c *Consent, ok, nok string, by BerlinCaller) (*BerlinAuthorisation, error)
	// StartEmbedded starts an authorisation of consent c by the TPP for
	// the customer psuID, whose password it passes on: a wrong one is a
	// 401 and starts nothing.
	StartEmbedded(ctx context.Context, c *Consent, psuID, password string, by BerlinCaller) (*BerlinAuthorisation, error)
	// Authorisations lists the ids of the authorisations of consent
	// consentID, oldest first.
	Authorisations(ctx context.Context, consentID string, by BerlinCaller) ([]string, error)
	// Authorisation reads authorisation id of consent consentID.
	Authorisation(ctx context.Context, consentID, id string, by BerlinCaller) (*BerlinAuthorisation, error)
	// SelectMethod chooses the SCA method methodID of an embedded
	// authorisation: the one-time code is sent.
	SelectMethod(ctx context.Context, consentID, id, methodID string, by BerlinCaller) (*BerlinAuthorisation, error)
	// SubmitCode checks the one-time code of an embedded authorisation: a
	// right one authorises the consent.
	SubmitCode(ctx context.Context, consentID, id, code string, by BerlinCaller) (*BerlinAuthorisation, error)
}

// BerlinCaller is the TPP acting on a Berlin Group authorisation, and the
// request's address (PSU-IP-Address when given) and correlation id.
type BerlinCaller struct {
	ConsumerID, Address, CorrelationID string
}

// BerlinAuthorisation is one authorisation of a Berlin Group consent.
type BerlinAuthorisation struct {
	ID string
	// ScaStatus is the step it is at, in Berlin Group's words.
	ScaStatus string
	// Link is where the customer's browser goes to authorise (redirect):
	// a path on the engine.
	Link string
	// Methods are the SCA methods the customer may choose (embedded, once
	// authenticated); Chosen the one chosen.
	Methods []string
	Chosen  string
}

// SCA methods of an embedded authorisation: a one-time code by SMS.
const ScaMethodSMS = "SMS_OTP"

// NotificationPolicy decides whether a TPP may have a consent's status
// changes pushed to a URI (Berlin Group TPP-Notification-URI): the URI is
// at one of the hosts the TPP registered for callbacks, and reaches no
// address the bank keeps private.
type NotificationPolicy interface {
	AcceptNotification(ctx context.Context, consumerID, uri string) bool
}
