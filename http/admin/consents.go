package admin

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/router"
)

// registerConsents mounts the bank's view of consents: list, get with
// history, revoke, expire those due now; and the twins under
// /banks/{bank_id}/consents, for a bank's staff, which see only the
// consents created at their bank.
func (a *API) registerConsents(r routes) {
	if a.Consents == nil {
		return
	}
	r.system(fiber.MethodGet, "/consents", a.listConsents, authz.RoleCanGetConsentsAtAnyBank)
	r.system(fiber.MethodGet, "/consents/:id", a.getConsent, authz.RoleCanGetConsentsAtAnyBank)
	r.system(fiber.MethodGet, "/consents/:id/explain", a.explainConsent, authz.RoleCanGetConsentsAtAnyBank)
	r.taking(bodyOf[revocation]()).system(fiber.MethodPost, "/consents/:id/revoke", a.revokeConsent, authz.RoleCanRevokeConsentAtAnyBank)
	r.system(fiber.MethodPost, "/consents/expire", a.expireConsents, authz.RoleCanRevokeConsentAtAnyBank)
	const bank = "/banks/:bank_id/consents"
	r.atBank(fiber.MethodGet, bank, a.listConsents, authz.RoleCanGetConsentsAtOneBank, authz.RoleCanGetConsentsAtAnyBank)
	r.atBank(fiber.MethodGet, bank+"/:id", a.getConsent, authz.RoleCanGetConsentsAtOneBank, authz.RoleCanGetConsentsAtAnyBank)
	r.taking(bodyOf[revocation]()).atBank(fiber.MethodPost, bank+"/:id/revoke", a.revokeConsent,
		authz.RoleCanRevokeConsentAtOneBank, authz.RoleCanRevokeConsentAtAnyBank)
}

// expireConsents stores every consent past its expiry as expired now,
// rather than at the engine's next sweep, and tells how many.
func (a *API) expireConsents(c *fiber.Ctx) error {
	n, err := a.Consents.ExpireDue(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"expired": n})
}

// revocation is the body of POST /admin/v1/consents/{id}/revoke.
type revocation struct {
	Reason string `json:"reason"`
}

// listConsents answers a page of consents, filtered by ?status=,
// ?consumer_id=, ?user_id=, ?kind= and ?bank_id= (the path's bank on a
// bank's route), after ?after= (a consent id); next_after, when present,
// is the ?after= of the next page.
func (a *API) listConsents(c *fiber.Ctx) error {
	bank, scoped := pathBank(c)
	if !scoped {
		bank = query(c, "bank_id")
	}
	f := consent.Filter{Status: consent.Status(query(c, "status")), ConsumerID: query(c, "consumer_id"),
		UserID: query(c, "user_id"), Kind: query(c, "kind"), BankID: bank, After: query(c, "after"), Limit: limit(c, 100, 1000)}
	list, next, err := a.Consents.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := fiber.Map{"consents": nonNil(list)}
	if next != "" {
		out["next_after"] = next
	}
	return c.JSON(out)
}

func (a *API) getConsent(c *fiber.Ctx) error {
	got, err := a.bankConsent(c)
	if err != nil {
		return err
	}
	return c.JSON(got)
}

// bankConsent is the consent the path names; on a bank's route, only one
// created at that bank (any other is a 404, as unknown).
func (a *API) bankConsent(c *fiber.Ctx) (*consent.Consent, error) {
	got, err := a.Consents.Get(c.UserContext(), param(c, "id"))
	if bank, scoped := pathBank(c); err == nil && scoped && got.BankID != bank {
		err = engine.ErrNotFound
	}
	if err != nil {
		return nil, consentError(err, c.Params("id"))
	}
	return got, nil
}

// pathBank is the bank the route's path names, if it names one.
func pathBank(c *fiber.Ctx) (string, bool) {
	bank := param(c, "bank_id")
	return bank, bank != ""
}

