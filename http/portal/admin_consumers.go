package portal

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

// consumersAPI is the API's consumer routes.
const consumersAPI = "/admin/v1/consumers"

// consumerRoutes mounts the consumers pages: the list, and each
// consumer's page with its state and call limits.
func (p *portal) consumerRoutes(get, post func(string, fiber.Handler)) {
	get("/admin/consumers", p.signedIn(p.consumersPage))
	get("/admin/consumers/:id", p.signedIn(func(c *fiber.Ctx, s *session) error {
		return p.consumerPage(c, s, http.StatusOK, false, nil)
	}))
	post("/admin/consumers/:id/enable", p.signedIn(p.consumerEnabled(true)))
	post("/admin/consumers/:id/disable", p.signedIn(p.consumerEnabled(false)))
	p.limitsRoutes(post, "/admin/consumers", consumerPath, p.consumerPage)
}

// adminConsumer is a consumer as the API answers it (never its secret:
// the API keeps only its hash).
type adminConsumer struct {
	ID        string    `json:"consumer_id"`
	Key       string    `json:"consumer_key"`
	Name      string    `json:"name"`
	Enabled   bool      `json:"enabled"`
	CreatedBy string    `json:"created_by_user_id"`
	CreatedAt time.Time `json:"created_at"`
}

func (p *portal) consumersPage(c *fiber.Ctx, s *session) error {
	got := p.call(c, fiber.MethodGet, consumersAPI, s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	var out struct {
		Consumers []adminConsumer `json:"consumers"`
	}
	if err := got.decode(&out); err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "consumers", &view{Title: "Consumers", Session: s, Data: out.Consumers})
}

// consumerPath is the API path of the consumer c names.
func consumerPath(c *fiber.Ctx) string { return consumersAPI + "/" + url.PathEscape(c.Params("id")) }

// consumerPage shows a consumer, the form enabling or disabling it, and
// its call limits when the user may read them. After a refused form it
// shows status and fault, and when posted the limits sent.
func (p *portal) consumerPage(c *fiber.Ctx, s *session, status int, posted bool, fault *engine.Error) error {
	var data struct {
		Consumer adminConsumer
		Limits   *callLimits
	}
	got := p.call(c, fiber.MethodGet, consumerPath(c), s.Token, "", nil)
	if err := got.err(); err != nil {
		return p.failed(c, s, err)
	}
	if err := got.decode(&data.Consumer); err != nil {
		return err
	}
	limits, err := p.loadCallLimits(c, s, consumerPath(c)+"/call-limits", "/portal/admin/consumers/"+url.PathEscape(data.Consumer.ID)+"/call-limits", posted, fault)
	if err != nil {
		return err
	}
	data.Limits = limits
	return p.render(c, status, "consumer", &view{Title: "Consumer " + data.Consumer.Name, Session: s, Error: fault, Data: &data})
}

// consumerEnabled is the form enabling or disabling the consumer c names.
func (p *portal) consumerEnabled(enabled bool) func(c *fiber.Ctx, s *session) error {
	return func(c *fiber.Ctx, s *session) error {
		got := p.callJSON(c, fiber.MethodPut, consumerPath(c), s.Token, map[string]bool{"enabled": enabled})
		if !got.ok() {
			return p.consumerPage(c, s, got.Status, false, got.problem())
		}
		return redirect(c, "/admin/consumers/"+url.PathEscape(c.Params("id")))
	}
}
