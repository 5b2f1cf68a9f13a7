package portal

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/server"
)

// appRoutes mounts "My apps": the developer's consumer apps.
func (p *portal) appRoutes(get, post func(string, fiber.Handler)) {
	get("/apps", p.signedIn(p.appsPage))
	post("/apps", p.signedIn(p.registerApp))
	get("/apps/:consumer_id", p.signedIn(p.appPage))
	post("/apps/:consumer_id/urls", p.signedIn(p.setAppURLs))
	post("/apps/:consumer_id/disable", p.signedIn(p.disableApp))
}

// newApp is what the registration form holds.
type newApp struct {
	Name         string
	RedirectURIs string
	CallbackURLs string
}

// createdApp is the result page: the one time the secret is shown.
type createdApp struct {
	identity.Consumer
	Secret string `json:"consumer_secret"`
	// CallbackError is why the callback URLs were not set, the app being
	// registered all the same.
	CallbackError *engine.Error `json:"-"`
}

// myApps are the apps the user registered, from GET /my/consumers.
func (p *portal) myApps(c *fiber.Ctx, s *session) ([]identity.Consumer, error) {
	got := p.call(c, fiber.MethodGet, "/my/consumers", s.Token, "", nil)
	if err := got.err(); err != nil {
		return nil, err
	}
	var out struct {
		Consumers []identity.Consumer `json:"consumers"`
	}
	return out.Consumers, got.decode(&out)
}

func (p *portal) appsPage(c *fiber.Ctx, s *session) error {
	return p.showApps(c, s, http.StatusOK, nil, newApp{})
}

// showApps renders the list of apps with the registration form.
func (p *portal) showApps(c *fiber.Ctx, s *session, status int, fault *engine.Error, form newApp) error {
	apps, err := p.myApps(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	return p.render(c, status, "apps", &view{Title: "My apps", Session: s, Error: fault,
		Data: struct {
			Apps []identity.Consumer
			Form newApp
		}{apps, form}})
}

// lines splits a textarea into its non-blank lines.
func lines(s string) []string {
	out := []string{}
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// registerApp registers a consumer through POST /my/consumers (its
// validation, audit) and sets its callback URLs through PUT
// /my/consumers/{id}/callback-urls, then shows its key and secret once.
func (p *portal) registerApp(c *fiber.Ctx, s *session) error {
	form := newApp{Name: strings.Clone(c.FormValue("name")), RedirectURIs: strings.Clone(c.FormValue("redirect_uris")),
		CallbackURLs: strings.Clone(c.FormValue("callback_urls"))}
	got := p.callJSON(c, fiber.MethodPost, "/my/consumers", s.Token,
		map[string]any{"name": form.Name, "redirect_uris": lines(form.RedirectURIs)})
	if !got.ok() {
		return p.showApps(c, s, got.Status, got.problem(), form)
	}
	var app createdApp
	if err := got.decode(&app); err != nil {
		return err
	}
	if urls := lines(form.CallbackURLs); len(urls) > 0 {
		set := p.callJSON(c, fiber.MethodPut, "/my/consumers/"+app.ID+"/callback-urls", s.Token, map[string]any{"callback_urls": urls})
		if set.ok() {
			app.CallbackURLs = urls
		} else {
			app.CallbackError = set.problem()
		}
	}
	return p.render(c, http.StatusCreated, "app-created", &view{Title: "Your app is registered", Session: s, Data: &app})
}

// myApp is one of the user's apps, or a 404 for any other.
func (p *portal) myApp(c *fiber.Ctx, s *session) (*identity.Consumer, error) {
	apps, err := p.myApps(c, s)
	if err != nil {
		return nil, err
	}
	id := c.Params("consumer_id")
	for i := range apps {
		if apps[i].ID == id {
			return &apps[i], nil
		}
	}
	return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "you have no app %q", id)
}

func (p *portal) appPage(c *fiber.Ctx, s *session) error {
	app, err := p.myApp(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	return p.render(c, http.StatusOK, "app", &view{Title: "App " + app.Name, Session: s, Data: app})
}

// setAppURLs replaces an app's redirect URIs and callback URLs through
// the API's self-service routes.
func (p *portal) setAppURLs(c *fiber.Ctx, s *session) error {
	app, err := p.myApp(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	redirects, callbacks := lines(c.FormValue("redirect_uris")), lines(c.FormValue("callback_urls"))
	for _, step := range []struct {
		path string
		body map[string]any
	}{
		{"/redirect-uris", map[string]any{"redirect_uris": redirects}},
		{"/callback-urls", map[string]any{"callback_urls": callbacks}},
	} {
		got := p.callJSON(c, fiber.MethodPut, "/my/consumers/"+app.ID+step.path, s.Token, step.body)
		if !got.ok() {
			app.RedirectURIs, app.CallbackURLs = redirects, callbacks
			return p.render(c, got.Status, "app", &view{Title: "App " + app.Name, Session: s, Error: got.problem(), Data: app})
		}
	}
	return redirect(c, "/apps/"+app.ID)
}

// disableApp disables one of the user's own apps. The API lets only
// holders of CanDisableConsumers disable an app; its creator may disable
// (never enable) their own: the portal checks the app is theirs, then
// makes the same audited change (consumer.disable) as the admin route.
func (p *portal) disableApp(c *fiber.Ctx, s *session) error {
	app, err := p.myApp(c, s)
	if err != nil {
		return p.failed(c, s, err)
	}
	act := audit.Actor{UserID: s.UserID, CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID)),
		Address: server.Credentials(c).ClientAddr()}
	if _, err := p.Identity.SetConsumerEnabled(c.UserContext(), act, app.ID, false); err != nil {
		return p.failed(c, s, err)
	}
	return redirect(c, "/apps")
}
