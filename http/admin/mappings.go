package admin

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/endpointmap"
)

// registerMappings mounts endpoint mappings (OBP's format), system and bank
// level.
func (a *API) registerMappings(r routes) {
	sys := "/endpoint-mappings"
	r.taking(bodyOf[endpointmap.NewMapping]()).system(fiber.MethodPost, sys, a.createMapping, authz.RoleCanCreateEndpointMapping)
	r.system(fiber.MethodGet, sys, a.listMappings, authz.RoleCanGetEndpointMappings)
	r.system(fiber.MethodDelete, sys+"/:id", a.deleteMapping, authz.RoleCanDeleteEndpointMapping)
	bank := "/banks/:bank_id/endpoint-mappings"
	r.taking(bodyOf[endpointmap.NewMapping]()).atBank(fiber.MethodPost, bank, a.createMapping, authz.RoleCanCreateEndpointMapping)
	r.atBank(fiber.MethodGet, bank, a.listMappings, authz.RoleCanGetEndpointMappings)
	r.atBank(fiber.MethodDelete, bank+"/:id", a.deleteMapping, authz.RoleCanDeleteEndpointMapping)
}

func (a *API) createMapping(c *fiber.Ctx) error {
	in := decoded[endpointmap.NewMapping](c)
	m, err := a.Cases.CreateMapping(c.UserContext(), actor(c), param(c, "bank_id"), *in)
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
