package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/accesstest"
	"github.com/dynapi/dynapi/internal/kvjson"
)

func TestCreateUser(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Passwords = PasswordPolicy{RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	})
	const strong = "Abcdefgh1!xy"
	if _, err := e.s.CreateUser(e.ctx(), audit.Actor{UserID: "creator"}, NewUser{Username: "alice", Email: "a@example.com", Password: strong}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		in         NewUser
		status     int
		code       string
		violations []string
	}{
		{"empty username", NewUser{Password: strong}, 400, engine.CodeValidationFailed, []string{"pattern"}},
		{"username with space", NewUser{Username: "a b", Password: strong}, 400, engine.CodeValidationFailed, []string{"pattern"}},
		{"username too long", NewUser{Username: strings.Repeat("a", 101), Password: strong}, 400, engine.CodeValidationFailed, []string{"pattern"}},
		{"bad email", NewUser{Username: "bob", Email: "bob", Password: strong}, 400, engine.CodeValidationFailed, []string{"format"}},
		{"every password rule", NewUser{Username: "bob", Password: "   "}, 400, engine.CodeValidationFailed,
			[]string{"digit", "lower", "min_length", "upper"}},
		{"too long", NewUser{Username: "bob", Password: "Aa1!" + strings.Repeat("x", 300)}, 400, engine.CodeValidationFailed, []string{"max_length"}},
		{"no symbol", NewUser{Username: "bob", Password: "Abcdefgh12"}, 400, engine.CodeValidationFailed, []string{"symbol"}},
		{"all at once", NewUser{Username: "", Email: "x", Password: "a"}, 400, engine.CodeValidationFailed,
			[]string{"digit", "format", "min_length", "pattern", "symbol", "upper"}},
		{"taken", NewUser{Username: "alice", Password: strong}, 409, CodeUsernameTaken, nil},
		{"taken in other case", NewUser{Username: "ALICE", Password: strong}, 409, CodeUsernameTaken, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.CreateUser(e.ctx(), audit.Actor{}, tc.in)
			got := accesstest.WantErr(t, err, tc.status, tc.code)
			if codes := accesstest.ViolationCodes(got); !slices.Equal(codes, tc.violations) {
				t.Errorf("violations %v, want %v", codes, tc.violations)
			}
		})
	}
	if n := e.count(bucketUsers); n != 1 {
		t.Errorf("%d users stored, want 1", n)
	}
	if got := e.actions(); !slices.Equal(got, []string{"user.create"}) {
		t.Errorf("audit %v", got)
	}
}

