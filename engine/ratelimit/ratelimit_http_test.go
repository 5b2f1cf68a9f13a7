package ratelimit_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/ratelimit"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

const hello = "/limited/hello"

// TestConsumerLimitPerSecond: a consumer limited to 5 calls a second gets
// its 6th call in that second refused with a 429 naming the limit, with
// Retry-After and the RateLimit fields; another consumer of the same user
// is served meanwhile; once the second has passed the first is served
// again. Setting the limit is audited.
func TestConsumerLimitPerSecond(t *testing.T) {
	inst := enginetest.New(t)
	serveHello(t, inst)
	limited, other := newApp(t, inst, "limited"), newApp(t, inst, "other")
	mustPutLimits(t, inst.Admin(), "/admin/v1/consumers/"+limited.ID+"/call-limits", map[string]any{
		"per_second_call_limit": "5", "per_minute_call_limit": "-1", "per_hour_call_limit": "-1", "per_day_call_limit": "-1"})
	if inst.Audited(t, "call_limits.set", limited.ID) != 1 {
		t.Error("setting the call limits is not audited")
	}

	if got := calls(t, limited.Admin, hello, 5); !slices.Equal(got, statuses(200, 5)) {
		t.Fatalf("the first 5 calls: %v, want 200s", got)
	}
	r := limited.Admin.Get(t, hello)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("the 6th call: %d %s, want 429", r.Status, r.Body)
	}
	p := r.Problem(t)
	if p.Code != ratelimit.CodeRateLimited || !strings.Contains(p.Message, "consumer's call limit of 5 per second") {
		t.Errorf("problem %s %q, want %s naming the consumer's limit per second", p.Code, p.Message, ratelimit.CodeRateLimited)
	}
	// The fake clock stands at a whole second, whose window ends in one.
	for header, want := range map[string]string{
		"Retry-After":                   "1",
		ratelimit.HeaderRateLimitPolicy: `"consumer-second";q=5;w=1`,
		ratelimit.HeaderRateLimit:       `"consumer-second";r=0;t=1`,
	} {
		if got := r.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if got := calls(t, other.Admin, hello, 6); !slices.Equal(got, statuses(200, 6)) {
		t.Errorf("another consumer meanwhile: %v, want 200s", got)
	}
	// The admin's GET counts against its own consumer, not this one.
	state, _ := inst.Admin().Get(t, "/admin/v1/consumers/"+limited.ID+"/call-limits").JSON(t)["current_state"].(map[string]any)
	if second, _ := state["per_second"].(map[string]any); second["calls_made"] != 5.0 || second["reset_in_seconds"] != 1.0 {
		t.Errorf("current_state per_second %v, want 5 calls made, reset in 1", second)
	}
	if minute, _ := state["per_minute"].(map[string]any); minute["calls_made"] != -1.0 {
		t.Errorf("current_state per_minute %v, want -1 (unlimited)", minute)
	}

	inst.Clock.Advance(time.Second)
	if got := calls(t, limited.Admin, hello, 6); !slices.Equal(got, append(statuses(200, 5), 429)) {
		t.Errorf("in the next second: %v, want five 200s and a 429", got)
	}
}

// TestConsumerLimitPerMinute: a limit per minute (given as a JSON number)
// holds across seconds until the minute ends; fixed routes count as
// dynamic ones do.
func TestConsumerLimitPerMinute(t *testing.T) {
	inst := enginetest.New(t)
	serveHello(t, inst)
	a := newApp(t, inst, "per-minute")
	mustPutLimits(t, inst.Admin(), "/admin/v1/consumers/"+a.ID+"/call-limits", map[string]any{"per_minute_call_limit": 3})

	if got := []int{a.Admin.Get(t, hello).Status, a.Admin.Get(t, "/my/user").Status, a.Admin.Get(t, hello).Status}; !slices.Equal(got, statuses(200, 3)) {
		t.Fatalf("3 calls: %v, want 200s", got)
	}
	inst.Clock.Advance(10 * time.Second)
	r := a.Admin.Get(t, "/my/user")
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Problem(t).Message, "3 per minute") {
		t.Fatalf("the 4th call in the minute: %d %s, want a 429 naming the minute's limit", r.Status, r.Body)
	}
	// The clock started at 03:04:05 and moved 10s: the minute ends in 45s.
	if got := r.Header.Get("Retry-After"); got != "45" {
		t.Errorf("Retry-After %q, want 45", got)
	}
	inst.Clock.Advance(45 * time.Second)
	if got := a.Admin.Get(t, hello).Status; got != http.StatusOK {
		t.Errorf("in the next minute: %d, want 200", got)
	}
}

