package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestConsumerCallbackURLs sets a consumer's callback URLs by its owner's
// PUT: each an absolute URL without fragment or user information,
// distinct, at most ten, each passing the events service's URL check
// (https at a public address, unless the allow-list names it); a fault
// names its URL and changes nothing, only the owner may change them, and
// the consumer's JSON shows them.
func TestConsumerCallbackURLs(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.Events.CallbackAllow = []string{"127.0.0.1"} }))
	r := inst.Admin().PostJSON(t, "/my/consumers", map[string]any{"name": "tpp"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["consumer_id"].(string)
	put := func(caller enginetest.Caller, path string, body any) enginetest.Response {
		return caller.Send(t, enginetest.JSONRequest(t, "PUT", path, body))
	}
	good := []string{"http://127.0.0.1:8080/events", "https://127.0.0.1/cb?x=1"}
	set := put(inst.Admin(), "/my/consumers/"+id+"/callback-urls", map[string]any{"callback_urls": good})
	if got, _ := set.JSON(t)["callback_urls"].([]any); set.Status != http.StatusOK || len(got) != 2 || got[0] != good[0] {
		t.Fatalf("PUT: %d %s", set.Status, set.Body)
	}
	if n := inst.Audited(t, "consumer.callback_urls", id); n != 1 {
		t.Errorf("audited %d times; want 1", n)
	}
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "https://127.0.0.1/" + strings.Repeat("x", i+1)
	}
	for _, tc := range []struct {
		name, pointer, code string
		urls                []string
	}{
		{"private address", "/callback_urls/1", "forbidden_address", []string{good[0], "http://10.0.0.1/cb"}},
		{"metadata address", "/callback_urls/0", "forbidden_address", []string{"https://169.254.169.254/latest"}},
		{"loopback not allow-listed", "/callback_urls/0", "forbidden_address", []string{"https://[::1]/cb"}},
		{"fragment", "/callback_urls/0", "format", []string{"https://127.0.0.1/cb#x"}},
		{"relative", "/callback_urls/0", "format", []string{"/cb"}},
		{"user info", "/callback_urls/0", "format", []string{"https://me@127.0.0.1/cb"}},
		{"too long", "/callback_urls/0", "format", []string{"https://127.0.0.1/" + strings.Repeat("a", 500)}},
		{"duplicate", "/callback_urls/1", "unique", []string{good[0], good[0]}},
		{"too many", "/callback_urls", "max_items", eleven},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := put(inst.Admin(), "/my/consumers/"+id+"/callback-urls", map[string]any{"callback_urls": tc.urls})
			if p := res.Problem(t); res.Status != http.StatusBadRequest || !enginetest.HasViolation(p, "body", tc.pointer, tc.code) {
				t.Errorf("%d %s; want 400 naming %s (%s)", res.Status, res.Body, tc.pointer, tc.code)
			}
		})
	}
	if mine, _ := inst.Admin().Get(t, "/admin/v1/consumers/"+id).JSON(t)["callback_urls"].([]any); len(mine) != 2 {
		t.Errorf("refused changes changed the URLs: %v", mine)
	}
	other := inst.CreateUser(t, "mallory", "Mallory-passw0rd-1")
	for _, path := range []string{"/my/consumers/" + id + "/callback-urls", "/my/consumers/no-such/callback-urls"} {
		if r := put(inst.As(other), path, map[string]any{"callback_urls": []string{"https://127.0.0.1/evil"}}); r.Status != http.StatusNotFound {
			t.Errorf("PUT %s as another user: %d %s; want 404", path, r.Status, r.Body)
		}
	}
	if r := put(inst.Admin(), "/my/consumers/"+id+"/callback-urls", map[string]any{}); r.Status != http.StatusBadRequest {
		t.Errorf("PUT without callback_urls: %d", r.Status)
	}
	if r := put(inst.Admin(), "/my/consumers/"+id+"/callback-urls", map[string]any{"callback_urls": []string{}}); r.Status != http.StatusOK {
		t.Errorf("PUT of no callback URLs: %d %s", r.Status, r.Body)
	} else if _, ok := r.JSON(t)["callback_urls"]; ok {
		t.Errorf("callback URLs left after clearing them: %s", r.Body)
	}
}
