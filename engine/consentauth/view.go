package consentauth

import (
	"context"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
)

// Authorisation is an authorisation as the customer sees it.
type Authorisation struct {
	ID        string      `json:"authorisation_id"`
	ScaStatus ScaStatus   `json:"sca_status"`
	Consent   ConsentView `json:"consent"`
	// Accounts are the customer's shareable accounts, once logged in and
	// until finished; Chosen those picked.
	Accounts []banking.Account `json:"accounts,omitempty"`
	Chosen   []string          `json:"chosen_accounts,omitempty"`
	// AttemptsLeft is how many wrong one-time codes remain.
	AttemptsLeft int `json:"attempts_left"`
	// Code is the one-time code, only with Options.DevCodes and only in
	// the answer that sent it.
	Code string `json:"code,omitempty"`
	// RedirectURI is where to send the customer once finished.
	RedirectURI string    `json:"redirect_uri,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
	// FormAction is the origin of the client's redirect URI, which the
	// pages' forms may be sent on to.
	FormAction string `json:"-"`
}

// ConsentView is a consent in plain language.
type ConsentView struct {
	ID              string       `json:"id"`
	Permissions     []Permission `json:"permissions"`
	ExpiresAt       *time.Time   `json:"expires_at,omitempty"`
	TransactionFrom *time.Time   `json:"transaction_from,omitempty"`
	TransactionTo   *time.Time   `json:"transaction_to,omitempty"`
	TPPName         string       `json:"tpp_name"`
}

// Permission is one permission with what it lets the TPP see.
type Permission struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// view is ss as the customer sees it, with the shareable accounts when
// withAccounts and the customer is logged in and not finished.
func (s *Service) view(ctx context.Context, ss *session, withAccounts bool) (*Authorisation, error) {
	c, err := s.o.Consents.Get(ctx, ss.Request.ConsentID)
	if err != nil {
		return nil, engine.AsError(err)
	}
	profile, _ := s.o.Profiles.Get(c.ProfileID)
	tpp := ""
	if con, err := s.o.Identity.Consumer(ctx, ss.Request.ConsumerID); err == nil {
		tpp = con.Name
	}
	a := &Authorisation{ID: ss.ID, ScaStatus: ss.Status, Chosen: ss.Accounts, RedirectURI: ss.Redirect,
		AttemptsLeft: MaxWrongAnswers - ss.WrongAnswers, ExpiresAt: ss.ExpiresAt, FormAction: origin(ss.Request.RedirectURI),
		Consent: ConsentView{ID: c.ID, Permissions: describe(profile, c.Permissions), ExpiresAt: c.ExpiresAt,
			TransactionFrom: c.TransactionFrom, TransactionTo: c.TransactionTo, TPPName: tpp}}
	if withAccounts && ss.UserID != "" && !ss.finished() {
		if a.Accounts, err = s.shareable(ctx, ss.UserID); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// shareable asks the bank's routing of getShareableAccounts what the
// customer may share.
func (s *Service) shareable(ctx context.Context, userID string) ([]banking.Account, error) {
	list, err := banking.ShareableAccounts(ctx, s.o.Methods, &engine.Principal{UserID: userID, Method: "consent_authorisation"})
	if err != nil {
		return nil, engine.AsError(err)
	}
	return list, nil
}
