package consent

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

// Codes of refusals of Berlin Group authorisations (engine.Error.Code).
const (
	// CodeConsentAuthorisationUnsupported: the authorisation asked for is
	// not offered (redirect without a TPP-Redirect-URI, a bank-offered
	// consent embedded, an unknown SCA method) (400).
	CodeConsentAuthorisationUnsupported = "consent_authorisation_unsupported"
	// CodeNoAuthoriser: no authorisation server runs Berlin Group
	// authorisations in this engine (501).
	CodeNoAuthoriser = "consent_authoriser_missing"
)

// Headers of Berlin Group requests.
const (
	headerRedirect    = "TPP-Redirect-URI"
	headerNokRedirect = "TPP-Nok-Redirect-URI"
	// headerNotification is where the TPP would have status changes
	// pushed; a URI the TPP did not register is ignored, as the standard
	// lets the bank do.
	headerNotification = "TPP-Notification-URI"
	// headerNotificationSupport tells the TPP whether it was kept.
	headerNotificationSupport = "ASPSP-Notification-Support"
	headerPSUID               = "PSU-ID"
	headerPSUIP               = "PSU-IP-Address"
	headerConsentID           = "Consent-ID"
)

// berlinResource answers the operations of a Berlin Group document the
// profile binds to anything but use: the consent (create, get, status,
// delete) and its authorisations, in NextGenPSD2's shapes.
type berlinResource struct {
	*resource
	authoriser    func() BerlinAuthoriser
	notifications NotificationPolicy
}

// Invoke answers the call, or refuses it: the route renders the refusal
// as tppMessages (Profile.RenderError).
func (r *berlinResource) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	if call.Principal == nil || call.Principal.ConsumerID == "" {
		return nil, engine.NewError(http.StatusForbidden, CodeConsentMissingTPP,
			"consents are created and read by a TPP: the caller acts through no consumer")
	}
	who := audit.Actor{UserID: call.Principal.UserID, ConsumerID: call.Principal.ConsumerID, CorrelationID: call.CorrelationID}
	by := BerlinCaller{ConsumerID: who.ConsumerID, Address: header(call, headerPSUIP), CorrelationID: call.CorrelationID}
	if r.bind.Action == ActionCreate {
		return r.create(ctx, call, who, by)
	}
	c, err := r.berlinOwned(ctx, call)
	if err != nil {
		return nil, err
	}
	self := baseURL(call) + r.consentPath(call, c.ID)
	switch r.bind.Action {
	case ActionGet:
		return r.information(c, self)
	case ActionStatus:
		return jsonReply(http.StatusOK, map[string]any{"consentStatus": r.profile.renderedStatus(c)})
	case ActionDelete:
		if c.Status == Deleted {
			return nil, statusConflict(c, "deleted", AwaitingAuthorisation, Authorised)
		}
		if err := r.svc.Delete(ctx, c.ID, c.Revision, who); err != nil {
			return nil, err
		}
		return &engine.Reply{Status: http.StatusNoContent}, nil
	}
	if c.Status == Deleted {
		return nil, r.berlinUnknown(c.ID)
	}
	return r.authorisation(ctx, call, c, self, by)
}

// berlinOwned is the consent the call's path names, when it is the
// caller's: an unknown one and another TPP's are alike a 403
// CONSENT_UNKNOWN, as Berlin Group answers both. A consent its TPP
// deleted is still shown (terminatedByTpp).
func (r *berlinResource) berlinOwned(ctx context.Context, call *engine.Call) (*Consent, error) {
	id := pathValue(r.op, call, r.bind.IDParam)
	c, err := r.svc.Get(ctx, id)
	switch {
	case notFound(err):
		return nil, r.berlinUnknown(id)
	case err != nil:
		return nil, err
	case c.Kind != r.profile.Kind || c.BankID != r.bankID || c.ConsumerID != call.Principal.ConsumerID:
		return nil, r.berlinUnknown(id)
	}
	return c, nil
}

// berlinUnknown is the 403 of a consent the caller may not see.
func (r *berlinResource) berlinUnknown(id string) error {
	return engine.NewError(http.StatusForbidden, CodeConsentUnknown, "no consent "+id+" of yours here",
		engine.Violation{Location: "path", Pointer: "/" + r.bind.IDParam, Code: "resource_not_found", Message: "no consent " + id})
}

