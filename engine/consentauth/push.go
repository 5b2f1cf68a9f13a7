package consentauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// RequestURIPrefix starts every request_uri (RFC 9126 section 2.2).
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// Bounds on pushed parameters.
const (
	maxParam       = 512
	maxClaims      = 4096
	maxScopeLength = 1024
	maxConsentID   = 128
)

// Response types: the authorization code, and OpenID Connect's hybrid
// flow answering an ID token beside it in the fragment.
const (
	ResponseCode        = "code"
	ResponseCodeIDToken = "code id_token"
)

// Scopes are the scopes an authorisation may ask for.
var Scopes = []string{"openid", "accounts", "payments", "fundsconfirmations"}

// consentScopes are the scopes of which an authorisation asks at least
// one: what the consent lets the TPP do.
var consentScopes = []string{"accounts", "payments", "fundsconfirmations"}

// Request is an authorization request as pushed and accepted.
type Request struct {
	// ConsumerID and ClientID (its key) are the TPP's.
	ConsumerID string `json:"consumer_id"`
	ClientID   string `json:"client_id"`
	// ResponseType is ResponseCode ("" in requests stored before it was
	// kept) or ResponseCodeIDToken.
	ResponseType string `json:"response_type,omitempty"`
	RedirectURI  string `json:"redirect_uri"`
	Scope        string `json:"scope"`
	State        string `json:"state,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
	// CodeChallenge is "" when the client's policy let it send none.
	CodeChallenge string `json:"code_challenge"`
	ConsentID     string `json:"consent_id"`
	// Berlin marks a Berlin Group authorisation: no code is issued, the
	// customer goes back to RedirectURI as given, or NokRedirectURI when
	// it failed.
	Berlin         bool   `json:"berlin,omitempty"`
	NokRedirectURI string `json:"nok_redirect_uri,omitempty"`
}

// pushed is a pushed request waiting to be opened.
type pushed struct {
	Request   Request   `json:"request"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Pushed is the answer to a pushed authorization request.
type Pushed struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// Push accepts client's authorization request (RFC 9126): see accept.
// The request_uri answered is single use and lives PushedLifetime.
func (s *Service) Push(ctx context.Context, client *identity.Consumer, params url.Values) (*Pushed, error) {
	req, err := s.accept(ctx, client, params)
	if err != nil {
		return nil, err
	}
	random := random(32)
	row := pushed{Request: req, ExpiresAt: s.now().Add(PushedLifetime)}
	if err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		return kvjson.Put(tx, bucketPushed, hashHex(random), row)
	}); err != nil {
		return nil, engine.Internal(err)
	}
	return &Pushed{RequestURI: RequestURIPrefix + random, ExpiresIn: int(PushedLifetime / time.Second)}, nil
}

// accept checks an authorization request of client, pushed or carried by
// a request object to the authorization endpoint alike: its parameters,
// or those of its request object (see unpack), are response_type code
// (or "code id_token" for a fapi1_request_object client), client_id the
// client's key, a redirect_uri registered on the client, scope of Scopes
// with one of consentScopes, state and nonce of at most 512 bytes (a nonce is
// required with an id_token), an S256 code_challenge (optional for a
// fapi1_request_object client, enforced when given), and the consent by
// consent_id or by the openbanking_intent_id claim of claims, which must
// be the client's and await authorisation. Every fault is named in the
// error's violations; the error's code is RFC 6749's for the first.
func (s *Service) accept(ctx context.Context, client *identity.Consumer, outer url.Values) (Request, error) {
	params, faults := s.unpack(client, outer)
	if faults != nil {
		return Request{}, faultsError(faults)
	}
	req, faults := parseRequest(client, params)
	if req.ConsentID != "" {
		faults = append(faults, s.consentFaults(ctx, client, req.ConsentID)...)
	}
	if len(faults) > 0 {
		return Request{}, faultsError(faults)
	}
	return req, nil
}

