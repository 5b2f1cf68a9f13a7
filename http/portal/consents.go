package portal

import "github.com/gofiber/fiber/v2"

// consentRoutes mounts "My consents".
func (p *portal) consentRoutes(get, post func(string, fiber.Handler)) {}