func (a *API) revokeConsent(c *fiber.Ctx) error {
	body := decoded[revocation](c)
	if body.Reason == "" {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "a revocation names its reason",
			engine.Violation{Location: "body", Pointer: "/reason", Code: "required", Message: "reason is required"})
	}
	if _, err := a.bankConsent(c); err != nil {
		return err
	}
	got, err := a.Consents.Revoke(c.UserContext(), param(c, "id"), body.Reason, actor(c))
	if err != nil {
		return consentError(err, c.Params("id"))
	}
	return c.JSON(got)
}

// consentError is a 404 for a consent that does not exist, else err.
func consentError(err error, id string) error {
	if errors.Is(err, engine.ErrNotFound) {
		return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no consent %q", id)
	}
	return err
}

// maxExplainPath bounds the path an explanation is asked for.
const maxExplainPath = 2048

// explanation is the answer of GET /admin/v1/consents/{id}/explain: the
// decision the consent check would take on a call by the consent's TPP
// and customer under it, without calling the back end.
type explanation struct {
	Allowed     bool   `json:"allowed"`
	OperationID string `json:"operation_id"`
	// Rule, Code, Status and Message are the first rule broken and the
	// refusal the caller would get; none when allowed.
	Rule               string             `json:"rule,omitempty"`
	Code               string             `json:"code,omitempty"`
	Status             int                `json:"status,omitempty"`
	Message            string             `json:"message,omitempty"`
	Consent            explainedConsent   `json:"consent"`
	MissingPermissions []string           `json:"missing_permissions,omitempty"`
	Account            string             `json:"account,omitempty"`
	Violations         []engine.Violation `json:"violations,omitempty"`
}

// explainedConsent is what of a consent an explanation shows.
type explainedConsent struct {
	ID          string         `json:"consent_id"`
	Status      consent.Status `json:"status"`
	ConsumerID  string         `json:"consumer_id"`
	UserID      string         `json:"user_id,omitempty"`
	Permissions []string       `json:"permissions"`
	Accounts    []string       `json:"accounts,omitempty"`
	ExpiresAt   *time.Time     `json:"expires_at,omitempty"`
}

// explainConsent replays the decision the consent check of the operation
// served at ?method= (GET by default) and ?path= would take on a call made
// under consent {id} by its own TPP and customer, with the same decision
// function as every call, on the routes served now.
func (a *API) explainConsent(c *fiber.Ctx) error {
	method, path := strings.ToUpper(cmp.Or(query(c, "method"), fiber.MethodGet)), query(c, "path")
	if !strings.HasPrefix(path, "/") || len(path) > maxExplainPath {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "explain needs the path of a call",
			engine.Violation{Location: "query", Pointer: "/path", Code: "invalid",
				Message: "path is the path of a call, starting with /, at most 2048 bytes"})
	}
	got, err := a.Consents.Get(c.UserContext(), param(c, "id"))
	if err != nil {
		return consentError(err, c.Params("id"))
	}
	var params router.Params
	route, ok, _ := a.Endpoints.Snapshot().Routes.Match(method, path, &params)
	if !ok {
		return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no operation is served at %s %s", method, path)
	}
	var check *consent.Check
	for _, p := range route.Hooks.Policies {
		if k, is := p.(*consent.Check); is {
			check = k
		}
	}
	if check == nil {
		return engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest,
			"operation %s is not called under a consent: its roles decide", route.Operation.ID)
	}
	principal := &engine.Principal{UserID: got.UserID, ConsumerID: got.ConsumerID, ConsentID: got.ID}
	d, err := check.Decide(c.UserContext(), principal, route.BankID(&params), &params)
	if err != nil {
		return engine.Surface(err)
	}
	out := explanation{Allowed: d.Err == nil, OperationID: check.OperationID(), Rule: d.Rule,
		MissingPermissions: d.Missing, Account: d.Account,
		Consent: explainedConsent{ID: got.ID, Status: got.Status, ConsumerID: got.ConsumerID, UserID: got.UserID,
			Permissions: got.Permissions, Accounts: got.Accounts, ExpiresAt: got.ExpiresAt}}
	if d.Err != nil {
		out.Code, out.Status, out.Message, out.Violations = d.Err.Code, d.Err.Status, d.Err.Message, d.Err.Violations
	}
	return c.JSON(out)
}
