package identity

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/accesstest"
)

func TestConsumers(t *testing.T) {
	e := newEnv(t)
	owner := e.user("owner")
	c, secret, err := e.s.CreateConsumer(e.ctx(), audit.Actor{UserID: owner.ID}, "my app")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Key) != 43 || len(secret) != 43 || c.Key == secret || !c.Enabled || c.CreatedBy != owner.ID {
		t.Fatalf("consumer %+v secret %q", c, secret)
	}
	other, otherSecret, _ := e.s.CreateConsumer(e.ctx(), audit.Actor{}, "system app")
	want401 := engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid client credentials")
	tests := []struct {
		name, key, secret string
		ok                bool
	}{
		{"right", c.Key, secret, true},
		{"wrong secret", c.Key, secret[:42] + "x", false},
		{"other's secret", c.Key, otherSecret, false},
		{"empty secret", c.Key, "", false},
		{"unknown key", "nope", secret, false},
		{"other right", other.Key, otherSecret, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.CheckConsumerSecret(tc.key, tc.secret)
			if tc.ok {
				if err != nil || got.Key != tc.key {
					t.Fatalf("%+v %v", got, err)
				}
				return
			}
			if got != nil || !reflect.DeepEqual(err, want401) {
				t.Fatalf("got %+v %#v", got, err)
			}
		})
	}

	if _, ok := e.s.ConsumerByKey(c.Key); !ok {
		t.Fatal("ConsumerByKey")
	}
	if _, err := e.s.SetConsumerEnabled(e.ctx(), audit.Actor{}, c.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret(c.Key, secret); !reflect.DeepEqual(err, want401) {
		t.Fatalf("disabled consumer: %v", err)
	}
	if _, ok := e.s.ConsumerByKey(c.Key); ok {
		t.Fatal("ConsumerByKey returns a disabled consumer")
	}
	if got, _ := e.s.Consumer(e.ctx(), c.ID); got.Enabled {
		t.Fatal("stored as enabled")
	}
	if _, err := e.s.SetConsumerEnabled(e.ctx(), audit.Actor{}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret(c.Key, secret); err != nil {
		t.Fatal(err)
	}
	// Read on every authenticated request: the shared view, no copy.
	if allocs := testing.AllocsPerRun(100, func() { _, _ = e.s.ConsumerByKey(c.Key) }); allocs != 0 {
		t.Fatalf("ConsumerByKey allocates %v times per call", allocs)
	}

	errTests := []struct {
		name   string
		run    func() error
		status int
		code   string
	}{
		{"missing", func() error { _, err := e.s.Consumer(e.ctx(), "nope"); return err }, 404, engine.CodeNotFound},
		{"enable missing", func() error { _, err := e.s.SetConsumerEnabled(e.ctx(), audit.Actor{}, "nope", true); return err }, 404, engine.CodeNotFound},
		{"empty name", func() error { _, _, err := e.s.CreateConsumer(e.ctx(), audit.Actor{}, " "); return err }, 400, engine.CodeValidationFailed},
		{"bad key", func() error {
			_, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "x", "a key", strings.Repeat("s", 32))
			return err
		}, 400, engine.CodeValidationFailed},
		{"short secret", func() error {
			_, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "x", "key", "short")
			return err
		}, 400, engine.CodeValidationFailed},
		{"duplicate key", func() error {
			_, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "x", c.Key, strings.Repeat("s", 32))
			return err
		}, 409, CodeConsumerKeyExists},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) { accesstest.WantErr(t, tc.run(), tc.status, tc.code) })
	}

	e.clock.Advance(time.Second) // consumers list oldest first
	configured, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "configured", "my-key", strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret("my-key", strings.Repeat("s", 40)); err != nil {
		t.Fatal(err)
	}
	mine, _ := e.s.Consumers(e.ctx(), owner.ID)
	all, _ := e.s.Consumers(e.ctx(), "")
	if len(mine) != 1 || len(all) != 3 || all[2].ID != configured.ID {
		t.Fatalf("mine %v all %v", mine, all)
	}
	// A restart loads the same view.
	s2 := e.reopen()
	if _, err := s2.CheckConsumerSecret(c.Key, secret); err != nil {
		t.Fatal(err)
	}
}

func TestThrottleBounded(t *testing.T) {
	th := newThrottle(ThrottleOptions{})
	now := time.Now()
	for i := range maxThrottleEntries + 10 {
		th.end("u"+strconv.Itoa(i), "addr-"+strconv.Itoa(i), failed, now)
	}
	for name, m := range map[string]map[string]*failures{"pairs": th.pairs, "users": th.users, "addresses": th.addrs} {
		if n := len(m); n > maxThrottleEntries {
			t.Fatalf("%s: %d entries", name, n)
		}
	}
}

func TestBootstrapConfigured(t *testing.T) {
	e := newEnv(t)
	_, err := e.bootstrap(BootstrapOptions{AdminPassword: "short"})
	accesstest.WantErr(t, err, 400, engine.CodeValidationFailed)
	if e.count(bucketUsers) != 0 {
		t.Fatal("a refused bootstrap wrote")
	}
	secret := strings.Repeat("k", 40)
	res, err := e.bootstrap(BootstrapOptions{AdminUsername: "root", AdminPassword: goodPassword,
		ConsumerKey: "boot-key", ConsumerSecret: secret})
	if err != nil || !res.Created || res.GeneratedPassword != "" || res.GeneratedConsumerSecret != "" || res.ConsumerKey != "boot-key" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := e.s.CheckPassword(e.ctx(), "root", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret("boot-key", secret); err != nil {
		t.Fatal(err)
	}
}
