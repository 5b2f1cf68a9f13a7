package admin

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/access"
)

// registerBanks mounts bank management. Reading banks needs only login.
func (a *API) registerBanks(r routes) {
	r.system(fiber.MethodPost, "/banks", a.createBank, access.RoleCanCreateBank)
	r.loggedIn(fiber.MethodGet, "/banks", a.listBanks)
	r.loggedIn(fiber.MethodGet, "/banks/:bank_id", a.getBank)
}

func (a *API) createBank(c *fiber.Ctx) error {
	var in access.Bank
	if err := decode(c, &in); err != nil {
		return err
	}
	b, err := a.Access.CreateBank(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(b)
}

func (a *API) listBanks(c *fiber.Ctx) error {
	list, err := a.Access.Banks(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"banks": nonNil(list)})
}

func (a *API) getBank(c *fiber.Ctx) error {
	b, err := a.Access.Bank(c.UserContext(), param(c, "bank_id"))
	if err != nil {
		return err
	}
	return c.JSON(b)
}
