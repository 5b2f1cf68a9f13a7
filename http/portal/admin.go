package portal

import "github.com/gofiber/fiber/v2"

// adminRoutes mounts the admin pages.
func (p *portal) adminRoutes(get, post func(string, fiber.Handler)) {}