// TestUserLimitAcrossConsumers: a user's limit counts the user's calls
// through every consumer together; the refusal names the user's limit,
// and the consumers stay free for their other users.
func TestUserLimitAcrossConsumers(t *testing.T) {
	inst := enginetest.New(t)
	first, second := newApp(t, inst, "first"), newApp(t, inst, "second")
	u := inst.CreateUser(t, "limited-user", "Limited-user-passw0rd")
	viaFirst := inst.Token(loginVia(t, inst, u.Username, u.Password, first.Key))
	viaSecond := inst.Token(loginVia(t, inst, u.Username, u.Password, second.Key))
	mustPutLimits(t, inst.Admin(), "/admin/v1/users/"+u.ID+"/call-limits", map[string]any{"per_second_call_limit": 3})
	if inst.Audited(t, "call_limits.set", u.ID) != 1 {
		t.Error("setting a user's call limits is not audited")
	}

	got := []int{viaFirst.Get(t, "/my/user").Status, viaSecond.Get(t, "/my/user").Status, viaFirst.Get(t, "/my/user").Status}
	if !slices.Equal(got, statuses(200, 3)) {
		t.Fatalf("3 calls through two consumers: %v, want 200s", got)
	}
	r := viaSecond.Get(t, "/my/user")
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Problem(t).Message, "user's call limit of 3 per second") {
		t.Fatalf("the 4th call: %d %s, want a 429 naming the user's limit", r.Status, r.Body)
	}
	if got := r.Header.Get(ratelimit.HeaderRateLimit); got != `"user-second";r=0;t=1` {
		t.Errorf("RateLimit %q", got)
	}
	if got := calls(t, first.Admin, "/my/user", 5); !slices.Equal(got, statuses(200, 5)) {
		t.Errorf("another user through the first consumer: %v, want 200s", got)
	}
}

// TestBadCallLimits: bodies that are not call limits are refused with a
// violation at each fault, and nothing is set or audited; an unknown
// consumer or user is a 404.
func TestBadCallLimits(t *testing.T) {
	inst := enginetest.New(t)
	a := newApp(t, inst, "bad-bodies")
	path := "/admin/v1/consumers/" + a.ID + "/call-limits"
	for _, tc := range []struct {
		name, body    string
		pointer, code string
	}{
		{"not a number", `{"per_second_call_limit":"five"}`, "/per_second_call_limit", "type"},
		{"a fraction", `{"per_minute_call_limit":2.5}`, "/per_minute_call_limit", "type"},
		{"zero", `{"per_hour_call_limit":"0"}`, "/per_hour_call_limit", "range"},
		{"below -1", `{"per_day_call_limit":-2}`, "/per_day_call_limit", "range"},
		{"too many", `{"per_week_call_limit":"1000000001"}`, "/per_week_call_limit", "range"},
		{"no limit at all", `{}`, "", "required"},
		{"to before from", `{"per_month_call_limit":"10","from_date":"2030-02-01T00:00:00Z","to_date":"2030-01-01T00:00:00Z"}`, "/to_date", "range"},
		{"an unknown member", `{"per_second_call_limit":"5","per_year_call_limit":"1"}`, "/per_year_call_limit", "*"},
		{"a date that is no date", `{"per_second_call_limit":"5","from_date":"yesterday"}`, "/from_date", "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := putLimits(t, inst.Admin(), path, tc.body)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", r.Status, r.Body)
			}
			if p := r.Problem(t); !enginetest.HasViolation(p, "body", tc.pointer, tc.code) {
				t.Errorf("violations %+v, want one at %q (%s)", p.Violations, tc.pointer, tc.code)
			}
		})
	}
	got := inst.Admin().Get(t, path).JSON(t)
	if got["is_default"] != true || got["per_second_call_limit"] != "-1" {
		t.Errorf("after the refusals: %v, want the (unlimited) default", got)
	}
	if n := inst.Audited(t, "call_limits.set", a.ID); n != 0 {
		t.Errorf("%d refusals audited as changes", n)
	}
	for _, missing := range []string{"/admin/v1/consumers/no-such-consumer/call-limits", "/admin/v1/users/no-such-user/call-limits"} {
		if r := putLimits(t, inst.Admin(), missing, `{"per_second_call_limit":"5"}`); r.Status != http.StatusNotFound {
			t.Errorf("PUT %s: %d %s, want 404", missing, r.Status, r.Body)
		}
	}
}

