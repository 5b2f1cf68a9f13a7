package obpconsent

import "github.com/dynapi/dynapi/engine/consent"

// statusWords are OBP's words for the canonical statuses; a consent its
// consumer deleted is REVOKED to OBP.
var statusWords = map[consent.Status]string{
	consent.AwaitingAuthorisation: "INITIATED",
	consent.Authorised:            "ACCEPTED",
	consent.Rejected:              "REJECTED",
	consent.Revoked:               "REVOKED",
	consent.Expired:               "EXPIRED",
	consent.Deleted:               "REVOKED",
}

// StatusWord is OBP's word for status.
func StatusWord(status consent.Status) string { return statusWords[status] }
