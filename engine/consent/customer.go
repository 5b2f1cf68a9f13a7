package consent

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

// MaxAccounts bounds the accounts a customer chooses for one consent.
const MaxAccounts = 100

// userKey is c's key in userBucket: its customer, its creation
// (expiryStamp) and its id, so a customer's consents sort oldest first.
func userKey(c *Consent) string {
	return c.UserID + "/" + expiryStamp(c.CreatedAt) + "/" + c.ID
}

// ListForUser returns a page of the consents customer userID authorised,
// newest first, those in status only when status is set; deleted ones are
// left out, as unknown. after is the next_after of the previous page ("":
// the first); the page's own is returned ("" at the end). At most maxScan
// consents are read, so a page may be short and still have a next one.
func (s *Service) ListForUser(ctx context.Context, userID string, status Status, after string, limit int) ([]*Consent, string, error) {
	if limit <= 0 {
		limit = 100
	}
	prefix := userID + "/"
	from := prefix + "~" // after every stamp
	if after != "" {
		from = prefix + after
	}
	var out []*Consent
	next, scanned := "", 0
	err := s.store.View(ctx, func(tx engine.Tx) error {
		return tx.ScanReverse(userBucket, from, func(key string, _ []byte) error {
			if key == from {
				return nil
			}
			if !strings.HasPrefix(key, prefix) || len(out) == limit || scanned == maxScan {
				return engine.ErrStop
			}
			scanned++
			next = key[len(prefix):]
			c, err := s.read(tx, key[strings.LastIndexByte(key, '/')+1:])
			if notFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if c.UserID == userID && c.Visible() && (status == "" || c.Status == status) {
				out = append(out, c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) < limit && scanned < maxScan {
		next = ""
	}
	return out, next, nil
}

// GetForUser returns the consent with id when customer userID authorised
// it and it is not deleted; any other is engine.ErrNotFound, so a customer
// learns nothing of others' consents.
func (s *Service) GetForUser(ctx context.Context, id, userID string) (*Consent, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if userID == "" || c.UserID != userID || !c.Visible() {
		return nil, engine.ErrNotFound
	}
	return c, nil
}

// RevokeByCustomer revokes the consent with id on behalf of the customer
// userID who authorised it, for reason (may be empty): its TPP sees it
// revoked (UK v4.0 CANC with the reason revoked_by_psu). A consent of
// another customer is engine.ErrNotFound; one no longer awaiting
// authorisation or authorised a 409, as for Revoke.
func (s *Service) RevokeByCustomer(ctx context.Context, id, userID, reason string, who audit.Actor) (*Consent, error) {
	if userID == "" {
		return nil, engine.ErrNotFound
	}
	if reason == "" {
		reason = "revoked by the customer"
	}
	return s.revoke(ctx, id, revocation{actor: "psu", actorID: userID, owner: userID, code: ReasonRevokedByPSU, reason: reason}, who)
}

// CodeAccountNotShareable: an account a customer chose for a consent is
// not one they may share (400).
const CodeAccountNotShareable = "account_not_shareable"

// ChooseAccounts checks the accounts a customer chose for a consent:
// 1 to MaxAccounts, each one shareable reports the customer may share
// (the bank's getShareableAccounts), every other one named at its
// /accounts/i. It returns them without duplicates, sorted. Authorising a
// consent and changing its accounts both check the choice here.
func ChooseAccounts(chosen []string, shareable func(accountID string) bool) ([]string, error) {
	if len(chosen) == 0 || len(chosen) > MaxAccounts {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			fmt.Sprintf("a consent shares 1 to %d accounts", MaxAccounts),
			engine.Violation{Location: "body", Pointer: "/accounts", Code: "count", Message: fmt.Sprintf("choose 1 to %d accounts", MaxAccounts)})
	}
	var faults []engine.Violation
	var picked []string
	for i, id := range chosen {
		switch {
		case !shareable(id):
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/accounts/" + strconv.Itoa(i), Code: CodeAccountNotShareable,
				Message: "account " + strconv.Quote(id) + " is not one you may share"})
		case !slices.Contains(picked, id):
			picked = append(picked, id)
		}
	}
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, CodeAccountNotShareable, "some accounts cannot be shared", faults...)
	}
	slices.Sort(picked)
	return picked, nil
}

// ChangeAccounts sets the accounts of the authorised consent with id to
// accounts, chosen by the customer userID who authorised it
// (ChooseAccounts checks the choice, before); audited as
// consent.accounts. A consent of another customer is engine.ErrNotFound;
// one not authorised, or one whose account pays or confirms funds (its
// account is chosen once), a 409.
func (s *Service) ChangeAccounts(ctx context.Context, id, userID string, accounts []string, who audit.Actor) (*Consent, error) {
	if userID == "" {
		return nil, engine.ErrNotFound
	}
	if len(accounts) == 0 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "a consent shares at least one account")
	}
	chosen := slices.Clone(accounts)
	return s.update(ctx, id, who, auditAccounts, func(_ engine.Tx, c *Consent, now time.Time) (map[string]any, error) {
		if c.UserID != userID || !c.Visible() {
			return nil, engine.ErrNotFound
		}
		if c.Status != Authorised {
			return nil, statusConflict(c, "given other accounts", Authorised)
		}
		if _, pays := c.Terms(); pays {
			return nil, engine.Errorf(http.StatusConflict, CodeConsentStatus,
				"consent %s is a %s consent: its account is chosen once, when it is authorised", c.ID, c.Kind)
		}
		before := c.Accounts
		c.Accounts = chosen
		c.record(c.Status, now, "psu", userID, "accounts changed", who.CorrelationID)
		return map[string]any{"accounts": chosen, "accounts_before": before}, nil
	})
}

// statusWords are the canonical statuses as a customer reads them.
var statusWords = map[Status]string{
	AwaitingAuthorisation: "Waiting for your authorisation",
	Authorised:            "Active: the app can use it",
	Rejected:              "Refused: the app was never given access",
	Revoked:               "Revoked: the app can no longer use it",
	Expired:               "Expired: the app can no longer use it",
	Consumed:              "Used: the payment was made",
	Deleted:               "Ended by the app",
}

// Words says status in plain language, for the customer.
func (s Status) Words() string { return statusWords[s] }
