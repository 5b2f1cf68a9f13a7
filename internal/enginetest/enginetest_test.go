package enginetest_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestCallers: each caller is who it says, and only Admin is the super
// admin.
func TestCallers(t *testing.T) {
	e := enginetest.New(t)
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-1")
	users := enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/users"}
	e.Run(t,
		enginetest.Scenario{Name: "admin", Caller: e.Admin(), Request: users, WantStatus: 200},
		enginetest.Scenario{Name: "a user is not the admin", Caller: e.As(bob), Request: users, WantStatus: 403, WantProblem: "forbidden"},
		enginetest.Scenario{Name: "anonymous", Caller: e.Anonymous(), Request: users, WantStatus: 401, WantProblem: "unauthorized"},
		enginetest.Scenario{Name: "raw authorization", Caller: e.WithAuthorization("Bearer nope"), Request: users, WantStatus: 401},
		enginetest.Scenario{Name: "over a real connection", Caller: e.As(bob).Loopback(),
			Request: enginetest.Request{Method: http.MethodGet, Path: "/my/user"}, WantStatus: 200,
			Check: func(t *testing.T, r enginetest.Response) {
				if r.JSON(t)["user_id"] != bob.ID {
					t.Fatalf("not bob: %s", r.Body)
				}
			}},
	)
}

// TestClock: the instance's tokens age with the fake clock, not the wall.
func TestClock(t *testing.T) {
	e := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) { c.DirectLoginTTL = time.Minute }))
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-1")
	me := enginetest.Request{Method: http.MethodGet, Path: "/my/user"}
	e.Run(t, enginetest.Scenario{Name: "fresh", Caller: e.As(bob), Request: me, WantStatus: 200})
	e.Clock.Advance(time.Minute + time.Second)
	e.Run(t, enginetest.Scenario{Name: "a minute later", Caller: e.As(bob), Request: me, WantStatus: 401})
}

// TestAudit: AuditSince returns what was written after the given entry,
// and WantAudit finds it.
func TestAudit(t *testing.T) {
	e := enginetest.New(t)
	_, before := e.AuditSince(t, 0)
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-1")
	written, last := e.AuditSince(t, before)
	if last <= before || len(written) == 0 || written[0].Action != "user.create" || written[0].Target != bob.ID {
		t.Fatalf("after %d: %+v (last %d)", before, written, last)
	}
	if again, _ := e.AuditSince(t, last); len(again) != 0 {
		t.Fatalf("entries after the last: %+v", again)
	}
	e.Run(t, enginetest.Scenario{Name: "lock", Caller: e.Admin(),
		Request:    enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/users/" + bob.ID + "/lock"},
		WantStatus: 200, WantAudit: []enginetest.Audit{{Action: "user.lock", Target: bob.ID}}})
}

// failures records what a helper reports instead of failing the test.
type failures struct {
	testing.TB
	errors []string
}

func (f *failures) Helper() {}

func (f *failures) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// TestGolden: equal bytes pass, a difference is reported with its line.
func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	same := &failures{TB: t}
	enginetest.Golden(same, path, []byte("a\nb\n"))
	differs := &failures{TB: t}
	enginetest.Golden(differs, path, []byte("a\nc\n"))
	if len(same.errors) != 0 || len(differs.errors) != 1 {
		t.Fatalf("same: %v; differs: %v", same.errors, differs.errors)
	}
}
