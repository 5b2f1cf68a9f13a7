package admin

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/consent"
)

// maxReasonRunes bounds the reason a customer gives for a revocation (the
// UK StatusReasonDescription's bound).
const maxReasonRunes = 500

// registerMyConsents mounts the customer's dashboard of the consents they
// authorised: list, detail in plain language with the TPP's recent uses,
// revoke, change accounts. Each needs only login; a consent of another
// customer is a 404.
func (a *API) registerMyConsents(r routes) {
	if a.Consents == nil {
		return
	}
	r.loggedIn(fiber.MethodGet, "/consents", a.listMyConsents)
	r.loggedIn(fiber.MethodGet, "/consents/:id", a.getMyConsent)
	r.taking(optionalBodyOf[revocation]()).loggedIn(fiber.MethodDelete, "/consents/:id", a.revokeMyConsent)
	r.taking(bodyOf[accountsChange]()).loggedIn(fiber.MethodPut, "/consents/:id/accounts", a.changeMyConsentAccounts)
}

// customerConsent is a consent as its customer reads it: in plain
// language, with the TPP's name.
type customerConsent struct {
	ID              string               `json:"consent_id"`
	TPP             tppView              `json:"tpp"`
	Status          consent.Status       `json:"status"`
	StatusWords     string               `json:"status_words"`
	StatusReasons   []consent.Reason     `json:"status_reasons,omitempty"`
	Permissions     []permissionView     `json:"permissions"`
	Accounts        []string             `json:"accounts"`
	ExpiresAt       *time.Time           `json:"expires_at,omitempty"`
	TransactionFrom *time.Time           `json:"transaction_from,omitempty"`
	TransactionTo   *time.Time           `json:"transaction_to,omitempty"`
	CreatedAt       time.Time            `json:"created_at"`
	StatusAt        time.Time            `json:"status_at"`
	History         []consent.Transition `json:"history"`
}

// customerConsentDetail is one consent with what its TPP did with it
// lately.
type customerConsentDetail struct {
	customerConsent
	RecentUses []consent.Use `json:"recent_uses"`
}

// tppView names the TPP a consent was given to.
type tppView struct {
	ConsumerID string `json:"consumer_id"`
	Name       string `json:"name"`
}

// permissionView is one permission and what it shows, in words.
type permissionView struct {
	Permission  string `json:"permission"`
	Description string `json:"description"`
}

// customerView writes c for its customer; names caches the TPPs' names
// over one answer.
func (a *API) customerView(ctx context.Context, c *consent.Consent, names map[string]string) customerConsent {
	name, ok := names[c.ConsumerID]
	if !ok {
		name = "an app no longer registered"
		if app, err := a.Access.Identity.Consumer(ctx, c.ConsumerID); err == nil {
			name = app.Name
		}
		names[c.ConsumerID] = name
	}
	var profile *consent.Profile
	if a.ConsentProfiles != nil {
		profile, _ = a.ConsentProfiles.Get(c.ProfileID)
	}
	perms := make([]permissionView, len(c.Permissions))
	for i, p := range c.Permissions {
		perms[i] = permissionView{Permission: p, Description: p}
		if profile != nil {
			perms[i].Description = profile.Describe(p)
		}
	}
	return customerConsent{ID: c.ID, TPP: tppView{ConsumerID: c.ConsumerID, Name: name}, Status: c.Status,
		StatusWords: c.Status.Words(), StatusReasons: c.Reasons, Permissions: perms, Accounts: nonNil(c.Accounts),
		ExpiresAt: c.ExpiresAt, TransactionFrom: c.TransactionFrom, TransactionTo: c.TransactionTo,
		CreatedAt: c.CreatedAt, StatusAt: c.StatusAt, History: c.History}
}