// fault is one wrong parameter of a pushed request, with the OAuth2 error
// code it calls for.
func fault(code, param, message string) engine.Violation {
	return engine.Violation{Location: "body", Pointer: "/" + param, Code: code, Message: message}
}

// faultsError is the error naming every fault: the first one's code and
// status, every message in the description.
func faultsError(faults []engine.Violation) *engine.Error {
	msgs := make([]string, len(faults))
	for i, f := range faults {
		msgs[i] = strings.TrimPrefix(f.Pointer, "/") + ": " + f.Message
	}
	status := http.StatusBadRequest
	if faults[0].Code == CodeUnauthorizedClient {
		status = http.StatusForbidden
	}
	return oauthError(status, faults[0].Code, strings.Join(msgs, "; "), faults...)
}

// parseRequest reads and checks every parameter but the consent's state.
func parseRequest(client *identity.Consumer, p url.Values) (Request, []engine.Violation) {
	var faults []engine.Violation
	one := func(name string, max int, required bool) string {
		vs := p[name]
		switch {
		case len(vs) > 1:
			faults = append(faults, fault(codeInvalidRequest, name, "given more than once"))
		case len(vs) == 0 || vs[0] == "":
			if required {
				faults = append(faults, fault(codeInvalidRequest, name, "is required"))
			}
		case len(vs[0]) > max:
			faults = append(faults, fault(codeInvalidRequest, name, fmt.Sprintf("is at most %d bytes", max)))
		default:
			return vs[0]
		}
		return ""
	}
	if _, ok := p["request"]; ok {
		faults = append(faults, fault(codeInvalidRequest, "request", "a request object may not hold another"))
	}
	if _, ok := p["request_uri"]; ok {
		faults = append(faults, fault(codeInvalidRequest, "request_uri", "a pushed request may not name a request_uri"))
	}
	fapi1 := client.UsesRequestObjects()
	rt := one("response_type", maxParam, true)
	switch {
	case rt == ResponseCodeIDToken && !fapi1:
		faults = append(faults, fault(CodeUnsupportedResponseType, "response_type", `"code id_token" is for clients of the fapi1_request_object policy`))
	case rt != "" && rt != ResponseCode && rt != ResponseCodeIDToken:
		faults = append(faults, fault(CodeUnsupportedResponseType, "response_type", `is "code" or "code id_token"`))
	}
	if id := one("client_id", maxParam, true); id != "" && id != client.Key {
		faults = append(faults, fault(codeInvalidRequest, "client_id", "is not the authenticated client"))
	}
	req := Request{ConsumerID: client.ID, ClientID: client.Key, ResponseType: rt}
	if req.RedirectURI = one("redirect_uri", maxParam, true); req.RedirectURI != "" && !client.HasRedirectURI(req.RedirectURI) {
		faults = append(faults, fault(codeInvalidRequest, "redirect_uri", "is not one of the client's registered redirect URIs"))
	}
	if req.Scope = one("scope", maxScopeLength, true); req.Scope != "" {
		faults = append(faults, scopeFaults(req.Scope)...)
	}
	req.State, req.Nonce = one("state", maxParam, false), one("nonce", maxParam, rt == ResponseCodeIDToken)
	req.CodeChallenge = one("code_challenge", maxParam, !fapi1)
	if req.CodeChallenge != "" && !validPKCE(req.CodeChallenge) {
		faults = append(faults, fault(codeInvalidRequest, "code_challenge", "is 43 to 128 characters of base64url"))
	}
	switch m := one("code_challenge_method", maxParam, req.CodeChallenge != "" || !fapi1); m {
	case "S256", "":
	default:
		faults = append(faults, fault(codeInvalidRequest, "code_challenge_method", `only "S256" is supported`))
	}
	byID := one("consent_id", maxConsentID, false)
	byClaims, claimFaults := intentOf(one("claims", maxClaims, false))
	faults = append(faults, claimFaults...)
	switch {
	case byID != "" && byClaims != "" && byID != byClaims:
		faults = append(faults, fault(codeInvalidRequest, "consent_id", "names another consent than the openbanking_intent_id claim"))
	case byID == "" && byClaims == "" && claimFaults == nil:
		faults = append(faults, fault(codeInvalidRequest, "consent_id", "the consent is named by consent_id or the openbanking_intent_id claim"))
	}
	req.ConsentID = cmp.Or(byID, byClaims)
	return req, faults
}

