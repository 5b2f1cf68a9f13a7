package portal

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/authz"
)

// adminRoutes mounts the admin pages. Each calls the API with the user's
// token, so the API's guard decides: a page the user lacks the role for
// shows the API's 403, naming the roles.
func (p *portal) adminRoutes(get, post func(string, fiber.Handler)) {
	get("/admin", p.signedIn(p.adminPage))
	p.methodRoutes(get, post)
	p.areaRoutes(get, post)
	p.userRoutes(get, post)
	p.consumerRoutes(get, post)
}

// adminHome is what the admin home lists: the areas, and the consumers
// when the user may see them or their call limits.
type adminHome struct {
	Areas     []*area
	Consumers bool
}

func (p *portal) adminPage(c *fiber.Ctx, s *session) error {
	home := adminHome{Areas: areas, Consumers: s.Has(authz.RoleCanGetConsumers) || s.Has(authz.RoleCanReadCallLimits)}
	return p.render(c, http.StatusOK, "admin", &view{Title: "Administration", Session: s, Data: &home})
}
