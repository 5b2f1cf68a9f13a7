package portal_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// limitedApp registers a consumer as the super admin and logs the admin
// in through it: its id and the admin's token through it.
func limitedApp(t *testing.T, inst *enginetest.Engine, name string) (string, enginetest.Caller) {
	t.Helper()
	r := inst.Admin().PostJSON(t, "/admin/v1/consumers", map[string]string{"name": name})
	if r.Status != http.StatusCreated {
		t.Fatalf("consumer %s: %d %s", name, r.Status, r.Body)
	}
	m := r.JSON(t)
	login := inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodPost, Path: "/my/logins/direct", Header: map[string]string{
		"DirectLogin": `username="` + enginetest.AdminUsername + `", password="` + enginetest.AdminPassword + `", consumer_key="` + m["consumer_key"].(string) + `"`}})
	if login.Status != http.StatusCreated {
		t.Fatalf("login through %s: %d %s", name, login.Status, login.Body)
	}
	return m["consumer_id"].(string), inst.Token(login.JSON(t)["token"].(string))
}

// TestConsumerCallLimitsFromThePortal: the admin finds a consumer in the
// consumers list (never its secret), refused values show the API's
// violation next to the field and change nothing, a limit of 5 a second
// set through the form is what the API answers and refuses the
// consumer's 6th call in the second, "Use the default" removes it, and
// the consumer is disabled from its page. A user without the roles is
// refused the pages and the form.
func TestConsumerCallLimitsFromThePortal(t *testing.T) {
	inst := enginetest.New(t)
	id, viaApp := limitedApp(t, inst, "limited-app")
	limitsAPI := "/admin/v1/consumers/" + id + "/call-limits"
	page, form := "/portal/admin/consumers/"+id, "/portal/admin/consumers/"+id+"/call-limits"
	c := newClient(t, inst)
	c.signIn(t, enginetest.AdminUsername, enginetest.AdminPassword)

	c.get(t, "/portal/admin")
	if !strings.Contains(c.page, `href="/portal/admin/consumers"`) {
		t.Errorf("the admin home does not list the consumers: %.500s", c.page)
	}
	c.get(t, "/portal/admin/consumers")
	if c.status != http.StatusOK || !strings.Contains(c.page, `href="`+page+`"`) || !strings.Contains(c.page, "limited-app") ||
		strings.Contains(strings.ToLower(c.page), "secret") {
		t.Fatalf("the consumers list: %d %.500s", c.status, c.page)
	}

	for _, bad := range []struct{ name, value, fault string }{
		{"not a number", "abc", "whole number"},
		{"zero", "0", "disable the consumer"},
		{"a fraction", "1.5", "whole number"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			c.submit(t, page, form, url.Values{"per_second_call_limit": {bad.value}, "per_minute_call_limit": {"-1"}})
			if c.status != http.StatusBadRequest || !strings.Contains(c.page, `id="per_second_call_limit-fault"`) ||
				!strings.Contains(c.page, bad.fault) || !strings.Contains(c.page, `value="`+bad.value+`"`) {
				t.Errorf("the page: %d %.2000s", c.status, c.page)
			}
			if got := inst.Admin().Get(t, limitsAPI).JSON(t); got["is_default"] != true {
				t.Errorf("the API has %v after a refused form", got)
			}
		})
	}

	c.submit(t, page, form, url.Values{"per_second_call_limit": {"5"}, "per_minute_call_limit": {""}, "per_hour_call_limit": {"-1"}})
	if c.status != http.StatusSeeOther {
		t.Fatalf("saving 5 a second: %d %.500s", c.status, c.page)
	}
	got := inst.Admin().Get(t, limitsAPI).JSON(t)
	if got["per_second_call_limit"] != "5" || got["per_minute_call_limit"] != "-1" || got["is_default"] != false {
		t.Fatalf("the API answers %v, want 5 a second", got)
	}
	if inst.Audited(t, "call_limits.set", id) != 1 {
		t.Error("setting the limits from the portal is not audited")
	}
	statuses := make([]int, 6)
	for i := range statuses {
		statuses[i] = viaApp.Get(t, "/my/user").Status
	}
	if want := []int{200, 200, 200, 200, 200, 429}; !slices.Equal(statuses, want) {
		t.Errorf("the consumer's calls in one second: %v, want %v", statuses, want)
	}
	c.get(t, page)
	if !strings.Contains(c.page, `id="per_second_call_limit" name="per_second_call_limit" value="5"`) ||
		!strings.Contains(c.page, "5 calls in this window") || !strings.Contains(c.page, "set here") {
		t.Errorf("the consumer page after saving: %.3000s", c.page)
	}

	plain := newClient(t, inst)
	u := inst.CreateUser(t, "no-roles", "No-roles-passw0rd")
	plain.signIn(t, u.Username, u.Password)
	plain.get(t, page)
	if plain.status != http.StatusForbidden {
		t.Errorf("the consumer page without the role: %d", plain.status)
	}
	plain.submit(t, "/portal/apps", form, url.Values{"per_second_call_limit": {"100"}})
	if plain.status != http.StatusForbidden || !strings.Contains(plain.page, "Can") {
		t.Errorf("the form without the role: %d %.300s", plain.status, plain.page)
	}
	plain.submit(t, "/portal/apps", page+"/disable", url.Values{})
	if got := inst.Admin().Get(t, limitsAPI).JSON(t); got["per_second_call_limit"] != "5" || plain.status != http.StatusForbidden {
		t.Errorf("after the refused forms: %d, the API has %v", plain.status, got)
	}

	c.submit(t, page, form+"/default", url.Values{})
	if got := inst.Admin().Get(t, limitsAPI).JSON(t); c.status != http.StatusSeeOther || got["is_default"] != true {
		t.Errorf("use the default: %d, the API has %v", c.status, got)
	}
	c.submit(t, page, page+"/disable", url.Values{})
	if got, _ := inst.Access.Identity.Consumer(t.Context(), id); c.status != http.StatusSeeOther || got.Enabled {
		t.Errorf("disable: %d, enabled %v", c.status, got.Enabled)
	}
	c.get(t, page)
	if !strings.Contains(c.page, `id="consumer-state">disabled`) || !strings.Contains(c.page, "Enable this consumer") {
		t.Errorf("the page of the disabled consumer: %.1000s", c.page)
	}
}

