package enginetest_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/identity"
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

// TestToken: a Token caller is whoever holds the token.
func TestToken(t *testing.T) {
	e := enginetest.New(t)
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-1")
	if r := e.Token(bob.Token).Get(t, "/my/user"); r.Status != http.StatusOK || r.JSON(t)["user_id"] != bob.ID {
		t.Fatalf("not bob: %d %s", r.Status, r.Body)
	}
	if r := e.Token("nope").Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
		t.Fatalf("an unknown token: %d %s", r.Status, r.Body)
	}
}

// TestWithConfig: a configuration the test built is used as it is, on the
// fake clock unless it sets its own.
func TestWithConfig(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.DirectLoginTTL = time.Minute
	e := enginetest.New(t, enginetest.WithConfig(cfg))
	if e.Dir != cfg.DataDir {
		t.Fatalf("dir %s, want %s", e.Dir, cfg.DataDir)
	}
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-1")
	e.Clock.Advance(time.Minute + time.Second)
	if r := e.As(bob).Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
		t.Fatalf("a token past its lifetime on the fake clock: %d", r.Status)
	}
}

// TestStart: a start that fails returns its error instead of failing the
// test.
func TestStart(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.PasswordHashing = identity.PasswordHashing{MemoryKiB: 64, Parallelism: 1}
	e, err := enginetest.Start(t, enginetest.WithConfig(cfg))
	if err == nil || e != nil {
		t.Fatalf("an instance with no hashing passes started: %v", e)
	}
}

// TestFixtures: a payment between the accounts BankWithAccounts opens
// moves the amount, as both holders read it.
func TestFixtures(t *testing.T) {
	e := enginetest.New(t)
	alice, bob, _, _ := e.BankWithAccounts(t, "gh.29.uk")
	if r := e.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "10.00", "k-1"); r.Status != http.StatusCreated {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	if a, b := e.BalanceOf(t, alice, "gh.29.uk", "alice-1"), e.BalanceOf(t, bob, "gh.29.uk", "bob-1"); a != "90.00" || b != "10.00" {
		t.Fatalf("balances %s and %s, want 90.00 and 10.00", a, b)
	}
}

// fatals records what a helper reports as fatal and ends its goroutine,
// as testing.T does.
type fatals struct {
	testing.TB
	errors []string
}

func (f *fatals) Helper() {}

func (f *fatals) Fatalf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// TestWaitUntil: a condition that comes true ends the wait; one that never
// does fails after the limit.
func TestWaitUntil(t *testing.T) {
	wait := func(limit time.Duration, cond func() bool) []string {
		f := &fatals{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			enginetest.WaitUntil(f, limit, "the condition", cond)
		}()
		<-done
		return f.errors
	}
	polls := 0
	if errs := wait(time.Minute, func() bool { polls++; return polls == 3 }); len(errs) != 0 || polls != 3 {
		t.Fatalf("a condition true at the third poll: %v after %d polls", errs, polls)
	}
	if errs := wait(50*time.Millisecond, func() bool { return false }); len(errs) != 1 {
		t.Fatalf("a condition never true: %v", errs)
	}
}
