package authorize

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// opening is the body that opens an authorisation through the JSON API.
type opening struct {
	ClientID     string `json:"client_id"`
	RequestURI   string `json:"request_uri"`
	Request      string `json:"request"`
	ResponseType string `json:"response_type"`
}

// accountChoice is the body naming the accounts to share.
type accountChoice struct {
	Accounts []string `json:"accounts"`
}

// scaAnswer is the body answering the one-time code.
type scaAnswer struct {
	Answer string `json:"answer"`
}

// customer is the customer calling the JSON API: a person logged in, not
// a TPP's token.
func customer(c *fiber.Ctx) (consentauth.Caller, error) {
	p := server.CallOf(c).Principal
	if p == nil || p.UserID == "" || p.Method == oauth2.Method || p.Method == oauth2.MethodConsent {
		return consentauth.Caller{}, engine.NewError(http.StatusForbidden, engine.CodeForbidden,
			"a consent is authorised by the customer logged in, not by a client's token")
	}
	return consentauth.Caller{UserID: p.UserID, Address: server.Credentials(c).ClientAddr(),
		CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID))}, nil
}

// decoded is the body the route's Decode stage read.
func decoded[T any](c *fiber.Ctx) *T { return server.CallOf(c).Body.(*T) }

// answer renders an authorisation, with no-store: it may hold a code.
func answer(c *fiber.Ctx, status int, a *consentauth.Authorisation) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(a)
}

// open starts an authorisation of a pushed request or a request object
// for the customer.
func (a *API) open(c *fiber.Ctx) error {
	who, err := customer(c)
	if err != nil {
		return err
	}
	in := decoded[opening](c)
	out, err := a.Auth.Open(c.UserContext(), consentauth.AuthorizationRequest{ClientID: in.ClientID, RequestURI: in.RequestURI,
		Request: in.Request, ResponseType: in.ResponseType}, who)
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, out.Authorisation)
}

// step runs one step of the customer's authorisation named in the path.
func (a *API) step(c *fiber.Ctx, run func(id string, who consentauth.Caller) (*consentauth.Authorisation, error)) error {
	who, err := customer(c)
	if err != nil {
		return err
	}
	out, err := run(strings.Clone(c.Params("authorisation_id")), who)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK, out)
}

func (a *API) get(c *fiber.Ctx) error {
	return a.step(c, func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.Get(c.UserContext(), id, who)
	})
}

func (a *API) chooseAccounts(c *fiber.Ctx) error {
	return a.step(c, func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.ChooseAccounts(c.UserContext(), id, who, decoded[accountChoice](c).Accounts)
	})
}

func (a *API) answer(c *fiber.Ctx) error {
	return a.step(c, func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.Answer(c.UserContext(), id, who, decoded[scaAnswer](c).Answer)
	})
}

func (a *API) reject(c *fiber.Ctx) error {
	return a.step(c, func(id string, who consentauth.Caller) (*consentauth.Authorisation, error) {
		return a.Auth.Reject(c.UserContext(), id, who)
	})
}
