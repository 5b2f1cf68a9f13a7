package admin

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/metrics"
)

// registerMetrics serves GET /metrics, the Prometheus metrics, to callers
// holding CanGetMetrics, when a.Metrics is set (metrics on, and not served
// on a listener of their own).
func (a *API) registerMetrics(r routes) {
	if a.Metrics != nil {
		r.system(fiber.MethodGet, "/metrics", a.metrics, authz.RoleCanGetMetrics)
	}
}

// metrics answers every metric in the Prometheus text format.
func (a *API) metrics(c *fiber.Ctx) error {
	var out bytes.Buffer
	if err := a.Metrics.Write(&out); err != nil {
		return engine.Internal(err)
	}
	c.Set(fiber.HeaderContentType, metrics.ContentType)
	return c.Send(out.Bytes())
}
