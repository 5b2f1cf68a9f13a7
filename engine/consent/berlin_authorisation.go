package consent

import (
	"context"
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// otpLength is the length of the one-time codes sent (challengeData).
const otpLength = 6

// authorisation answers the authorisation sub-resources of consent c,
// whose URL is self: start one (embedded with PSU-ID and psuData.password,
// by redirect otherwise), list them, read one, and advance an embedded one
// (choose the SCA method, then answer the one-time code).
func (r *berlinResource) authorisation(ctx context.Context, call *engine.Call, c *Consent, self string, by BerlinCaller) (*engine.Reply, error) {
	a, err := r.berlin()
	if err != nil {
		return nil, err
	}
	body, _ := call.Body.(map[string]any)
	switch r.bind.Action {
	case ActionStartAuthorisation:
		return r.start(ctx, call, a, c, self, by, body)
	case ActionListAuthorisations:
		ids, err := a.Authorisations(ctx, c.ID, by)
		if err != nil {
			return nil, err
		}
		if ids == nil {
			ids = []string{}
		}
		return jsonReply(http.StatusOK, map[string]any{"authorisationIds": ids})
	}
	id := pathValue(r.op, call, r.bind.AuthorisationParam)
	at := self + "/authorisations/" + id
	if r.bind.Action == ActionGetAuthorisation {
		got, err := a.Authorisation(ctx, c.ID, id, by)
		if err != nil {
			return nil, err
		}
		return jsonReply(http.StatusOK, map[string]any{"scaStatus": got.ScaStatus})
	}
	method, _ := body["authenticationMethodId"].(string)
	code, _ := body["scaAuthenticationData"].(string)
	switch {
	case method != "":
		got, err := a.SelectMethod(ctx, c.ID, id, method, by)
		if err != nil {
			return nil, err
		}
		return jsonReply(http.StatusOK, map[string]any{"scaStatus": got.ScaStatus, "chosenScaMethod": scaMethod(got.Chosen),
			"challengeData": map[string]any{"otpMaxLength": otpLength, "otpFormat": "integer"},
			"_links":        map[string]any{"authoriseTransaction": href(at), "scaStatus": href(at)}})
	case code != "":
		got, err := a.SubmitCode(ctx, c.ID, id, code, by)
		if err != nil {
			return nil, err
		}
		return jsonReply(http.StatusOK, map[string]any{"scaStatus": got.ScaStatus, "_links": map[string]any{"scaStatus": href(at)}})
	}
	return nil, engine.NewError(http.StatusBadRequest, CodeConsentAuthorisationUnsupported,
		"an authorisation is advanced with authenticationMethodId, then scaAuthenticationData; psuData is given when it is started",
		engine.Violation{Location: "body", Pointer: "/", Code: "invalid", Message: "give authenticationMethodId or scaAuthenticationData"})
}

// start starts an authorisation of c: embedded when the TPP passes the
// customer's PSU-ID and password, by redirect otherwise.
func (r *berlinResource) start(ctx context.Context, call *engine.Call, a BerlinAuthoriser, c *Consent, self string,
	by BerlinCaller, body map[string]any) (*engine.Reply, error) {
	psuData, _ := body["psuData"].(map[string]any)
	password, _ := psuData["password"].(string)
	if password == "" {
		started, err := a.StartRedirect(ctx, c, "", "", by)
		if err != nil {
			return nil, err
		}
		at := self + "/authorisations/" + started.ID
		return jsonReply(http.StatusCreated, map[string]any{"scaStatus": started.ScaStatus, "authorisationId": started.ID,
			"_links": map[string]any{"scaRedirect": href(baseURL(call) + started.Link), "scaStatus": href(at)}})
	}
	psuID := header(call, headerPSUID)
	if psuID == "" {
		return nil, engine.NewError(http.StatusBadRequest, CodeConsentRule, "an embedded authorisation names the customer in PSU-ID",
			engine.Violation{Location: "header", Pointer: "/" + headerPSUID, Code: "required", Message: "PSU-ID is missing"})
	}
	started, err := a.StartEmbedded(ctx, c, psuID, password, by)
	if err != nil {
		return nil, err
	}
	at := self + "/authorisations/" + started.ID
	methods := make([]map[string]string, len(started.Methods))
	for i, m := range started.Methods {
		methods[i] = scaMethod(m)
	}
	return jsonReply(http.StatusCreated, map[string]any{"scaStatus": started.ScaStatus, "authorisationId": started.ID,
		"scaMethods": methods, "_links": map[string]any{"selectAuthenticationMethod": href(at), "scaStatus": href(at)}})
}

// scaMethod is SCA method id as Berlin Group's authenticationObject.
func scaMethod(id string) map[string]string {
	return map[string]string{"authenticationType": id, "authenticationMethodId": id, "name": "One-time code by SMS"}
}
