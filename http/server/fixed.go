package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine/router"
)

// fixedRoutes builds, once at start, the table of the routes registered on
// app so far (health, management API, banking core, record API): fiber
// sends a method a fixed path does not serve on to the catch-all, which
// answers 405 from this table instead of 404. A route the table cannot
// hold is a programming error, found at start.
func fixedRoutes(app *fiber.App) *router.Table[struct{}] {
	seen := map[string]bool{}
	var routes []router.Route[struct{}]
	for _, r := range app.GetRoutes(true) {
		tpl := template(r.Path)
		if key := r.Method + " " + tpl; !seen[key] {
			seen[key] = true
			routes = append(routes, router.Route[struct{}]{Method: r.Method, Template: tpl, Owner: "fixed routes"})
		}
	}
	t, err := router.Build(routes)
	if err != nil {
		panic(fmt.Sprintf("server: fixed routes: %v", err))
	}
	return t
}

// template turns a fiber path ("/banks/:bank_id") into a route template
// ("/banks/{bank_id}").
func template(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// fixedAllow is the Allow list of a path no dynamic operation serves with
// method: dynamic, the methods dynamic operations serve there, joined by
// those fixed routes serve there.
func (s *Server) fixedAllow(method, path, dynamic string) string {
	_, ok, fixed := s.fixed.Match(method, path, nil)
	if ok || fixed == "" {
		return dynamic
	}
	if dynamic == "" {
		return fixed
	}
	all := append(strings.Split(dynamic, ", "), strings.Split(fixed, ", ")...)
	slices.Sort(all)
	return strings.Join(slices.Compact(all), ", ")
}
