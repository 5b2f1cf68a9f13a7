package portal

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// adminRoutes mounts the admin pages. Each calls the API with the user's
// token, so the API's guard decides: a page the user lacks the role for
// shows the API's 403, naming the roles.
func (p *portal) adminRoutes(get, post func(string, fiber.Handler)) {
	get("/admin", p.signedIn(p.adminPage))
	p.methodRoutes(get, post)
	p.areaRoutes(get, post)
	p.userRoutes(get, post)
}

func (p *portal) adminPage(c *fiber.Ctx, s *session) error {
	return p.render(c, http.StatusOK, "admin", &view{Title: "Administration", Session: s, Data: areas})
}
