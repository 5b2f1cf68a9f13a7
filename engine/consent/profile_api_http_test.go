package consent_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

var (
	acmeDoc     = filepath.Join("testdata", "acme-accounts.yaml")
	acmeProfile = filepath.Join("testdata", "acme-accounts-profile.json")
)

// profileWith is the acme profile with its fields changed by edit.
func profileWith(t *testing.T, edit func(p map[string]any)) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(enginetest.ReadFile(t, acmeProfile), &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pointersOf(t *testing.T, r enginetest.Response) string {
	t.Helper()
	var out []string
	for _, v := range r.Problem(t).Violations {
		out = append(out, v.Pointer)
	}
	return strings.Join(out, " ")
}

// TestConsentProfileAPI: the bank lists the profiles, posts its own for a
// proprietary API (refused with every fault named, or when its id is
// taken), binds a document to it, whose consent resources the engine then
// answers in the profile's words, also after a restart; and deletes it
// once no document is bound to it. Built-in profiles cannot be deleted.
func TestConsentProfileAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	admin := inst.Admin()

	list := admin.Get(t, "/admin/v1/consent-profiles").JSON(t)["consent_profiles"].([]any)
	builtin := map[any]bool{}
	for _, p := range list {
		builtin[p.(map[string]any)["profile_id"]] = p.(map[string]any)["builtin"] == true
	}
	if !builtin["uk-ob-v3.1-ais"] || !builtin["uk-ob-v4.0-ais"] || !builtin["berlin-group-1.3"] ||
		!builtin["uk-ob-v4.0-pis"] || !builtin["uk-ob-v4.0-vrp"] || !builtin["uk-ob-v4.0-cbpii"] {
		t.Fatalf("built-in profiles: %v", list)
	}

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			body     []byte
			status   int
			code     string
			pointers string
		}{
			{"not JSON", []byte(`{"profile_id": `), 400, "invalid_consent_profile", ""},
			{"no id", profileWith(t, func(p map[string]any) { delete(p, "profile_id") }), 400, "invalid_consent_profile", "/profile_id"},
			{"every fault named", profileWith(t, func(p map[string]any) {
				delete(p, "statuses")
				p["rules"] = []any{map[string]any{"name": "r", "require_any": []string{"ReadNothing"}, "message": "m"}}
				p["descriptions"] = map[string]string{"ReadAccounts": "Your accounts"}
				p["operations"].(map[string]any)["getAcmeConsent"] = map[string]any{"action": "get"}
			}), 400, "invalid_consent_profile", "/acme-accounts/statuses/awaiting_authorisation /acme-accounts/statuses/authorised " +
				"/acme-accounts/statuses/rejected /acme-accounts/statuses/revoked /acme-accounts/descriptions/ReadBalances " +
				"/acme-accounts/rules/0/require_any/0 /acme-accounts/operations/getAcmeConsent/id_param"},
			{"a built-in's id", profileWith(t, func(p map[string]any) { p["profile_id"] = "uk-ob-v4.0-ais" }), 409, "consent_profile_exists", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := admin.Post(t, "/admin/v1/consent-profiles", tc.body)
				if r.Status != tc.status || r.Problem(t).Code != tc.code {
					t.Fatalf("%d %s; want %d %s", r.Status, r.Body, tc.status, tc.code)
				}
				if tc.pointers != "" {
					if got := pointersOf(t, r); got != tc.pointers {
						t.Errorf("faults at %s\nwant %s", got, tc.pointers)
					}
				}
			})
		}
	})

	created := admin.Post(t, "/admin/v1/consent-profiles", enginetest.ReadFile(t, acmeProfile))
	if created.Status != 201 || created.JSON(t)["builtin"] != false || created.JSON(t)["profile_id"] != "acme-accounts" {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	if r := admin.Post(t, "/admin/v1/consent-profiles", enginetest.ReadFile(t, acmeProfile)); r.Status != 409 {
		t.Errorf("posted twice: %d %s; want 409", r.Status, r.Body)
	}
	if got := admin.Get(t, "/admin/v1/consent-profiles/acme-accounts").JSON(t); got["builtin"] != false || got["standard"] != "acme" {
		t.Errorf("GET: %v", got)
	}
	if n := inst.Audited(t, "consent_profile.create", "acme-accounts"); n != 1 {
		t.Errorf("%d audit entries consent_profile.create; want 1", n)
	}

	t.Run("a document without the profile's operations", func(t *testing.T) {
		r := admin.Post(t, "/admin/v1/dynamic-endpoints?consent_profile=acme-accounts",
			enginetest.ReadFile(t, testpaths.Shared("specs", "petstore-oas3", "petstore.yaml")))
		if r.Status != 400 || r.Problem(t).Code != "invalid_consent_profile" {
			t.Fatalf("%d %s; want 400 invalid_consent_profile", r.Status, r.Body)
		}
		var named []string
		for _, v := range r.Problem(t).Violations {
			for _, op := range []string{"createAcmeConsent", "getAcmeConsent", "deleteAcmeConsent", "listAcmeAccounts"} {
				if strings.Contains(v.Message, "operation "+op+" ") {
					named = append(named, op)
				}
			}
		}
		// A bank's own profile names its document's operations: the one
		// it only checks calls of (use) is missing too.
		if strings.Join(named, ",") != "createAcmeConsent,deleteAcmeConsent,getAcmeConsent,listAcmeAccounts" {
			t.Errorf("operations named %v: %s", named, r.Body)
		}
	})

	doc := submit(t, inst, acmeDoc, "?consent_profile=acme-accounts")
	if got := doc["consent_profile"].(map[string]any); got["id"] != "acme-accounts" || len(got["bound"].([]any)) != 4 {
		t.Fatalf("consent_profile %v", got)
	}
	docID := doc["dynamic_endpoint_id"].(string)
	auth := tppAuthorization(t, inst, "acme app")
	app := inst.WithAuthorization(auth)
	r := app.PostJSON(t, "/acme/v1/consents", consentRequest(inst, "ReadAccounts"))
	if r.Status != 201 || r.JSON(t)["Data"].(map[string]any)["Status"] != "PENDING" {
		t.Fatalf("create an acme consent: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	if r := app.PostJSON(t, "/acme/v1/consents", consentRequest(inst, "ReadBalances")); r.Status != 400 || !strings.Contains(string(r.Body), `"A1"`) {
		t.Errorf("the profile's rule: %d %s; want 400 with error code A1", r.Status, r.Body)
	}

	for _, tc := range []struct {
		name, id string
		status   int
		code     string
	}{
		{"bound to a served document", "acme-accounts", 409, "consent_profile_in_use"},
		{"built in", "uk-ob-v4.0-ais", 403, "consent_profile_builtin"},
		{"unknown", "no-such-profile", 404, "consent_profile_unknown"},
	} {
		t.Run("delete, "+tc.name, func(t *testing.T) {
			r := admin.Delete(t, "/admin/v1/consent-profiles/"+tc.id)
			if r.Status != tc.status || r.Problem(t).Code != tc.code {
				t.Fatalf("%d %s; want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
			if tc.status == 409 && !strings.Contains(r.Problem(t).Violations[0].Message, docID) {
				t.Errorf("the document bound is not named: %s", r.Body)
			}
		})
	}

	t.Run("roles", func(t *testing.T) {
		carol := inst.As(inst.CreateUser(t, "carol", "Carol-passw0rd-long"))
		for _, req := range []enginetest.Request{{Method: "GET", Path: "/admin/v1/consent-profiles"},
			{Method: "GET", Path: "/admin/v1/consent-profiles/acme-accounts"},
			{Method: "POST", Path: "/admin/v1/consent-profiles", Body: enginetest.ReadFile(t, acmeProfile), Header: map[string]string{"Content-Type": "application/json"}},
			{Method: "DELETE", Path: "/admin/v1/consent-profiles/acme-accounts"}} {
			if r := carol.Send(t, req); r.Status != 403 {
				t.Errorf("%s %s without the role: %d %s", req.Method, req.Path, r.Status, r.Body)
			}
		}
	})

	inst.Close(t)
	again := enginetest.New(t, enginetest.InDir(dir))
	defer again.Close(t)
	g := again.WithAuthorization(auth).Get(t, "/acme/v1/consents/"+id)
	if g.Status != 200 || g.JSON(t)["Data"].(map[string]any)["Status"] != "PENDING" {
		t.Fatalf("the acme consent after a restart: %d %s; want the profile's PENDING", g.Status, g.Body)
	}
	if r := again.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+docID); r.Status != 204 {
		t.Fatalf("delete the document: %d %s", r.Status, r.Body)
	}
	// A profile may extend another, which then stays until it goes.
	child := again.Admin().PostJSON(t, "/admin/v1/consent-profiles", `{"profile_id": "acme-v2", "extends": "acme-accounts", "version": "2"}`)
	if child.Status != 201 || child.JSON(t)["standard"] != "acme" || child.JSON(t)["version"] != "2" {
		t.Fatalf("a profile extending acme-accounts: %d %s", child.Status, child.Body)
	}
	if r := again.Admin().Delete(t, "/admin/v1/consent-profiles/acme-accounts"); r.Status != 409 || !strings.Contains(r.Problem(t).Message, "acme-v2") {
		t.Errorf("delete a profile another extends: %d %s; want 409 naming acme-v2", r.Status, r.Body)
	}
	for _, id := range []string{"acme-v2", "acme-accounts"} {
		if r := again.Admin().Delete(t, "/admin/v1/consent-profiles/"+id); r.Status != 204 {
			t.Fatalf("delete %s, which no document is bound to: %d %s", id, r.Status, r.Body)
		}
	}
	if r := again.Admin().Get(t, "/admin/v1/consent-profiles/acme-accounts"); r.Status != 404 {
		t.Errorf("GET after delete: %d", r.Status)
	}
	if n := again.Audited(t, "consent_profile.delete", "acme-accounts"); n != 1 {
		t.Errorf("%d audit entries consent_profile.delete; want 1", n)
	}
}