// scopeFaults checks a scope: known scopes, one of consentScopes among
// them.
func scopeFaults(scope string) []engine.Violation {
	var faults []engine.Violation
	toks := strings.Split(scope, " ")
	for _, tok := range toks {
		if !slices.Contains(Scopes, tok) {
			faults = append(faults, fault(codeInvalidScope, "scope", fmt.Sprintf("%q is not one of %s", tok, strings.Join(Scopes, ", "))))
		}
	}
	if !slices.ContainsFunc(toks, func(tok string) bool { return slices.Contains(consentScopes, tok) }) {
		faults = append(faults, fault(codeInvalidScope, "scope", "must hold one of "+strings.Join(consentScopes, ", ")))
	}
	return faults
}

// validPKCE tells whether v is 43 to 128 characters of the base64url
// alphabet (RFC 7636 code challenges and verifiers alike, less '.' and
// '~' which base64url lacks for challenges; verifiers use checkVerifier).
func validPKCE(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// intentClaims is the claims parameter naming the consent (OpenID Connect
// section 5.5, UK Open Banking's openbanking_intent_id).
type intentClaims struct {
	IDToken  map[string]intentClaim `json:"id_token"`
	UserInfo map[string]intentClaim `json:"userinfo"`
}

type intentClaim struct {
	Value     string `json:"value"`
	Essential bool   `json:"essential"`
}

// intentOf reads the consent id of a claims parameter ("" when none is
// named); id_token and userinfo must agree.
func intentOf(raw string) (string, []engine.Violation) {
	if raw == "" {
		return "", nil
	}
	var c intentClaims
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return "", []engine.Violation{fault(codeInvalidRequest, "claims", "is not a JSON object of id_token and userinfo claims")}
	}
	id, user := c.IDToken["openbanking_intent_id"].Value, c.UserInfo["openbanking_intent_id"].Value
	switch {
	case id != "" && user != "" && id != user:
		return "", []engine.Violation{fault(codeInvalidRequest, "claims", "id_token and userinfo name different consents")}
	case len(cmp.Or(id, user)) > maxConsentID:
		return "", []engine.Violation{fault(codeInvalidRequest, "claims", "openbanking_intent_id is too long")}
	case id == "" && user == "":
		return "", []engine.Violation{fault(codeInvalidRequest, "claims", "names no openbanking_intent_id")}
	}
	return cmp.Or(id, user), nil
}

// consentFaults checks that consent id exists, is the client's and awaits
// authorisation.
func (s *Service) consentFaults(ctx context.Context, client *identity.Consumer, id string) []engine.Violation {
	c, err := s.o.Consents.Get(ctx, id)
	switch {
	case errors.Is(err, engine.ErrNotFound) || err == nil && !c.Visible():
		return []engine.Violation{fault(codeInvalidRequest, "consent_id", fmt.Sprintf("consent %q does not exist", id))}
	case err != nil:
		return []engine.Violation{fault(codeServerError, "consent_id", "the consent could not be read")}
	case c.ConsumerID != client.ID:
		return []engine.Violation{fault(CodeUnauthorizedClient, "consent_id", fmt.Sprintf("consent %q is another client's", id))}
	case c.Status != consent.AwaitingAuthorisation:
		return []engine.Violation{fault(codeInvalidRequest, "consent_id",
			fmt.Sprintf("consent %q is %s: only a consent awaiting authorisation can be authorised", id, c.Status))}
	}
	return nil
}