func TestPasswordPolicyCheck(t *testing.T) {
	p := PasswordPolicy{MinLength: 10, MaxLength: 12, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	tests := []struct {
		pw   string
		want []string
	}{
		{"Abcdefgh1!", nil},
		{"Äbcdefgh1!", nil}, // non-ASCII upper case
		{"abcdefgh1!", []string{"upper"}},
		{"ABCDEFGH1!", []string{"lower"}},
		{"Abcdefghi!", []string{"digit"}},
		{"Abcdefgh12", []string{"symbol"}},
		{"Ab1!", []string{"min_length"}},
		{"Abcdefgh1!xyz", []string{"max_length"}},
		{"", []string{"digit", "lower", "min_length", "symbol", "upper"}},
		{"Abcdefgh1!\xff", []string{"encoding"}},
	}
	for _, tc := range tests {
		t.Run(tc.pw, func(t *testing.T) {
			var got []string
			for _, v := range p.Check(tc.pw) {
				if v.Pointer != "/password" || v.Location != "body" || v.Message == "" {
					t.Errorf("violation %+v", v)
				}
				got = append(got, v.Code)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for range 20 {
		if pw := p.generatePassword(); len(pw) != 12 || p.Check(pw) != nil {
			t.Fatalf("generated %q breaks the policy: %v", pw, p.Check(pw))
		}
	}
	def := PasswordPolicy{MinLength: 10, MaxLength: 256, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	if pw := def.generatePassword(); len(pw) != 24 || def.Check(pw) != nil {
		t.Fatalf("generated %q", pw)
	}
}

func TestArgon2id(t *testing.T) {
	fast, err := fastHash.params()
	if err != nil {
		t.Fatal(err)
	}
	h1, err := hashPassword(fast, "same password")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword(fast, "same password")
	if h1 == h2 {
		t.Fatal("equal passwords gave equal hashes: salt not random")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Count(h1, "$") != 5 {
		t.Fatalf("not a PHC argon2id string: %s", h1)
	}
	for _, h := range []string{h1, h2} {
		if !verifyPassword(h, "same password") {
			t.Error("hash does not verify its password")
		}
		if verifyPassword(h, "same passworD") {
			t.Error("hash verifies another password")
		}
	}
	tampered := []string{
		"", "plain", strings.Replace(h1, "argon2id", "argon2i", 1),
		strings.Replace(h1, "m=64,", "m=4294967295,", 1), // would allocate 4 TiB
		strings.Replace(h1, "t=1,", "t=100000,", 1),
		strings.Replace(h1, "v=19", "v=16", 1),
	}
	for _, h := range tampered {
		if verifyPassword(h, "same password") {
			t.Errorf("tampered hash %q verified", h)
		}
	}
	// The production parameters, without paying for them here: OWASP's
	// argon2id minimum, m=19 MiB, t=2, p=1.
	if def, err := (PasswordHashing{}).params(); err != nil || def != (argonParams{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32}) {
		t.Errorf("default params %+v (%v)", def, err)
	}

	e := newEnv(t)
	u := e.user("hashy")
	var rec *userRecord
	_ = e.store.View(e.ctx(), func(tx engine.Tx) error {
		rec, err = kvjson.Get[userRecord](tx, bucketUsers, u.ID)
		return err
	})
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$") || !verifyPassword(rec.PasswordHash, goodPassword) {
		t.Fatalf("stored hash %q", rec.PasswordHash)
	}
}

func TestCheckPasswordSameFailure(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Throttle = ThrottleOptions{MaxFailures: 100} })
	e.user("alice")
	locked := e.user("locked")
	if _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, locked.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ExternalUser(e.ctx(), "https://idp.example", "sub-1", "ext", ""); err != nil {
		t.Fatal(err)
	}
	want := engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid credentials")
	tests := []struct {
		name, user, pw string
		verifies       int64
	}{
		{"unknown user", "nobody", goodPassword, 1},
		{"invalid username", "no body!", goodPassword, 1},
		{"wrong password", "alice", "wrong password 1", 1},
		{"locked user", "locked", goodPassword, 1},
		{"external user without password", "ext", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.s.verifies.Load()
			u, err := e.s.CheckPassword(e.ctx(), tc.user, tc.pw, "10.0.0.1")
			if u != nil || !reflect.DeepEqual(err, want) {
				t.Fatalf("got %v, %#v; want %#v", u, err, want)
			}
			if n := e.s.verifies.Load() - before; n != tc.verifies {
				t.Errorf("%d password hashes checked, want %d (equal time)", n, tc.verifies)
			}
		})
	}
	t.Run("throttled", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.Throttle = ThrottleOptions{MaxFailures: 1} })
		e.user("alice")
		_, _ = e.s.CheckPassword(e.ctx(), "alice", "wrong password 1", "")
		_, err := e.s.CheckPassword(e.ctx(), "alice", goodPassword, "")
		if !reflect.DeepEqual(err, want) {
			t.Fatalf("got %#v", err)
		}
	})
	u, err := e.s.CheckPassword(e.ctx(), "ALICE", goodPassword, "10.0.0.1")
	if err != nil || u.Username != "alice" || u.PasswordHash != "" {
		t.Fatalf("login: %+v %v", u, err)
	}
}

