package consentauth

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/consent"
)

// Authorisation is an authorisation as the customer sees it.
type Authorisation struct {
	ID        string      `json:"authorisation_id"`
	ScaStatus ScaStatus   `json:"sca_status"`
	Consent   ConsentView `json:"consent"`
	// Accounts are the accounts the customer may choose, once logged in
	// and until finished (offered); Chosen those picked.
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
	// Kind is what the consent grants: "account-access",
	// "domestic-payment", "funds-confirmation".
	Kind string `json:"kind"`
	// Payment says in plain language what a payment or funds confirmation
	// consent asks, instead of permissions; the customer then chooses
	// exactly one account.
	Payment *PaymentView `json:"payment,omitempty"`
}

// PaymentView is what a payment or funds confirmation consent asks.
type PaymentView struct {
	Text     string `json:"text"`
	Amount   string `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	Creditor string `json:"creditor,omitempty"`
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
			TransactionFrom: c.TransactionFrom, TransactionTo: c.TransactionTo, TPPName: tpp, Kind: c.Kind}}
	terms, pays := c.Terms()
	if pays {
		a.Consent.Payment = &PaymentView{Text: terms.Text(), Amount: terms.Amount.Amount, Currency: terms.Amount.Currency,
			Creditor: cmp.Or(terms.Creditor.Name, terms.Creditor.Identification)}
	}
	if withAccounts && ss.UserID != "" && !ss.finished() {
		if a.Accounts, err = s.offered(ctx, ss.UserID, c.Kind, terms.Debtor); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// offered are the accounts the customer may choose for a consent of kind:
// those they may pay from (getPayableAccounts) for a payment, those they
// may share (getShareableAccounts) for any other; only the one the
// consent names, when it names one (debtor).
func (s *Service) offered(ctx context.Context, userID, kind string, debtor *consent.AccountID) ([]banking.Account, error) {
	p := &engine.Principal{UserID: userID, Method: "consent_authorisation"}
	list := banking.ShareableAccounts
	if kind == consent.KindDomesticPayment || kind == consent.KindDomesticVRP {
		list = banking.PayableAccounts
	}
	accounts, err := list(ctx, s.o.Methods, p)
	if err != nil {
		return nil, engine.AsError(err)
	}
	if debtor == nil {
		return accounts, nil
	}
	return slices.DeleteFunc(accounts, func(acc banking.Account) bool {
		return !acc.HasRouting(debtor.Scheme, debtor.Identification)
	}), nil
}