// TestUserCallLimitsFromThePortal: the user page sets a user's limits
// through the API, and shows a bad date's violation next to its field.
func TestUserCallLimitsFromThePortal(t *testing.T) {
	inst := enginetest.New(t)
	u := inst.CreateUser(t, "limited-user", "Limited-user-passw0rd")
	limitsAPI := "/admin/v1/users/" + u.ID + "/call-limits"
	page, form := "/portal/admin/users/"+u.ID, "/portal/admin/users/"+u.ID+"/call-limits"
	c := newClient(t, inst)
	c.signIn(t, enginetest.AdminUsername, enginetest.AdminPassword)

	c.submit(t, page, form, url.Values{"per_minute_call_limit": {"3"}, "from_date": {"2030-02-01"}, "to_date": {"2030-01-01"}})
	if c.status != http.StatusBadRequest || !strings.Contains(c.page, `id="to_date-fault"`) {
		t.Fatalf("to before from: %d %.2000s", c.status, c.page)
	}
	if got := inst.Admin().Get(t, limitsAPI).JSON(t); got["is_default"] != true {
		t.Fatalf("the API has %v after a refused form", got)
	}
	c.submit(t, page, form, url.Values{"per_minute_call_limit": {"3"}, "to_date": {"2030-01-01"}})
	got := inst.Admin().Get(t, limitsAPI).JSON(t)
	if c.status != http.StatusSeeOther || got["per_minute_call_limit"] != "3" || got["to_date"] != "2030-01-01T00:00:00Z" {
		t.Fatalf("saving 3 a minute: %d, the API has %v", c.status, got)
	}
	c.get(t, page)
	if !strings.Contains(c.page, `value="3"`) || !strings.Contains(c.page, `value="2030-01-01"`) {
		t.Errorf("the user page after saving: %.3000s", c.page)
	}
}