// sleeps records the delays of throttled attempts instead of waiting.
type sleeps struct {
	mu  sync.Mutex
	got []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	return nil
}

// last returns the delay of the latest attempt.
func (s *sleeps) last() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[len(s.got)-1]
}

func TestCheckPasswordThrottle(t *testing.T) {
	login := func(e *env, user, pw, addr string) error {
		_, err := e.s.CheckPassword(e.ctx(), user, pw, addr)
		return err
	}
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, sl *sleeps)
	}{
		{"locked out from one address only", func(t *testing.T, e *env, _ *sleeps) {
			for range 3 {
				if login(e, "alice", "wrong", "10.6.6.6") == nil {
					t.Fatal("wrong password accepted")
				}
			}
			before := e.s.verifies.Load()
			if login(e, "alice", goodPassword, "10.6.6.6") == nil {
				t.Fatal("the attacker's address got through a lockout")
			}
			if e.s.verifies.Load() != before {
				t.Error("a locked-out attempt checked the password")
			}
			if err := login(e, "alice", goodPassword, "10.1.1.1"); err != nil {
				t.Fatalf("the user is locked out from another address: %v", err)
			}
			if err := login(e, "bob", goodPassword, "10.6.6.6"); err != nil {
				t.Fatalf("another user behind the address is locked out: %v", err)
			}
			e.clock.Advance(10*time.Minute - time.Second)
			if login(e, "alice", goodPassword, "10.6.6.6") == nil {
				t.Fatal("lockout ended early")
			}
			e.clock.Advance(time.Second)
			if err := login(e, "alice", goodPassword, "10.6.6.6"); err != nil {
				t.Fatalf("lockout did not expire: %v", err)
			}
		}},
		{"an address is slowed, not locked", func(t *testing.T, e *env, sl *sleeps) {
			for _, u := range []string{"alice", "bob", "nobody", "carol"} {
				_ = login(e, u, "wrong", "10.9.9.9")
			}
			if err := login(e, "dave", goodPassword, "10.9.9.9"); err != nil {
				t.Fatalf("a right password behind a slowed address: %v", err)
			}
			if d := sl.last(); d != time.Second {
				t.Fatalf("delay %v after 4 failures, want 1s", d)
			}
			_ = login(e, "erin", "wrong", "10.9.9.9")
			_ = login(e, "erin", "wrong", "10.9.9.9")
			_ = login(e, "dave", goodPassword, "10.9.9.9")
			if d := sl.last(); d != 4*time.Second {
				t.Fatalf("delay %v after 6 failures, want 4s (doubled, capped)", d)
			}
			_ = login(e, "dave", goodPassword, "10.1.1.1")
			if d := sl.last(); d != 0 {
				t.Fatalf("another address waits %v", d)
			}
			e.clock.Advance(5 * time.Minute)
			_ = login(e, "dave", goodPassword, "10.9.9.9")
			if d := sl.last(); d != 0 {
				t.Fatalf("the slowdown outlived the window: %v", d)
			}
		}},
		{"a user is slowed from everywhere, not locked", func(t *testing.T, e *env, sl *sleeps) {
			for i := range 4 {
				_ = login(e, "alice", "wrong", "10.0.0."+strconv.Itoa(i))
			}
			if err := login(e, "alice", goodPassword, "10.2.2.2"); err != nil {
				t.Fatalf("the user is locked: %v", err)
			}
			if d := sl.last(); d != time.Second {
				t.Fatalf("delay %v, want 1s", d)
			}
			_ = login(e, "alice", goodPassword, "10.2.2.2")
			if d := sl.last(); d != 0 {
				t.Fatalf("a success did not end the user's slowdown: %v", d)
			}
		}},
		{"window", func(t *testing.T, e *env, _ *sleeps) {
			_ = login(e, "alice", "wrong", "")
			_ = login(e, "alice", "wrong", "")
			e.clock.Advance(5 * time.Minute) // the window ends: failures forgotten
			_ = login(e, "alice", "wrong", "")
			if err := login(e, "alice", goodPassword, ""); err != nil {
				t.Fatalf("old failures counted: %v", err)
			}
		}},
		{"success resets the pair", func(t *testing.T, e *env, _ *sleeps) {
			for range 3 {
				_ = login(e, "alice", "wrong", "")
				_ = login(e, "alice", "wrong", "")
				if err := login(e, "alice", goodPassword, ""); err != nil {
					t.Fatalf("success did not reset failures: %v", err)
				}
			}
		}},
		{"unlock clears failures", func(t *testing.T, e *env, _ *sleeps) {
			for range 3 {
				_ = login(e, "alice", "wrong", "")
			}
			u, _ := e.s.UserByName(e.ctx(), "alice")
			if _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, u.ID, false); err != nil {
				t.Fatal(err)
			}
			if err := login(e, "alice", goodPassword, ""); err != nil {
				t.Fatal(err)
			}
		}},
		{"break-glass clears failures", func(t *testing.T, e *env, _ *sleeps) {
			for range 3 {
				_ = login(e, "alice", "wrong", "10.6.6.6")
			}
			u, _ := e.s.UserByName(e.ctx(), "alice")
			if err := e.s.ClearLoginFailures(e.ctx(), audit.Actor{}, u.ID); err != nil {
				t.Fatal(err)
			}
			if err := login(e, "alice", goodPassword, "10.6.6.6"); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(e.actions(), "user.clear_login_failures") {
				t.Error("not audited")
			}
			accesstest.WantErr(t, e.s.ClearLoginFailures(e.ctx(), audit.Actor{}, "nope"), http.StatusNotFound, engine.CodeNotFound)
		}},
		{"concurrent guesses stop at the limit", func(t *testing.T, e *env, _ *sleeps) {
			before := e.s.verifies.Load()
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() { _ = login(e, "alice", "wrong", "10.6.6.6") })
			}
			wg.Wait()
			if n := e.s.verifies.Load() - before; n > 3 {
				t.Fatalf("%d guesses checked, want at most 3", n)
			}
		}},
		{"concurrent right logins all pass", func(t *testing.T, e *env, _ *sleeps) {
			var wg sync.WaitGroup
			var refused atomic.Int64
			for range 20 {
				wg.Go(func() {
					if login(e, "alice", goodPassword, "10.3.3.3") != nil {
						refused.Add(1)
					}
				})
			}
			wg.Wait()
			if n := refused.Load(); n > 0 {
				t.Fatalf("%d of 20 right logins refused", n)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sl := &sleeps{}
			e := newEnv(t, func(o *Options) {
				o.Throttle = ThrottleOptions{MaxFailures: 3, Window: 5 * time.Minute, Lockout: 10 * time.Minute,
					SlowAfter: 4, Delay: time.Second, MaxDelay: 4 * time.Second}
				o.sleep = sl.sleep
			})
			for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
				e.user(u)
			}
			tc.run(t, e, sl)
		})
	}
}

