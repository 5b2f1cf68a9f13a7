package consentauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// ScaStatus is the step an authorisation is at (Berlin Group's words).
type ScaStatus string

// The steps of an authorisation: received (opened in a browser, nobody
// logged in) → psuAuthenticated → started (a one-time code sent) →
// finalised, or failed at any step.
const (
	StatusReceived         ScaStatus = "received"
	StatusPSUAuthenticated ScaStatus = "psuAuthenticated"
	StatusStarted          ScaStatus = "started"
	StatusFinalised        ScaStatus = "finalised"
	StatusFailed           ScaStatus = "failed"
)

// session is one authorisation as stored.
type session struct {
	ID      string    `json:"id"`
	Request Request   `json:"request"`
	Status  ScaStatus `json:"sca_status"`
	// UserID is the customer, once logged in; Browser the SHA-256 (hex)
	// of the browser key of an authorisation opened in a browser, ""
	// for one opened through the JSON API.
	UserID  string `json:"user_id,omitempty"`
	Browser string `json:"browser,omitempty"`
	// Accounts are those the customer chose; Access narrows the consent's
	// permissions to some of them (consent.Consent.Access).
	Accounts []string            `json:"accounts,omitempty"`
	Access   map[string][]string `json:"access,omitempty"`
	// Challenge is the MAC (hex) of the one-time code in force, ""
	// when none is.
	Challenge        string    `json:"challenge,omitempty"`
	ChallengeExpires time.Time `json:"challenge_expires,omitzero"`
	Challenges       int       `json:"challenges"`
	WrongAnswers     int       `json:"wrong_answers"`
	LoginFailures    int       `json:"login_failures"`
	// Redirect is where the customer is sent once finished.
	Redirect  string    `json:"redirect,omitempty"`
	AuthTime  time.Time `json:"auth_time,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// finished tells whether the authorisation is over.
func (ss *session) finished() bool { return ss.Status == StatusFinalised || ss.Status == StatusFailed }

// Caller is who acts on an authorisation: the customer logged in through
// the JSON API (UserID), or a browser holding the key Open gave it
// (BrowserKey); Address and CorrelationID are for the audit log and the
// login throttle.
type Caller struct {
	UserID        string
	BrowserKey    string
	Address       string
	CorrelationID string
}

// actor is the audit actor of c on ss.
func (c Caller) actor(ss *session) audit.Actor {
	return audit.Actor{UserID: ss.UserID, ConsumerID: ss.Request.ConsumerID, CorrelationID: c.CorrelationID, Address: c.Address}
}

// owns tells whether c may act on ss: the browser that opened it, or the
// customer who opened it through the JSON API.
func (c Caller) owns(ss *session) bool {
	if ss.Browser != "" {
		h := sha256.Sum256([]byte(c.BrowserKey))
		want, err := hex.DecodeString(ss.Browser)
		return err == nil && c.BrowserKey != "" && subtle.ConstantTimeCompare(h[:], want) == 1
	}
	return c.UserID != "" && c.UserID == ss.UserID
}

// Opened is an authorisation just opened; BrowserKey is set for a browser
// and must come back with every later step (a cookie).
type Opened struct {
	*Authorisation
	BrowserKey string
}

// AuthorizationRequest is what the authorization endpoint is given: the
// client's id and either the request_uri of a pushed request or a request
// object (RFC 9101), which repeats the response_type when one is given.
type AuthorizationRequest struct {
	ClientID     string
	RequestURI   string
	Request      string
	ResponseType string
}

// Open starts the authorisation of r: the request pushed as r.RequestURI
// by the client whose key is r.ClientID, consuming the request_uri, or
// the request object r.Request, checked as a pushed request is (accept).
// A customer logged in (c.UserID) starts authenticated; otherwise a
// browser key is made and the customer logs in next. An unknown, expired,
// used or another client's request_uri is invalid_request_uri.
func (s *Service) Open(ctx context.Context, r AuthorizationRequest, c Caller) (*Opened, error) {
	client, ok := s.o.Identity.ConsumerByKey(r.ClientID)
	if !ok || r.ClientID == "" {
		return nil, oauthError(http.StatusBadRequest, codeInvalidClient, "client_id names no enabled client")
	}
	var take func(tx engine.Tx) (Request, error)
	switch {
	case r.Request != "" && r.RequestURI != "":
		return nil, oauthError(http.StatusBadRequest, codeInvalidRequest, "give request_uri or request, not both")
	case r.Request != "":
		params := url.Values{"client_id": {r.ClientID}, "request": {r.Request}}
		if r.ResponseType != "" {
			params.Set("response_type", r.ResponseType)
		}
		req, err := s.accept(ctx, client, params)
		if err != nil {
			return nil, err
		}
		take = func(engine.Tx) (Request, error) { return req, nil }
	default:
		random, ok := strings.CutPrefix(r.RequestURI, RequestURIPrefix)
		if !ok || len(random) == 0 || len(random) > maxParam {
			return nil, oauthError(http.StatusBadRequest, CodeInvalidRequestURI, "request_uri is not one this server issued")
		}
		take = func(tx engine.Tx) (Request, error) { return s.takePushed(tx, client, random) }
	}
	now := s.now()
	ss := &session{ID: random32(), Status: StatusReceived, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	out := &Opened{}
	if c.UserID != "" {
		ss.UserID, ss.Status, ss.AuthTime = c.UserID, StatusPSUAuthenticated, now
	} else {
		out.BrowserKey = random32()
		ss.Browser = hashHex(out.BrowserKey)
	}
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		var err error
		if ss.Request, err = take(tx); err != nil {
			return err
		}
		return s.putSession(tx, ss)
	})
	if err != nil {
		return nil, err
	}
	if err := s.failUnlessAwaiting(ctx, ss, c); err != nil {
		return nil, err
	}
	out.Authorisation, err = s.view(ctx, ss, true)
	return out, err
}

// failUnlessAwaiting fails authorisation ss, just opened by c, when its
// consent no longer awaits authorisation, and refuses it then.
func (s *Service) failUnlessAwaiting(ctx context.Context, ss *session, c Caller) error {
	if con, err := s.o.Consents.Get(ctx, ss.Request.ConsentID); err != nil || con.Status != consent.AwaitingAuthorisation {
		_, _ = s.change(ctx, ss.ID, c, func(_ engine.Tx, ss *session) error {
			s.fail(ss, "the consent no longer awaits authorisation")
			return nil
		})
		return oauthError(http.StatusBadRequest, codeInvalidRequest, "the consent no longer awaits authorisation")
	}
	return nil
}

// takePushed consumes client's pushed request under random (the
// request_uri less its prefix).
func (s *Service) takePushed(tx engine.Tx, client *identity.Consumer, random string) (Request, error) {
	key := hashHex(random)
	p, err := kvjson.Get[pushed](tx, bucketPushed, key)
	if errors.Is(err, engine.ErrNotFound) || err == nil && (!s.now().Before(p.ExpiresAt) || p.Request.ConsumerID != client.ID) {
		return Request{}, oauthError(http.StatusBadRequest, CodeInvalidRequestURI, "request_uri is unknown, used or expired")
	}
	if err != nil {
		return Request{}, err
	}
	return p.Request, tx.Delete(bucketPushed, key)
}

// random32 is 32 random bytes, base64url.
func random32() string { return random(32) }

// load reads authorisation id for c: unknown, expired or another's is a
// 404 alike.
func (s *Service) load(tx engine.Tx, id string, c Caller) (*session, error) {
	if id == "" || len(id) > maxParam {
		return nil, notFound()
	}
	ss, err := kvjson.Get[session](tx, bucketSessions, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	if !c.owns(ss) || !s.now().Before(ss.ExpiresAt) {
		return nil, notFound()
	}
	return ss, nil
}

// read is load in a read-only transaction of its own.
func (s *Service) read(ctx context.Context, id string, c Caller) (*session, error) {
	var ss *session
	err := s.o.Store.View(ctx, func(tx engine.Tx) error {
		var err error
		ss, err = s.load(tx, id, c)
		return err
	})
	return ss, err
}

func notFound() *engine.Error {
	return engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no such authorisation, or it expired")
}

// stateError refuses a step the authorisation is not ready for.
func stateError(ss *session, step string) *engine.Error {
	return engine.Errorf(http.StatusConflict, CodeAuthorisationState, "the authorisation is %s: %s is not possible now", ss.Status, step)
}

// change reads authorisation id for c, lets f change it (and write what
// goes with it in tx) and stores it, in one transaction; it returns the
// authorisation as stored.
func (s *Service) change(ctx context.Context, id string, c Caller, f func(tx engine.Tx, ss *session) error) (*session, error) {
	var out *session
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		ss, err := s.load(tx, id, c)
		if err != nil {
			return err
		}
		if err := f(tx, ss); err != nil {
			return err
		}
		out = ss
		return s.putSession(tx, ss)
	})
	return out, err
}

// keepOnError is a change whose refusal is stored anyway (a counted
// failure): f returns the error to answer after the change is stored.
func (s *Service) keepOnError(ctx context.Context, id string, c Caller, f func(ss *session) error) (*session, error) {
	var refusal error
	ss, err := s.change(ctx, id, c, func(_ engine.Tx, ss *session) error {
		refusal = f(ss)
		var e *engine.Error
		if refusal != nil && !errors.As(refusal, &e) {
			return refusal // not a counted refusal: nothing stored
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ss, refusal
}

// Login checks the customer's username and password through the identity
// service's login throttle; the authorisation must be received and not
// yet logged in. MaxLoginFailures wrong passwords fail it.
func (s *Service) Login(ctx context.Context, id string, c Caller, username, password string) (*Authorisation, error) {
	ss, err := s.read(ctx, id, c)
	if err != nil {
		return nil, err
	}
	if ss.Status != StatusReceived {
		return nil, stateError(ss, "logging in")
	}
	user, checkErr := s.o.Identity.CheckPassword(ctx, username, password, c.Address)
	if e := engine.AsError(checkErr); checkErr != nil && (e.Status >= 500 || e.Status == http.StatusTooManyRequests) {
		return nil, e
	}
	ss, err = s.keepOnError(ctx, id, c, func(ss *session) error {
		if ss.Status != StatusReceived {
			return stateError(ss, "logging in")
		}
		if checkErr != nil || user == nil || user.Locked {
			ss.LoginFailures++
			if ss.LoginFailures >= MaxLoginFailures {
				s.fail(ss, "login_failed")
			}
			return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid credentials")
		}
		ss.UserID, ss.Status, ss.AuthTime = user.ID, StatusPSUAuthenticated, s.now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, ss, true)
}

// fail ends ss as failed, sending the customer back with access_denied.
func (s *Service) fail(ss *session, why string) {
	ss.Status, ss.Challenge = StatusFailed, ""
	ss.Redirect = s.redirect(ss, url.Values{"error": {CodeAccessDenied}, "error_description": {why}})
}

// redirect is the redirect URI of ss with params, state and iss added:
// in the query, or in the fragment for the hybrid response type (OpenID
// Connect's default response mode for it).
func (s *Service) redirect(ss *session, params url.Values) string {
	if ss.Request.Berlin {
		return berlinRedirect(ss, params)
	}
	if ss.Request.State != "" {
		params.Set("state", ss.Request.State)
	}
	params.Set("iss", s.o.Issuer)
	sep := "?"
	switch {
	case ss.Request.ResponseType == ResponseCodeIDToken:
		sep = "#"
	case strings.Contains(ss.Request.RedirectURI, "?"):
		sep = "&"
	}
	return ss.Request.RedirectURI + sep + params.Encode()
}

// Get returns authorisation id as c sees it, with the customer's
// shareable accounts once logged in.
func (s *Service) Get(ctx context.Context, id string, c Caller) (*Authorisation, error) {
	ss, err := s.read(ctx, id, c)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, ss, true)
}

// Reject ends the authorisation at the customer's wish: once logged in,
// the consent is rejected; before, the authorisation alone ends and the
// consent still awaits authorisation. The customer is sent back with
// access_denied.
func (s *Service) Reject(ctx context.Context, id string, c Caller) (*Authorisation, error) {
	var before ScaStatus
	ss, err := s.change(ctx, id, c, func(_ engine.Tx, ss *session) error {
		if ss.finished() {
			return stateError(ss, "rejecting")
		}
		before = ss.Status
		s.fail(ss, "the customer rejected the consent")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if before != StatusReceived {
		if _, err := s.o.Consents.Reject(ctx, ss.Request.ConsentID, ss.UserID, "rejected by the customer", c.actor(ss)); err != nil &&
			!isStatusConflict(err) {
			return nil, err
		}
	}
	return s.view(ctx, ss, false)
}

// isStatusConflict tells whether err is the 409 of a consent no longer
// awaiting authorisation.
func isStatusConflict(err error) bool {
	var e *engine.Error
	return errors.As(err, &e) && e.Code == consent.CodeConsentStatus
}

// putSession stores ss in tx and, when its status differs from the one
// stored (or it is new), emits consent.sca_status_changed in the same
// transaction, under its consent's subject so that it is ordered with the
// consent's own events.
func (s *Service) putSession(tx engine.Tx, ss *session) error {
	var from ScaStatus
	if prev, err := kvjson.Get[session](tx, bucketSessions, ss.ID); err == nil {
		from = prev.Status
	} else if !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	if err := kvjson.Put(tx, bucketSessions, ss.ID, ss); err != nil {
		return err
	}
	if from == ss.Status || ss.Request.ConsentID == "" {
		return nil
	}
	data, err := json.Marshal(map[string]string{"consent_id": ss.Request.ConsentID, "authorisation_id": ss.ID,
		"from": string(from), "to": string(ss.Status)})
	if err != nil {
		return err
	}
	return events.Emit(tx, &events.Event{Type: events.TypeConsentSCAStatusChanged, Subject: "consents/" + ss.Request.ConsentID,
		ConsumerID: ss.Request.ConsumerID, Data: data}, s.now())
}
