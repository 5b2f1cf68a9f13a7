package admin

import (
	"bytes"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/consent"
)

// registerConsentProfiles mounts the consent profiles: the built-in ones,
// read only, and the bank's own, which it posts for its proprietary APIs
// and deletes once no served document is bound to them.
func (a *API) registerConsentProfiles(r routes) {
	if a.ConsentProfiles == nil {
		return
	}
	r.system(fiber.MethodGet, "/consent-profiles", a.listConsentProfiles, authz.RoleCanGetConsentProfiles)
	r.system(fiber.MethodGet, "/consent-profiles/:id", a.getConsentProfile, authz.RoleCanGetConsentProfiles)
	r.system(fiber.MethodPost, "/consent-profiles", a.createConsentProfile, authz.RoleCanCreateConsentProfile)
	r.system(fiber.MethodDelete, "/consent-profiles/:id", a.deleteConsentProfile, authz.RoleCanDeleteConsentProfile)
}

// profileView is a profile as the API shows it: its fields, with those it
// extends filled in, and whether it is built in.
type profileView struct {
	*consent.Profile
	Builtin bool `json:"builtin"`
}

func (a *API) listConsentProfiles(c *fiber.Ctx) error {
	ps := a.ConsentProfiles.Current()
	list := ps.List()
	out := make([]profileView, len(list))
	for i, p := range list {
		out[i] = profileView{Profile: p, Builtin: ps.Builtin(p.ID)}
	}
	return c.JSON(fiber.Map{"consent_profiles": out})
}

func (a *API) getConsentProfile(c *fiber.Ctx) error {
	ps := a.ConsentProfiles.Current()
	p, ok := ps.Get(c.Params("id"))
	if !ok {
		return engine.Errorf(http.StatusNotFound, consent.CodeProfileUnknown, "no consent profile %q", c.Params("id"))
	}
	return c.JSON(profileView{Profile: p, Builtin: ps.Builtin(p.ID)})
}

// createConsentProfile adds a profile of the bank's own: the body is the
// profile, in the format of the built-in ones.
func (a *API) createConsentProfile(c *fiber.Ctx) error {
	p, err := a.ConsentProfiles.Add(c.UserContext(), bytes.Clone(c.Request().Body()), actor(c))
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(profileView{Profile: p})
}

// deleteConsentProfile removes a profile of the bank's own that no served
// document is bound to.
func (a *API) deleteConsentProfile(c *fiber.Ctx) error {
	boundBy := func(id string) []string {
		var docs []string
		for _, ep := range a.Endpoints.All() {
			if ep.Consent != nil && ep.Consent.Profile.ID == id {
				docs = append(docs, ep.ID)
			}
		}
		return docs
	}
	if err := a.ConsentProfiles.Delete(c.UserContext(), param(c, "id"), actor(c), boundBy); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
