package consent

import (
	"encoding/json"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/textcut"
)

// berlinCode is the status and Berlin Group message code a refusal is
// answered with.
type berlinCode struct {
	status int
	code   string
}

// berlinCodes are the Berlin Group answers of dynapi's refusals (design
// §7.5): BG's 403 set is only CONSENT_UNKNOWN SERVICE_BLOCKED
// RESOURCE_UNKNOWN RESOURCE_EXPIRED, so what UK answers 403 is a 401
// CONSENT_INVALID here.
var berlinCodes = map[string]berlinCode{
	CodeConsentMissing:                  {http.StatusBadRequest, "FORMAT_ERROR"},
	CodeConsentUnknown:                  {http.StatusForbidden, "CONSENT_UNKNOWN"},
	CodeConsentNotYours:                 {http.StatusForbidden, "CONSENT_UNKNOWN"},
	CodeConsentNotAuthorised:            {http.StatusUnauthorized, "CONSENT_INVALID"},
	CodeConsentRevoked:                  {http.StatusUnauthorized, "CONSENT_INVALID"},
	CodeConsentPermissionMissing:        {http.StatusUnauthorized, "CONSENT_INVALID"},
	CodeConsentAccountOutOfScope:        {http.StatusUnauthorized, "CONSENT_INVALID"},
	CodeConsentExpired:                  {http.StatusUnauthorized, "CONSENT_EXPIRED"},
	CodeConsentUsageExceeded:            {http.StatusTooManyRequests, "ACCESS_EXCEEDED"},
	CodeConsentStatus:                   {http.StatusConflict, "STATUS_INVALID"},
	CodeConsentRule:                     {http.StatusBadRequest, "FORMAT_ERROR"},
	CodeConsentAuthorisationUnsupported: {http.StatusBadRequest, "FORMAT_ERROR"},
	CodePSUCredentialsInvalid:           {http.StatusUnauthorized, "PSU_CREDENTIALS_INVALID"},
}

// berlinByStatus are the Berlin Group codes of the other refusals, by
// HTTP status.
var berlinByStatus = map[int]string{
	http.StatusBadRequest:       "FORMAT_ERROR",
	http.StatusUnauthorized:     "TOKEN_INVALID",
	http.StatusForbidden:        "SERVICE_BLOCKED",
	http.StatusNotFound:         "RESOURCE_UNKNOWN",
	http.StatusMethodNotAllowed: "SERVICE_INVALID",
	http.StatusConflict:         "STATUS_INVALID",
	http.StatusTooManyRequests:  "ACCESS_EXCEEDED",
}

// CodePSUCredentialsInvalid: the customer's password or one-time code is
// wrong (401; Berlin Group PSU_CREDENTIALS_INVALID).
const CodePSUCredentialsInvalid = "psu_credentials_invalid"

// renderBerlinError is e as Berlin Group's tppMessages: one ERROR message
// per violation (or one for e), with the standard's code, the field's
// path and the explanation, dynapi's code first in it.
func renderBerlinError(e *engine.Error) *engine.Reply {
	bc, ok := berlinCodes[e.Code]
	if !ok {
		bc = berlinCode{e.Status, berlinByStatus[e.Status]}
		if bc.code == "" {
			bc.code = "FORMAT_ERROR"
			if e.Status >= http.StatusInternalServerError {
				bc.code = "INTERNAL_SERVER_ERROR"
			}
		}
	}
	type tppMessage struct {
		Category string `json:"category"`
		Code     string `json:"code"`
		Path     string `json:"path,omitempty"`
		Text     string `json:"text"`
	}
	var out struct {
		TPPMessages []tppMessage `json:"tppMessages"`
	}
	for _, v := range e.Violations {
		out.TPPMessages = append(out.TPPMessages, tppMessage{Category: "ERROR", Code: bc.code, Path: fieldPath(v.Pointer),
			Text: textcut.Bytes(e.Code+": "+v.Message, 500)})
	}
	if len(out.TPPMessages) == 0 {
		out.TPPMessages = []tppMessage{{Category: "ERROR", Code: bc.code, Text: textcut.Bytes(e.Code+": "+e.Message, 500)}}
	}
	body, _ := json.Marshal(out) // strings only: cannot fail
	return &engine.Reply{Status: bc.status, ContentType: "application/json; charset=utf-8", Body: body, RetryAfter: e.RetryAfter}
}
