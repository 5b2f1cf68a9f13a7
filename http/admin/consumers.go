package admin

import (
	"encoding/json"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/server"
)

// registerConsumers mounts consumer app management.
func (a *API) registerConsumers(r routes) {
	r.taking(bodyOf[newConsumer]()).system(fiber.MethodPost, "/consumers", a.createConsumer, authz.RoleCanCreateConsumer)
	r.system(fiber.MethodGet, "/consumers", a.listConsumers, authz.RoleCanGetConsumers)
	r.system(fiber.MethodGet, "/consumers/:consumer_id", a.getConsumer, authz.RoleCanGetConsumers)
	r.taking(bodyOf[consumerState]()).loggedIn(fiber.MethodPut, "/consumers/:consumer_id", a.setConsumerEnabled)
}

// newConsumer is the body of a consumer registration.
type newConsumer struct {
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
}

// redirectURIs is the body of setRedirectURIs.
type redirectURIs struct {
	RedirectURIs []string `json:"redirect_uris"`
}

// setRedirectURIs replaces the redirect URIs of one of the caller's own
// consumers: {"redirect_uris": [...]}; another's is a 404.
func (a *API) setRedirectURIs(c *fiber.Ctx) error {
	in := decoded[redirectURIs](c)
	if in.RedirectURIs == nil {
		return badRequest(`the body must be {"redirect_uris": [...]}`)
	}
	consumer, err := a.Access.Identity.SetConsumerRedirectURIs(c.UserContext(), actor(c), param(c, "consumer_id"), in.RedirectURIs)
	if err != nil {
		return err
	}
	return c.JSON(consumer)
}

// callbackURLs is the body of setCallbackURLs.
type callbackURLs struct {
	CallbackURLs []string `json:"callback_urls"`
}

// setCallbackURLs replaces the callback URLs of one of the caller's own
// consumers, each checked by the events service's URL checker:
// {"callback_urls": [...]}; another's is a 404.
func (a *API) setCallbackURLs(c *fiber.Ctx) error {
	in := decoded[callbackURLs](c)
	if in.CallbackURLs == nil {
		return badRequest(`the body must be {"callback_urls": [...]}`)
	}
	consumer, err := a.Access.Identity.SetConsumerCallbackURLs(c.UserContext(), actor(c), param(c, "consumer_id"), in.CallbackURLs, a.CallbackURLs)
	if err != nil {
		return err
	}
	return c.JSON(consumer)
}

// authorizationPolicy is the body of setAuthorizationPolicy.
type authorizationPolicy struct {
	Policy string          `json:"authorization_policy"`
	JWKS   json.RawMessage `json:"jwks"`
}

// setAuthorizationPolicy sets how one of the caller's own consumers sends
// authorization requests, with the JWK Set of its request objects:
// {"authorization_policy": "par_pkce"|"fapi1_request_object", "jwks":
// {"keys": [...]}}; another's is a 404.
func (a *API) setAuthorizationPolicy(c *fiber.Ctx) error {
	in := decoded[authorizationPolicy](c)
	o := identity.AuthorizationPolicyOptions{AllowUnsigned: a.Grants != nil && a.Grants.AllowsUnsignedRequestObjects()}
	consumer, err := a.Access.Identity.SetConsumerAuthorizationPolicy(c.UserContext(), actor(c), param(c, "consumer_id"), in.Policy, in.JWKS, o)
	if err != nil {
		return err
	}
	return c.JSON(consumer)
}

// createdConsumer is the one response that shows a consumer's secret.
type createdConsumer struct {
	*identity.Consumer
	Secret string `json:"consumer_secret"`
}

func (a *API) createConsumer(c *fiber.Ctx) error {
	in := decoded[newConsumer](c)
	consumer, secret, err := a.Access.Identity.CreateConsumer(c.UserContext(), actor(c), in.Name, in.RedirectURIs...)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(createdConsumer{consumer, secret})
}

func (a *API) listConsumers(c *fiber.Ctx) error {
	list, err := a.Access.Identity.Consumers(c.UserContext(), "")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"consumers": nonNil(list)})
}

func (a *API) getConsumer(c *fiber.Ctx) error {
	consumer, err := a.Access.Identity.Consumer(c.UserContext(), param(c, "consumer_id"))
	if err != nil {
		return err
	}
	return c.JSON(consumer)
}

// consumerState is the body of setConsumerEnabled.
type consumerState struct {
	Enabled *bool `json:"enabled"`
}

// setConsumerEnabled enables (CanEnableConsumers) or disables
// (CanDisableConsumers) a consumer: {"enabled": false}.
func (a *API) setConsumerEnabled(c *fiber.Ctx) error {
	in := decoded[consumerState](c)
	if in.Enabled == nil {
		return badRequest(`the body must be {"enabled": true|false}`)
	}
	role := authz.RoleCanDisableConsumers
	if *in.Enabled {
		role = authz.RoleCanEnableConsumers
	}
	if err := server.Guard(c.UserContext(), a.Gate, principal(c), ruleOf(role), ""); err != nil {
		return err
	}
	consumer, err := a.Access.Identity.SetConsumerEnabled(c.UserContext(), actor(c), param(c, "consumer_id"), *in.Enabled)
	if err != nil {
		return err
	}
	return c.JSON(consumer)
}
