package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestConsumerRedirectURIs registers redirect URIs at creation and by the
// owner's PUT: each a https URL or http on localhost, no fragment, at most
// ten, each at most 512 bytes; a fault names its URI and changes nothing,
// and only the consumer's owner may change them.
func TestConsumerRedirectURIs(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	good := []string{"https://tpp.example.com/cb", "http://localhost:8080/cb", "http://127.0.0.1/cb?x=1"}
	r := inst.Admin().PostJSON(t, "/my/consumers", map[string]any{"name": "tpp", "redirect_uris": good})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["consumer_id"].(string)
	if got := r.JSON(t)["redirect_uris"].([]any); len(got) != 3 || got[0] != good[0] {
		t.Errorf("redirect_uris %v", got)
	}
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "https://tpp.example.com/" + strings.Repeat("x", i+1)
	}
	for _, tc := range []struct {
		name    string
		uris    []string
		pointer string
	}{
		{"plain http elsewhere", []string{"http://tpp.example.com/cb"}, "/redirect_uris/0"},
		{"fragment", []string{"https://tpp.example.com/cb#x"}, "/redirect_uris/0"},
		{"relative", []string{"/cb"}, "/redirect_uris/0"},
		{"other scheme", []string{"javascript:alert(1)"}, "/redirect_uris/0"},
		{"user info", []string{"https://me@tpp.example.com/cb"}, "/redirect_uris/0"},
		{"too long", []string{"https://tpp.example.com/" + strings.Repeat("a", 500)}, "/redirect_uris/0"},
		{"duplicate", []string{"https://tpp.example.com/cb", "https://tpp.example.com/cb"}, "/redirect_uris/1"},
		{"too many", eleven, "/redirect_uris"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, res := range []enginetest.Response{
				inst.Admin().PostJSON(t, "/my/consumers", map[string]any{"name": "bad", "redirect_uris": tc.uris}),
				inst.Admin().Send(t, enginetest.JSONRequest(t, "PUT", "/my/consumers/"+id+"/redirect-uris", map[string]any{"redirect_uris": tc.uris})),
			} {
				p := res.Problem(t)
				if res.Status != http.StatusBadRequest || len(p.Violations) == 0 || p.Violations[len(p.Violations)-1].Pointer != tc.pointer {
					t.Errorf("%d %s; want 400 naming %s", res.Status, res.Body, tc.pointer)
				}
			}
		})
	}
	mine := inst.Admin().Get(t, "/admin/v1/consumers/"+id).JSON(t)["redirect_uris"].([]any)
	if len(mine) != 3 {
		t.Errorf("refused changes changed the URIs: %v", mine)
	}

	set := inst.Admin().Send(t, enginetest.JSONRequest(t, "PUT", "/my/consumers/"+id+"/redirect-uris",
		map[string]any{"redirect_uris": []string{"https://tpp.example.com/new"}}))
	if got := set.JSON(t)["redirect_uris"].([]any); set.Status != http.StatusOK || len(got) != 1 || got[0] != "https://tpp.example.com/new" {
		t.Errorf("PUT: %d %s", set.Status, set.Body)
	}
	other := inst.CreateUser(t, "mallory", "Mallory-passw0rd-1")
	for _, path := range []string{"/my/consumers/" + id + "/redirect-uris", "/my/consumers/no-such/redirect-uris"} {
		if r := inst.As(other).Send(t, enginetest.JSONRequest(t, "PUT", path,
			map[string]any{"redirect_uris": []string{"https://evil.example.com/cb"}})); r.Status != http.StatusNotFound {
			t.Errorf("PUT %s as another user: %d %s; want 404", path, r.Status, r.Body)
		}
	}
	if r := inst.Admin().Send(t, enginetest.JSONRequest(t, "PUT", "/my/consumers/"+id+"/redirect-uris", map[string]any{})); r.Status != http.StatusBadRequest {
		t.Errorf("PUT without redirect_uris: %d", r.Status)
	}
}
