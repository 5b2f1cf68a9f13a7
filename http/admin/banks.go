package admin

import (
	"net/http"

	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/gofiber/fiber/v2"
)

// registerBanks mounts bank management. Reading banks needs only login.
func (a *API) registerBanks(r routes) {
	r.taking(bodyOf[banks.Bank]()).system(fiber.MethodPost, "/banks", a.createBank, authz.RoleCanCreateBank)
	r.loggedIn(fiber.MethodGet, "/banks", a.listBanks)
	r.loggedIn(fiber.MethodGet, "/banks/:bank_id", a.getBank)
}

func (a *API) createBank(c *fiber.Ctx) error {
	in := decoded[banks.Bank](c)
	b, err := a.Access.CreateBank(c.UserContext(), actor(c), *in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(b)
}

func (a *API) listBanks(c *fiber.Ctx) error {
	list, err := a.Access.Banks.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"banks": nonNil(list)})
}

func (a *API) getBank(c *fiber.Ctx) error {
	b, err := a.Access.Banks.Get(c.UserContext(), param(c, "bank_id"))
	if err != nil {
		return err
	}
	return c.JSON(b)
}