// listMyConsents answers a page of the consents the caller authorised,
// newest first, filtered by ?status= (a canonical status), after ?after=
// (the next_after of the previous page), at most ?limit= (100, 1000 at
// most).
func (a *API) listMyConsents(c *fiber.Ctx) error {
	status := consent.Status(query(c, "status"))
	if status != "" && status.Words() == "" {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "unknown consent status "+strconv.Quote(string(status)),
			engine.Violation{Location: "query", Pointer: "/status", Code: "enum",
				Message: "status is one of awaiting_authorisation, authorised, rejected, revoked, expired"})
	}
	ctx := c.UserContext()
	list, next, err := a.Consents.ListForUser(ctx, principal(c).UserID, status, query(c, "after"), limit(c, 100, 1000))
	if err != nil {
		return err
	}
	names := map[string]string{}
	out := make([]customerConsent, len(list))
	for i, got := range list {
		out[i] = a.customerView(ctx, got, names)
	}
	answer := fiber.Map{"consents": out}
	if next != "" {
		answer["next_after"] = next
	}
	return c.JSON(answer)
}

// getMyConsent answers one consent the caller authorised, with the TPP's
// recent uses of it.
func (a *API) getMyConsent(c *fiber.Ctx) error {
	ctx := c.UserContext()
	got, err := a.Consents.GetForUser(ctx, param(c, "id"), principal(c).UserID)
	if err != nil {
		return consentError(err, c.Params("id"))
	}
	return c.JSON(customerConsentDetail{customerConsent: a.customerView(ctx, got, map[string]string{}),
		RecentUses: nonNil(a.Consents.RecentUses(ctx, got.ID))})
}

// revokeMyConsent revokes a consent the caller authorised, for the
// optional {"reason"}: its TPP can no longer use it.
func (a *API) revokeMyConsent(c *fiber.Ctx) error {
	body := decoded[revocation](c)
	if utf8.RuneCountInString(body.Reason) > maxReasonRunes {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the reason is too long",
			engine.Violation{Location: "body", Pointer: "/reason", Code: "max_length", Message: fmt.Sprintf("at most %d characters", maxReasonRunes)})
	}
	ctx := c.UserContext()
	got, err := a.Consents.RevokeByCustomer(ctx, param(c, "id"), principal(c).UserID, body.Reason, actor(c))
	if err != nil {
		return consentError(err, c.Params("id"))
	}
	return c.JSON(a.customerView(ctx, got, map[string]string{}))
}

// accountsChange is the body of PUT /my/consents/{id}/accounts.
type accountsChange struct {
	Accounts []string `json:"accounts"`
}

// changeMyConsentAccounts sets the accounts an authorised consent of the
// caller's shares: each must be one the caller may share
// (banking.ShareableAccounts); each that is not is named.
func (a *API) changeMyConsentAccounts(c *fiber.Ctx) error {
	body := decoded[accountsChange](c)
	ctx := c.UserContext()
	p := principal(c)
	id := param(c, "id")
	if _, err := a.Consents.GetForUser(ctx, id, p.UserID); err != nil {
		return consentError(err, c.Params("id"))
	}
	shareable, err := banking.ShareableAccounts(ctx, a.Methods, p)
	if err != nil {
		return err
	}
	chosen, err := consent.ChooseAccounts(body.Accounts, func(id string) bool {
		return slices.ContainsFunc(shareable, func(acc banking.Account) bool { return acc.AccountID == id })
	})
	if err != nil {
		return err
	}
	got, err := a.Consents.ChangeAccounts(ctx, id, p.UserID, chosen, actor(c))
	if err != nil {
		return consentError(err, c.Params("id"))
	}
	return c.JSON(a.customerView(ctx, got, map[string]string{}))
}

// optionalBodyOf is bodyOf[T] for a route whose body may be left out: no
// body is a zero T.
func optionalBodyOf[T any]() body {
	b := bodyOf[T]()
	decode := b.decode
	b.decode = func(raw []byte) (any, error) {
		if len(bytes.TrimSpace(raw)) == 0 {
			return new(T), nil
		}
		return decode(raw)
	}
	return b
}
