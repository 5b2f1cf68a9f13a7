// Package obpconsent serves OBP's consent routes over engine/obpconsent:
// a logged-in customer creates a consent and answers its challenge; a
// consumer starts consent requests a customer turns into consents.
package obpconsent

import (
	"bytes"
	"cmp"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/obpconsent"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// API serves the routes.
type API struct {
	Consents *obpconsent.Service
}

// Routes are OBP's consent routes (OBP v5.1.0's paths, without the
// version prefix).
func Routes(a *API) []server.Route {
	return []server.Route{
		{Method: fiber.MethodPost, Path: "/banks/:bank_id/my/consents/:sca_method", AtBank: true, Decode: server.JSONBody[obpconsent.Body](), Handle: a.create},
		{Method: fiber.MethodPost, Path: "/my/consents/:sca_method", Decode: server.JSONBody[obpconsent.Body](), Handle: a.create},
		{Method: fiber.MethodPost, Path: "/banks/:bank_id/consents/:consent_id/challenge", AtBank: true, Decode: server.JSONBody[answer](), Handle: a.answer},
		{Method: fiber.MethodPost, Path: "/my/consents/:consent_id/challenge", Decode: server.JSONBody[answer](), Handle: a.answer},
		{Method: fiber.MethodPost, Path: "/consumer/consent-requests", Decode: server.JSONBody[obpconsent.Body](), Handle: a.createRequest},
		{Method: fiber.MethodGet, Path: "/consumer/consent-requests/:consent_request_id", Handle: a.getRequest},
		{Method: fiber.MethodPost, Path: "/consumer/consent-requests/:consent_request_id/:sca_method/consents", Handle: a.createFromRequest},
	}
}

// answer is the body answering a challenge.
type answer struct {
	Answer string `json:"answer"`
}

// customer is the customer calling: a person logged in, not a client's
// token.
func customer(c *fiber.Ctx) (*engine.Principal, error) {
	p := server.CallOf(c).Principal
	if p == nil || p.UserID == "" || p.Method == oauth2.Method || p.Method == oauth2.MethodConsent {
		return nil, engine.NewError(http.StatusForbidden, engine.CodeForbidden,
			"a consent is created and accepted by the customer logged in, not by a client's token")
	}
	return p, nil
}

// actor is who makes a change, for the audit log.
func actor(c *fiber.Ctx) audit.Actor {
	p := server.CallOf(c).Principal
	return audit.Actor{UserID: p.UserID, ConsumerID: p.ConsumerID,
		CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID)), Address: server.Credentials(c).ClientAddr()}
}

// param is a path parameter, copied: fiber's strings point into buffers
// the next request reuses.
func param(c *fiber.Ctx, name string) string { return strings.Clone(c.Params(name)) }

// rawBody is the request body, copied: it is stored with the consent.
func rawBody(c *fiber.Ctx) []byte { return bytes.Clone(c.Request().Body()) }

// created answers a consent with no-store: it holds a Consent-JWT.
func created(c *fiber.Ctx, out any) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(out)
}

// create creates a consent of the customer calling, at the path's bank
// or, on /my/consents/{sca_method}, the body's bank_id.
func (a *API) create(c *fiber.Ctx) error {
	p, err := customer(c)
	if err != nil {
		return err
	}
	b := server.CallOf(c).Body.(*obpconsent.Body)
	bankID := cmp.Or(param(c, "bank_id"), b.BankID)
	out, err := a.Consents.Create(c.UserContext(), p, actor(c), bankID, param(c, "sca_method"), b, rawBody(c))
	if err != nil {
		return err
	}
	return created(c, out)
}

// answer answers the challenge of a consent of the customer calling.
func (a *API) answer(c *fiber.Ctx) error {
	p, err := customer(c)
	if err != nil {
		return err
	}
	b := server.CallOf(c).Body.(*answer)
	out, err := a.Consents.Answer(c.UserContext(), p, actor(c), param(c, "bank_id"), param(c, "consent_id"), b.Answer)
	if err != nil {
		return err
	}
	return created(c, out)
}

// createRequest starts a consent request of the consumer calling.
func (a *API) createRequest(c *fiber.Ctx) error {
	b := server.CallOf(c).Body.(*obpconsent.Body)
	out, err := a.Consents.CreateRequest(c.UserContext(), server.CallOf(c).Principal.ConsumerID, actor(c), b, rawBody(c))
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(out)
}

// getRequest answers a consent request of the consumer calling.
func (a *API) getRequest(c *fiber.Ctx) error {
	out, err := a.Consents.GetRequest(c.UserContext(), server.CallOf(c).Principal.ConsumerID, param(c, "consent_request_id"))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// createFromRequest makes the consent of a consent request for the
// customer calling.
func (a *API) createFromRequest(c *fiber.Ctx) error {
	p, err := customer(c)
	if err != nil {
		return err
	}
	out, err := a.Consents.CreateFromRequest(c.UserContext(), p, actor(c), param(c, "consent_request_id"), param(c, "sca_method"))
	if err != nil {
		return err
	}
	return created(c, out)
}