func TestUsersPaging(t *testing.T) {
	e := newEnv(t)
	names := []string{"b", "A", "a.b", "a-c", "zed", "a", "Yo", "b0", "b@x"}
	for i, n := range names {
		if i == 5 {
			continue // "a" would clash with "A"
		}
		e.user(n)
	}
	var got []string
	after := ""
	pages := 0
	for {
		users, next, err := e.s.Users(e.ctx(), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range users {
			got = append(got, u.Username)
		}
		if next == "" {
			break
		}
		after = next
	}
	want := []string{"A", "a-c", "a.b", "b", "b0", "b@x", "Yo", "zed"}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("pages %d: %v, want %v", pages, got, want)
	}
	if _, _, err := e.s.Users(e.ctx(), "!!", 3); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestExternalUser(t *testing.T) {
	e := newEnv(t)
	e.user("carol")
	u1, err := e.s.ExternalUser(e.ctx(), "https://idp", "s1", "dave", "dave@example.com")
	if err != nil || u1.Provider != "https://idp" || u1.Username != "dave" {
		t.Fatalf("%+v %v", u1, err)
	}
	again, err := e.s.ExternalUser(e.ctx(), "https://idp", "s1", "other", "")
	if err != nil || again.ID != u1.ID {
		t.Fatalf("second login made another user: %+v %v", again, err)
	}
	u2, err := e.s.ExternalUser(e.ctx(), "https://idp", "s2", "Carol", "not an email")
	if err != nil || !strings.HasPrefix(u2.Username, "Carol-") || u2.Email != "" {
		t.Fatalf("clash: %+v %v", u2, err)
	}
	u3, err := e.s.ExternalUser(e.ctx(), "other", "weird subject/ä", "", "")
	if err != nil || !validUsername(u3.Username) {
		t.Fatalf("sanitised: %+v %v", u3, err)
	}
	if _, err := e.s.CheckPassword(e.ctx(), u1.Username, "", ""); err == nil {
		t.Fatal("external user logged in without a password")
	}
	if _, err := e.s.SetLocked(e.ctx(), audit.Actor{}, u1.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.ExternalUser(e.ctx(), "https://idp", "s1", "dave", "")
	accesstest.WantErr(t, err, 401, engine.CodeUnauthorized)
	_, err = e.s.ExternalUser(e.ctx(), "", "s1", "dave", "")
	accesstest.WantErr(t, err, 400, engine.CodeBadRequest)
	if err := e.deleteUser(audit.Actor{}, u1.ID); err != nil {
		t.Fatal(err)
	}
	u4, err := e.s.ExternalUser(e.ctx(), "https://idp", "s1", "dave", "")
	if err != nil || u4.ID == u1.ID {
		t.Fatalf("after delete: %+v %v", u4, err)
	}
}

func TestNoSecretsInJSON(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	c, secret, err := e.s.CreateConsumer(e.ctx(), audit.Actor{UserID: u.ID}, "app")
	if err != nil {
		t.Fatal(err)
	}
	var urec *userRecord
	var crec *consumerRecord
	_ = e.store.View(e.ctx(), func(tx engine.Tx) error {
		urec, _ = kvjson.Get[userRecord](tx, bucketUsers, u.ID)
		crec, _ = kvjson.Get[consumerRecord](tx, bucketConsumers, c.ID)
		return nil
	})
	if urec.PasswordHash == "" || crec.SecretHash != sha256Hex(secret) {
		t.Fatal("hashes not stored")
	}
	users, _, _ := e.s.Users(e.ctx(), "", 10)
	byName, _ := e.s.UserByName(e.ctx(), "alice")
	got, _ := e.s.User(e.ctx(), u.ID)
	cons, _ := e.s.Consumers(e.ctx(), "")
	one, _ := e.s.Consumer(e.ctx(), c.ID)
	byKey, _ := e.s.ConsumerByKey(c.Key)
	checked, _ := e.s.CheckConsumerSecret(c.Key, secret)
	logged, _ := e.s.CheckPassword(e.ctx(), "alice", goodPassword, "")
	// Even a struct with the hashes filled in must not render them.
	filledU := *u
	filledU.PasswordHash = urec.PasswordHash
	filledC := *c
	filledC.SecretHash = crec.SecretHash
	values := []any{u, users, byName, got, logged, &filledU, c, cons, one, byKey, checked, &filledC}
	entries, _, _ := e.log.List(e.ctx(), 0, 100)
	values = append(values, entries)
	for i, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, secretText := range []string{urec.PasswordHash, crec.SecretHash, secret, goodPassword, "argon2id"} {
			if strings.Contains(string(b), secretText) {
				t.Errorf("value %d renders a secret: %s", i, b)
			}
		}
	}
}
