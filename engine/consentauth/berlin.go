package consentauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Buckets of Berlin Group authorisations.
const (
	// bucketBerlin: consent id -> berlinConsent.
	bucketBerlin = "consentauth_berlin"
	// bucketLinks: sha256(link token) -> berlinLink.
	bucketLinks = "consentauth_links"
)

// MaxBerlinAuthorisations bounds the authorisations a TPP starts per
// consent.
const MaxBerlinAuthorisations = 5

// BerlinLinkPath is where the scaRedirect link of a Berlin Group
// authorisation leads, the link's token appended.
const BerlinLinkPath = "/oauth2/authorize/berlin/"

// berlinConsent is what is kept per Berlin Group consent: the TPP's
// redirect URIs given at creation and its authorisations, oldest first.
type berlinConsent struct {
	OK             string   `json:"ok,omitempty"`
	Nok            string   `json:"nok,omitempty"`
	Authorisations []string `json:"authorisations"`
}

// berlinLink is a scaRedirect link not yet followed: single use, it ends
// with its authorisation.
type berlinLink struct {
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

var _ consent.BerlinAuthoriser = (*Service)(nil)

// CheckRedirect implements consent.BerlinAuthoriser.
func (s *Service) CheckRedirect(ctx context.Context, consumerID, uri string) error {
	con, err := s.o.Identity.Consumer(ctx, consumerID)
	if err != nil {
		return err
	}
	if !slices.Contains(con.RedirectURIs, uri) {
		return engine.NewError(http.StatusBadRequest, codeInvalidRequest, "the redirect URI is not one registered for the TPP")
	}
	return nil
}

// StartRedirect implements consent.BerlinAuthoriser: the authorisation
// waits, received, for the customer's browser to follow its link, a
// random token kept only hashed, which opens it once (OpenLink).
func (s *Service) StartRedirect(ctx context.Context, c *consent.Consent, ok, nok string, by consent.BerlinCaller) (*consent.BerlinAuthorisation, error) {
	token := random32()
	var ss *session
	err := s.startBerlin(ctx, c, by, func(tx engine.Tx, rec *berlinConsent) (*session, error) {
		if ok != "" {
			rec.OK, rec.Nok = ok, nok
		}
		if rec.OK == "" {
			return nil, engine.NewError(http.StatusBadRequest, consent.CodeConsentAuthorisationUnsupported,
				"the consent was created without TPP-Redirect-URI: authorise it embedded, with PSU-ID and psuData")
		}
		ss = s.berlinSession(ctx, c, rec)
		return ss, kvjson.Put(tx, bucketLinks, hashHex(token), berlinLink{SessionID: ss.ID, ExpiresAt: ss.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return &consent.BerlinAuthorisation{ID: ss.ID, ScaStatus: berlinStatus(ss.Status), Link: BerlinLinkPath + token}, nil
}

// StartEmbedded implements consent.BerlinAuthoriser: the password goes
// through the identity service's check and login throttle, as on the
// login page; a wrong one starts nothing.
func (s *Service) StartEmbedded(ctx context.Context, c *consent.Consent, psuID, password string, by consent.BerlinCaller) (*consent.BerlinAuthorisation, error) {
	if c.Status != consent.AwaitingAuthorisation {
		return nil, engine.Errorf(http.StatusConflict, consent.CodeConsentStatus, "consent %s is %s: it cannot be authorised", c.ID, c.Status)
	}
	if len(psuID) > maxParam || len(password) > maxParam {
		return nil, credentialsInvalid()
	}
	user, err := s.o.Identity.CheckPassword(ctx, psuID, password, by.Address)
	if e := engine.AsError(err); err != nil && (e.Status >= 500 || e.Status == http.StatusTooManyRequests) {
		return nil, e
	}
	if err != nil || user == nil || user.Locked {
		return nil, credentialsInvalid()
	}
	var ss *session
	err = s.startBerlin(ctx, c, by, func(_ engine.Tx, rec *berlinConsent) (*session, error) {
		ss = s.berlinSession(ctx, c, rec)
		ss.UserID, ss.Status, ss.AuthTime = user.ID, StatusPSUAuthenticated, s.now()
		return ss, nil
	})
	if err != nil {
		return nil, err
	}
	return &consent.BerlinAuthorisation{ID: ss.ID, ScaStatus: berlinStatus(ss.Status), Methods: []string{consent.ScaMethodSMS}}, nil
}

// startBerlin stores a new authorisation of c, the session start makes,
// and counts it on the consent, in one transaction.
func (s *Service) startBerlin(ctx context.Context, c *consent.Consent, by consent.BerlinCaller,
	start func(tx engine.Tx, rec *berlinConsent) (*session, error)) error {
	return s.o.Store.Update(ctx, func(tx engine.Tx) error {
		rec, err := kvjson.Get[berlinConsent](tx, bucketBerlin, c.ID)
		if errors.Is(err, engine.ErrNotFound) {
			rec, err = &berlinConsent{}, nil
		}
		if err != nil {
			return err
		}
		if len(rec.Authorisations) >= MaxBerlinAuthorisations {
			return engine.Errorf(http.StatusTooManyRequests, CodeTooManyChallenges, "at most %d authorisations are started per consent",
				MaxBerlinAuthorisations)
		}
		ss, err := start(tx, rec)
		if err != nil {
			return err
		}
		rec.Authorisations = append(rec.Authorisations, ss.ID)
		if err := kvjson.Put(tx, bucketBerlin, c.ID, rec); err != nil {
			return err
		}
		return s.putSession(tx, ss)
	})
}

// berlinSession is a new authorisation of Berlin Group consent c, sending
// the customer back to the TPP's redirect URIs in rec.
func (s *Service) berlinSession(ctx context.Context, c *consent.Consent, rec *berlinConsent) *session {
	now := s.now()
	key := ""
	if con, err := s.o.Identity.Consumer(ctx, c.ConsumerID); err == nil {
		key = con.Key
	}
	return &session{ID: random32(), Status: StatusReceived, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
		Request: Request{ConsumerID: c.ConsumerID, ClientID: key, RedirectURI: rec.OK, NokRedirectURI: rec.Nok,
			Scope: "accounts", ConsentID: c.ID, Berlin: true}}
}

// credentialsInvalid refuses a wrong password or one-time code.
func credentialsInvalid() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, consent.CodePSUCredentialsInvalid, "the customer's credentials are not valid")
}

// Authorisations implements consent.BerlinAuthoriser.
func (s *Service) Authorisations(ctx context.Context, consentID string, _ consent.BerlinCaller) ([]string, error) {
	var ids []string
	err := s.o.Store.View(ctx, func(tx engine.Tx) error {
		rec, err := kvjson.Get[berlinConsent](tx, bucketBerlin, consentID)
		if err == nil {
			ids = rec.Authorisations
		}
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		return err
	})
	return ids, err
}

// Authorisation implements consent.BerlinAuthoriser.
func (s *Service) Authorisation(ctx context.Context, consentID, id string, by consent.BerlinCaller) (*consent.BerlinAuthorisation, error) {
	ss, _, err := s.berlinOf(ctx, consentID, id, by)
	if err != nil {
		return nil, err
	}
	return &consent.BerlinAuthorisation{ID: ss.ID, ScaStatus: berlinStatus(ss.Status)}, nil
}

// SelectMethod implements consent.BerlinAuthoriser: the accounts are
// those the consent names by IBAN, among the customer's shareable ones;
// the code is sent for them (ChooseAccounts).
func (s *Service) SelectMethod(ctx context.Context, consentID, id, methodID string, by consent.BerlinCaller) (*consent.BerlinAuthorisation, error) {
	ss, c, err := s.berlinOf(ctx, consentID, id, by)
	if err != nil {
		return nil, err
	}
	if methodID != consent.ScaMethodSMS {
		return nil, engine.NewError(http.StatusBadRequest, consent.CodeConsentAuthorisationUnsupported,
			"the SCA method offered is "+consent.ScaMethodSMS,
			engine.Violation{Location: "body", Pointer: "/authenticationMethodId", Code: "enum", Message: "not " + consent.ScaMethodSMS})
	}
	if ss.Browser != "" || ss.UserID == "" {
		return nil, stateError(ss, "choosing an SCA method")
	}
	_, accounts, bankOffered, err := s.namedAccounts(ctx, consentID, ss.UserID)
	if err != nil {
		return nil, err
	}
	if bankOffered {
		return nil, engine.NewError(http.StatusBadRequest, consent.CodeConsentAuthorisationUnsupported,
			"the customer chooses the accounts of this consent: authorise it by redirect")
	}
	if _, err := s.ChooseAccounts(ctx, id, c, accounts); err != nil {
		return nil, err
	}
	return &consent.BerlinAuthorisation{ID: id, ScaStatus: berlinStatus(StatusStarted), Chosen: methodID}, nil
}

// SubmitCode implements consent.BerlinAuthoriser: Answer, a wrong code a
// 401.
func (s *Service) SubmitCode(ctx context.Context, consentID, id, code string, by consent.BerlinCaller) (*consent.BerlinAuthorisation, error) {
	_, c, err := s.berlinOf(ctx, consentID, id, by)
	if err != nil {
		return nil, err
	}
	a, err := s.Answer(ctx, id, c, code)
	if e := engine.AsError(err); err != nil && e.Code == CodeWrongCode {
		return nil, engine.NewError(http.StatusUnauthorized, consent.CodePSUCredentialsInvalid, e.Message)
	}
	if err != nil {
		return nil, err
	}
	return &consent.BerlinAuthorisation{ID: id, ScaStatus: berlinStatus(a.ScaStatus)}, nil
}

// berlinOf is authorisation id of consent consentID for the TPP by, and
// the caller acting on it for the TPP: the customer who logged in. An
// authorisation of another consent or TPP, or none, is a 404 alike.
func (s *Service) berlinOf(ctx context.Context, consentID, id string, by consent.BerlinCaller) (*session, Caller, error) {
	var ss *session
	err := s.o.Store.View(ctx, func(tx engine.Tx) error {
		var err error
		if id == "" || len(id) > maxParam {
			return notFound()
		}
		ss, err = kvjson.Get[session](tx, bucketSessions, id)
		if errors.Is(err, engine.ErrNotFound) {
			return notFound()
		}
		return err
	})
	if err != nil {
		return nil, Caller{}, err
	}
	if !ss.Request.Berlin || ss.Request.ConsentID != consentID || ss.Request.ConsumerID != by.ConsumerID || !s.now().Before(ss.ExpiresAt) {
		return nil, Caller{}, notFound()
	}
	return ss, Caller{UserID: ss.UserID, Address: by.Address, CorrelationID: by.CorrelationID}, nil
}

// berlinStatus is status in Berlin Group's words: a code sent is
// scaMethodSelected.
func berlinStatus(status ScaStatus) string {
	if status == StatusStarted {
		return "scaMethodSelected"
	}
	return string(status)
}

// namedAccounts are the accounts Berlin Group consent consentID names by
// IBAN among those customer userID may share: per access type, and all of
// them; bankOffered when it names none (the customer chooses).
func (s *Service) namedAccounts(ctx context.Context, consentID, userID string) (perType map[string][]string, all []string,
	bankOffered bool, err error) {
	con, err := s.o.Consents.Get(ctx, consentID)
	if err != nil {
		return nil, nil, false, err
	}
	access, err := consent.BerlinAccessOf(con)
	if err != nil || access.BankOffered {
		return nil, nil, access.BankOffered, err
	}
	shareable, err := s.offered(ctx, userID, consent.KindBerlinAIS, nil)
	if err != nil {
		return nil, nil, false, err
	}
	perType, all, err = berlinAccounts(access, shareable)
	return perType, all, false, err
}

// berlinAccounts maps the IBANs access names to the customer's shareable
// accounts: per access type, and all of them. An IBAN the customer holds
// no shareable account with is refused.
func berlinAccounts(access consent.BerlinAccess, shareable []banking.Account) (map[string][]string, []string, error) {
	byIBAN := map[string]string{}
	for _, a := range shareable {
		for _, r := range a.AccountRoutings {
			if strings.EqualFold(r.Scheme, "IBAN") {
				byIBAN[normaliseIBAN(r.Address)] = a.AccountID
			}
		}
	}
	perType := map[string][]string{}
	var all []string
	for typ, ibans := range access.IBANs {
		for _, iban := range ibans {
			id, ok := byIBAN[normaliseIBAN(iban)]
			if !ok {
				return nil, nil, engine.NewError(http.StatusBadRequest, consent.CodeConsentRule,
					"the customer holds no account they may share with IBAN "+iban,
					engine.Violation{Location: "body", Pointer: "/access/" + typ, Code: "account_unknown", Message: "no account " + iban})
			}
			perType[typ] = append(perType[typ], id)
			if !slices.Contains(all, id) {
				all = append(all, id)
			}
		}
	}
	slices.Sort(all)
	return perType, all, nil
}

// normaliseIBAN is iban without spaces, in capitals.
func normaliseIBAN(iban string) string { return strings.ToUpper(strings.ReplaceAll(iban, " ", "")) }

// berlinRedirect is where a Berlin Group authorisation sends the customer
// back: the TPP's redirect URI as given, or its nok one when it failed.
func berlinRedirect(ss *session, params url.Values) string {
	if params.Has("error") && ss.Request.NokRedirectURI != "" {
		return ss.Request.NokRedirectURI
	}
	return ss.Request.RedirectURI
}

// berlinPicked checks the accounts the customer picked for authorisation
// id of a Berlin Group consent naming its accounts by IBAN: they must be
// exactly those, and each access type is narrowed to its own. Nil for
// any other authorisation, and for a consent whose customer chooses.
func (s *Service) berlinPicked(ctx context.Context, id string, c Caller, picked []string) (map[string][]string, error) {
	ss, err := s.read(ctx, id, c)
	if err != nil || !ss.Request.Berlin {
		return nil, err
	}
	perType, all, bankOffered, err := s.namedAccounts(ctx, ss.Request.ConsentID, ss.UserID)
	if err != nil || bankOffered {
		return nil, err
	}
	chosen := slices.Sorted(slices.Values(picked))
	if !slices.Equal(chosen, all) {
		return nil, engine.NewError(http.StatusBadRequest, consent.CodeConsentRule,
			"this consent is for accounts "+strings.Join(all, ", ")+": confirm exactly those",
			engine.Violation{Location: "body", Pointer: "/accounts", Code: "accounts_named", Message: "choose " + strings.Join(all, ", ")})
	}
	return perType, nil
}

// OpenLink opens the authorisation whose scaRedirect link carries token,
// in a browser: the link is used up, and a browser key is made that every
// later step must bring back (a cookie); the customer logs in next. An
// unknown, used or expired link is a 404; a consent that no longer awaits
// authorisation fails the authorisation.
func (s *Service) OpenLink(ctx context.Context, token string, c Caller) (*Opened, error) {
	if token == "" || len(token) > maxParam {
		return nil, notFound()
	}
	out := &Opened{BrowserKey: random32()}
	var ss *session
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		link, err := kvjson.Get[berlinLink](tx, bucketLinks, hashHex(token))
		if errors.Is(err, engine.ErrNotFound) || err == nil && !s.now().Before(link.ExpiresAt) {
			return notFound()
		}
		if err != nil {
			return err
		}
		if err := tx.Delete(bucketLinks, hashHex(token)); err != nil {
			return err
		}
		ss, err = kvjson.Get[session](tx, bucketSessions, link.SessionID)
		if errors.Is(err, engine.ErrNotFound) {
			return notFound()
		}
		if err != nil {
			return err
		}
		if ss.Status != StatusReceived || ss.Browser != "" {
			return notFound()
		}
		ss.Browser = hashHex(out.BrowserKey)
		return s.putSession(tx, ss)
	})
	if err != nil {
		return nil, err
	}
	c.BrowserKey = out.BrowserKey
	if err := s.failUnlessAwaiting(ctx, ss, c); err != nil {
		return nil, err
	}
	out.Authorisation, err = s.view(ctx, ss, true)
	return out, err
}
