package portal

import (
	"context"
	"crypto/rand"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/http/server"
)

// ConsumerKey is the key of the built-in consumer the portal's sign-in
// logs users in through (DirectLogin needs one); EnsureConsumer makes it.
const ConsumerKey = "dynapi-portal"

// Prefix is where the portal is served.
const Prefix = "/portal"

// API holds what the portal's pages work on.
type API struct {
	// Engine answers the engine's own API in process (the server's
	// fasthttp handler, set once the server exists): every page calls
	// the API through it with the signed-in user's token.
	Engine fasthttp.RequestHandler
	// Identity creates self-registered users and disables a creator's
	// own app, the two changes the API has no self-service route for.
	Identity *identity.Service
	// Endpoints are the live documents the catalogue lists.
	Endpoints *endpoints.Manager
	// Runner runs a connector method with given arguments for the
	// editor's "Run with these args"; nil: the API's
	// POST /admin/v1/connector-methods/run (APIRunner).
	Runner MethodRunner
	// SelfRegistration shows the sign-up page (--self-registration).
	SelfRegistration bool
}

// EnsureConsumer makes the portal's built-in consumer (ConsumerKey) at
// first start. Its secret is random and never shown: the portal logs in
// with the key alone, as DirectLogin does. Disabling it (PUT
// /admin/v1/consumers/{id}) closes the portal's sign-in.
func EnsureConsumer(ctx context.Context, ids *identity.Service) error {
	if _, ok := ids.ConsumerByKey(ConsumerKey); ok {
		return nil
	}
	_, err := ids.CreateConsumerWith(ctx, audit.Actor{}, "dynapi-portal", ConsumerKey, rand.Text()+rand.Text())
	return err
}

// Routes are the portal's pages and assets, for server.New. They are
// public routes of the pipeline: each page checks the portal's own
// session.
func Routes(a *API) []server.Route {
	p := &portal{API: a}
	if p.Runner == nil {
		p.Runner = APIRunner{portal: p}
	}
	var list []server.Route
	// The portal's pages are not operations of the API (/openapi.json).
	page := server.RouteDoc{Page: true}
	get := func(path string, h fiber.Handler) {
		list = append(list, server.Route{Method: fiber.MethodGet, Path: Prefix + path, Public: true, Handle: h, Doc: page})
	}
	post := func(path string, h fiber.Handler) {
		list = append(list, server.Route{Method: fiber.MethodPost, Path: Prefix + path, Public: true, Handle: p.checked(h), Doc: page})
	}
	get("", p.home)
	get("/", p.home)
	get("/assets/:file", serveAsset)
	get("/assets/swagger-ui/:file", serveSwaggerAsset)
	p.sessionRoutes(get, post)
	p.appRoutes(get, post)
	p.catalogueRoutes(get)
	p.consentRoutes(get, post)
	p.adminRoutes(get, post)
	return list
}

// portal is the API with what its handlers share.
type portal struct {
	*API
}
