package admin

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/endpointmap"
)

// registerMappings mounts endpoint mappings (OBP's format), system and bank
// level.
func (a *API) registerMappings(g fiber.Router) {
	for _, prefix := range []string{"/endpoint-mappings", "/banks/:bank_id/endpoint-mappings"} {
		guard := a.system
		if prefix != "/endpoint-mappings" {
			guard = a.atBank
		}
		g.Post(prefix, guard(authz.RoleCanCreateEndpointMapping), a.createMapping)
		g.Get(prefix, guard(authz.RoleCanGetEndpointMappings), a.listMappings)
		g.Delete(prefix+"/:id", guard(authz.RoleCanDeleteEndpointMapping), a.deleteMapping)
	}
}

func (a *API) createMapping(c *fiber.Ctx) error {
	var in endpointmap.NewMapping
	if err := decode(c, &in); err != nil {
		return err
	}
	m, err := a.Cases.CreateMapping(c.UserContext(), actor(c), param(c, "bank_id"), in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(m)
}

func (a *API) listMappings(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"endpoint_mappings": nonNil(a.Mappings.List(param(c, "bank_id")))})
}

func (a *API) deleteMapping(c *fiber.Ctx) error {
	if err := a.Cases.DeleteMapping(c.UserContext(), actor(c), param(c, "bank_id"), param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