// TestDefaultCallLimits: the configured defaults limit every consumer
// without its own; a consumer's own limits replace them (here: none per
// second); removing them brings the default back; anonymous calls are
// not limited.
func TestDefaultCallLimits(t *testing.T) {
	limits, err := ratelimit.ParseLimits("second=2,minute=-1")
	if err != nil {
		t.Fatal(err)
	}
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.RateLimits.Consumer = limits }))
	// The admin's own consumer is under the default too: two calls (find
	// it, free it) fit in it.
	var bootstrap string
	for _, c := range inst.Admin().Get(t, "/admin/v1/consumers").JSON(t)["consumers"].([]any) {
		if c := c.(map[string]any); c["consumer_key"] == enginetest.ConsumerKey {
			bootstrap, _ = c["consumer_id"].(string)
		}
	}
	mustPutLimits(t, inst.Admin(), "/admin/v1/consumers/"+bootstrap+"/call-limits", map[string]any{"per_second_call_limit": -1})
	defaulted, own := newApp(t, inst, "defaulted"), newApp(t, inst, "own")
	path := "/admin/v1/consumers/" + own.ID + "/call-limits"
	mustPutLimits(t, inst.Admin(), path, map[string]any{"per_second_call_limit": -1, "per_hour_call_limit": 100})

	if got := calls(t, defaulted.Admin, "/my/user", 3); !slices.Equal(got, []int{200, 200, 429}) {
		t.Errorf("a consumer under the default: %v, want 200 200 429", got)
	}
	if got := calls(t, own.Admin, "/my/user", 3); !slices.Equal(got, statuses(200, 3)) {
		t.Errorf("a consumer with its own limits: %v, want 200s", got)
	}
	if got := calls(t, inst.Anonymous(), "/healthz", 5); !slices.Equal(got, statuses(200, 5)) {
		t.Errorf("anonymous calls: %v, want 200s", got)
	}
	shown := inst.Admin().Get(t, "/admin/v1/consumers/"+defaulted.ID+"/call-limits").JSON(t)
	if shown["is_default"] != true || shown["per_second_call_limit"] != "2" || shown["per_minute_call_limit"] != "-1" {
		t.Errorf("the default as shown: %v", shown)
	}

	if r := inst.Admin().Delete(t, path); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if inst.Audited(t, "call_limits.delete", own.ID) != 1 {
		t.Error("removing the call limits is not audited")
	}
	inst.Clock.Advance(time.Second)
	if got := calls(t, own.Admin, "/my/user", 3); !slices.Equal(got, []int{200, 200, 429}) {
		t.Errorf("once its own are removed: %v, want the default's 200 200 429", got)
	}
	if r := inst.Admin().Delete(t, path); r.Status != http.StatusNotFound {
		t.Errorf("DELETE again: %d, want 404", r.Status)
	}
}

// TestCallLimitsWindow: limits bounded by from_date and to_date apply
// only between them; before and after, the default (none) does.
func TestCallLimitsWindow(t *testing.T) {
	inst := enginetest.New(t)
	a := newApp(t, inst, "windowed")
	now := inst.Clock.Now()
	mustPutLimits(t, inst.Admin(), "/admin/v1/consumers/"+a.ID+"/call-limits", map[string]any{"per_second_call_limit": "1",
		"from_date": now.Add(time.Hour).Format(time.RFC3339), "to_date": now.Add(2 * time.Hour).Format(time.RFC3339)})
	for _, step := range []struct {
		name    string
		advance time.Duration
		want    []int
	}{
		{"before from_date", 0, statuses(200, 3)},
		{"between", time.Hour, []int{200, 429, 429}},
		{"from to_date on", time.Hour, statuses(200, 3)},
	} {
		inst.Clock.Advance(step.advance)
		if got := calls(t, a.Admin, "/my/user", 3); !slices.Equal(got, step.want) {
			t.Errorf("%s: %v, want %v", step.name, got, step.want)
		}
	}
}