// create stores the consent, awaiting authorisation, and starts its
// authorisation by redirect when the TPP gave TPP-Redirect-URI (checked,
// as TPP-Nok-Redirect-URI is, against the TPP's registered redirect URIs
// before anything is stored); otherwise the TPP starts an embedded one.
func (r *berlinResource) create(ctx context.Context, call *engine.Call, who audit.Actor, by BerlinCaller) (*engine.Reply, error) {
	ok, nok := header(call, headerRedirect), header(call, headerNokRedirect)
	if ok != "" || nok != "" {
		a, err := r.berlin()
		if err != nil {
			return nil, err
		}
		if ok == "" {
			return nil, engine.NewError(http.StatusBadRequest, CodeConsentRule, "TPP-Nok-Redirect-URI is given without TPP-Redirect-URI",
				engine.Violation{Location: "header", Pointer: "/" + headerRedirect, Code: "required", Message: "TPP-Redirect-URI is missing"})
		}
		for _, h := range []struct{ name, uri string }{{headerRedirect, ok}, {headerNokRedirect, nok}} {
			if h.uri == "" {
				continue
			}
			if err := a.CheckRedirect(ctx, who.ConsumerID, h.uri); err != nil {
				return nil, engine.NewError(http.StatusBadRequest, CodeConsentRule, h.name+" is not one of your registered redirect URIs",
					engine.Violation{Location: "header", Pointer: "/" + h.name, Code: "invalid", Message: engine.AsError(err).Message})
			}
		}
	}
	c := &Consent{Kind: r.profile.Kind, ProfileID: r.profile.ID, EndpointID: r.endpointID, BankID: r.bankID, ConsumerID: who.ConsumerID}
	if err := newBerlinConsent(c, call.Body, r.svc.now()); err != nil {
		return nil, err
	}
	notify := header(call, headerNotification)
	if notify != "" && r.notifications != nil && r.notifications.AcceptNotification(ctx, who.ConsumerID, notify) {
		c.NotificationURI = notify
	}
	if err := r.svc.Create(ctx, c, who); err != nil {
		return nil, err
	}
	self := baseURL(call) + r.consentPath(call, c.ID)
	out := map[string]any{"consentStatus": r.profile.renderedStatus(c), "consentId": c.ID}
	links := map[string]any{"self": href(self), "status": href(self + "/status")}
	if ok != "" {
		a, _ := r.berlin()
		started, err := a.StartRedirect(ctx, c, ok, nok, by)
		if err != nil {
			return nil, err
		}
		links["scaRedirect"] = href(baseURL(call) + started.Link)
		links["scaStatus"] = href(self + "/authorisations/" + started.ID)
	} else {
		links["startAuthorisationWithPsuAuthentication"] = href(self + "/authorisations")
	}
	out["_links"] = links
	reply, err := jsonReply(http.StatusCreated, out)
	if err == nil && notify != "" {
		reply.Headers = map[string]string{headerNotificationSupport: strconv.FormatBool(c.NotificationURI != "")}
	}
	return reply, err
}

// information is the consent as getConsentInformation shows it: its
// access as requested, its terms, its status and the date it last
// changed.
func (r *berlinResource) information(c *Consent, self string) (*engine.Reply, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(c.Request, &req); err != nil {
		return nil, engine.Internal(err)
	}
	out := map[string]any{"access": req["access"], "recurringIndicator": c.Recurring, "validUntil": req["validUntil"],
		"frequencyPerDay": req["frequencyPerDay"], "lastActionDate": c.StatusAt.UTC().Format(time.DateOnly),
		"consentStatus": r.profile.renderedStatus(c), "_links": map[string]any{"self": href(self), "status": href(self + "/status")}}
	return jsonReply(http.StatusOK, out)
}

// consentPath is the path of consent id: the request's own path up to
// and with the consent, or, at creation, the request's path and the id.
func (r *berlinResource) consentPath(call *engine.Call, id string) string {
	if call.HTTP == nil {
		return "/" + id
	}
	p := call.HTTP.Path()
	if r.bind.Action == ActionCreate {
		return p + "/" + id
	}
	for i := len(p) - len(id); i >= 0; i-- {
		if p[i:i+len(id)] == id {
			return p[:i+len(id)]
		}
	}
	return p
}

// berlin is the engine's authoriser of Berlin Group consents, or a 501
// when it runs none.
func (r *berlinResource) berlin() (BerlinAuthoriser, error) {
	if r.authoriser != nil {
		if a := r.authoriser(); a != nil {
			return a, nil
		}
	}
	return nil, engine.NewError(http.StatusNotImplemented, CodeNoAuthoriser, "this engine runs no Berlin Group authorisations")
}

// href is a Berlin Group link.
func href(u string) map[string]string { return map[string]string{"href": u} }

// header is request header name of call, "" when absent.
func header(call *engine.Call, name string) string {
	if call.HTTP == nil {
		return ""
	}
	v, _ := call.HTTP.Header(name)
	return v
}

// jsonReply is v as a JSON answer with status.
func jsonReply(status int, v any) (*engine.Reply, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json; charset=utf-8", Body: body}, nil
}