// TestCallLimitsSurviveRestart: limits set are stored, and in force
// after a restart.
func TestCallLimitsSurviveRestart(t *testing.T) {
	inst := enginetest.New(t)
	a := newApp(t, inst, "restarted")
	path := "/admin/v1/consumers/" + a.ID + "/call-limits"
	mustPutLimits(t, inst.Admin(), path, map[string]any{"per_second_call_limit": "2", "per_month_call_limit": "1000"})
	inst.Close(t)

	again := enginetest.New(t, enginetest.InDir(inst.Dir))
	shown := again.Admin().Get(t, path).JSON(t)
	if shown["is_default"] != false || shown["per_second_call_limit"] != "2" || shown["per_month_call_limit"] != "1000" {
		t.Errorf("after the restart: %v", shown)
	}
	token := again.Token(loginVia(t, again, enginetest.AdminUsername, enginetest.AdminPassword, a.Key))
	if got := calls(t, token, "/my/user", 3); !slices.Equal(got, []int{200, 200, 429}) {
		t.Errorf("after the restart: %v, want 200 200 429", got)
	}
}

// TestCallLimitRoles: setting limits needs CanSetCallLimits, reading them
// CanReadCallLimits; without the role the answer is a 403 naming it.
func TestCallLimitRoles(t *testing.T) {
	inst := enginetest.New(t)
	a := newApp(t, inst, "guarded")
	path := "/admin/v1/consumers/" + a.ID + "/call-limits"
	reader := inst.CreateUser(t, "limits-reader", "Limits-reader-passw0rd")
	nobody := inst.CreateUser(t, "limits-nobody", "Limits-nobody-passw0rd")
	inst.Grant(t, reader.ID, "", "CanReadCallLimits")
	body := `{"per_second_call_limit":"5"}`
	for _, tc := range []struct {
		name   string
		caller enginetest.Caller
		req    enginetest.Request
		status int
		role   string
	}{
		{"no role reads", inst.As(nobody), enginetest.Request{Method: "GET", Path: path}, 403, "CanReadCallLimits"},
		{"no role sets", inst.As(nobody), enginetest.JSONRequest(t, "PUT", path, body), 403, "CanSetCallLimits"},
		{"no role sets a user's", inst.As(nobody), enginetest.JSONRequest(t, "PUT", "/admin/v1/users/"+nobody.ID+"/call-limits", body), 403, "CanSetCallLimits"},
		{"a reader reads", inst.As(reader), enginetest.Request{Method: "GET", Path: path}, 200, ""},
		{"a reader sets", inst.As(reader), enginetest.JSONRequest(t, "PUT", path, body), 403, "CanSetCallLimits"},
		{"a reader removes", inst.As(reader), enginetest.Request{Method: "DELETE", Path: path}, 403, "CanSetCallLimits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Send(t, tc.req)
			if r.Status != tc.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.status)
			}
			if tc.role != "" && !slices.Contains(r.Problem(t).MissingRoles, tc.role) {
				t.Errorf("missing roles %v, want %s", r.Problem(t).MissingRoles, tc.role)
			}
		})
	}
	if shown := inst.Admin().Get(t, path).JSON(t); shown["is_default"] != true {
		t.Errorf("the refused changes changed the limits: %v", shown)
	}
}

// TestRefusalInTheStandardsShape: on an operation whose document answers
// errors in its standard's shape (UK Open Banking), the 429 takes that
// shape and keeps Retry-After and the RateLimit fields.
func TestRefusalInTheStandardsShape(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, testpaths.Shared("specs", "ob-uk-v4.0", "account-info-openapi.yaml")))
	a := newApp(t, inst, "uk-tpp")
	mustPutLimits(t, inst.Admin(), "/admin/v1/consumers/"+a.ID+"/call-limits", map[string]any{"per_second_call_limit": 1})
	consents := "/open-banking/v4.0/aisp/account-access-consents"
	first := a.Admin.Send(t, enginetest.JSONRequest(t, http.MethodPost, consents, `{}`))
	if first.Status == http.StatusTooManyRequests {
		t.Fatalf("the first call: %d %s", first.Status, first.Body)
	}
	r := a.Admin.Send(t, enginetest.JSONRequest(t, http.MethodPost, consents, `{}`))
	if r.Status != http.StatusTooManyRequests || r.JSON(t)["Code"] != ratelimit.CodeRateLimited {
		t.Fatalf("the second call: %d %s, want a 429 with Code %s", r.Status, r.Body, ratelimit.CodeRateLimited)
	}
	if r.Header.Get("Retry-After") != "1" || r.Header.Get(ratelimit.HeaderRateLimit) != `"consumer-second";r=0;t=1` {
		t.Errorf("Retry-After %q, RateLimit %q", r.Header.Get("Retry-After"), r.Header.Get(ratelimit.HeaderRateLimit))
	}
}
