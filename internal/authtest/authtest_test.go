package authtest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/authtest"
)

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != status {
		t.Fatalf("error = %v, want a %d *engine.Error", err, status)
	}
}

func TestClock(t *testing.T) {
	c := authtest.NewClock()
	if got := c.Now(); !got.Equal(authtest.Epoch) || got.Location() != time.UTC {
		t.Fatalf("Now() = %v, want %v in UTC", got, authtest.Epoch)
	}
	c.Advance(90 * time.Second)
	c.Advance(-30 * time.Second)
	if got, want := c.Now(), authtest.Epoch.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}

func TestCreds(t *testing.T) {
	c := authtest.Bearer("tok")
	if got := c.Header("AUTHORIZATION"); got != "Bearer tok" {
		t.Fatalf("Header = %q", got)
	}
	if got := authtest.Header("DirectLogin", "x").Header("directlogin"); got != "x" {
		t.Fatalf("Header = %q", got)
	}
	if got := c.Header("DirectLogin"); got != "" {
		t.Fatalf("missing header = %q", got)
	}
	if got := (authtest.Creds{}).ClientAddr(); got != "192.0.2.7" {
		t.Fatalf("ClientAddr = %q", got)
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	u := authtest.NewUsers()
	u.Add("u-1", "alice", "pw")
	usr, err := u.CheckPassword(ctx, "alice", "pw", "")
	if err != nil || usr.ID != "u-1" || usr.Username != "alice" || usr.Provider != "local" {
		t.Fatalf("CheckPassword = %+v, %v", usr, err)
	}
	_, err = u.CheckPassword(ctx, "alice", "wrong", "")
	wantStatus(t, err, 401)
	_, err = u.CheckPassword(ctx, "nobody", "pw", "")
	wantStatus(t, err, 401)

	u.SetLocked("u-1", true)
	_, err = u.CheckPassword(ctx, "alice", "pw", "")
	wantStatus(t, err, 401)
	if usr, err := u.User(ctx, "u-1"); err != nil || !usr.Locked {
		t.Fatalf("User = %+v, %v, want locked", usr, err)
	}
	u.SetLocked("u-1", false)

	boom := errors.New("boom")
	u.SetErr(boom)
	if _, err := u.CheckPassword(ctx, "alice", "pw", ""); !errors.Is(err, boom) {
		t.Fatalf("CheckPassword error = %v, want %v", err, boom)
	}
	u.SetErr(nil)
	if _, err := u.CheckPassword(ctx, "alice", "pw", ""); err != nil {
		t.Fatal(err)
	}

	// User returns a copy.
	usr, _ = u.User(ctx, "u-1")
	usr.Locked = true
	if again, _ := u.User(ctx, "u-1"); again.Locked {
		t.Fatal("changing a returned user changed the directory")
	}
	u.Remove("u-1")
	_, err = u.User(ctx, "u-1")
	wantStatus(t, err, 404)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("User error = %v, want engine.ErrNotFound", err)
	}
	if n := u.Lookups(); n != 4 {
		t.Fatalf("Lookups() = %d, want 4", n)
	}
}

func TestConsumers(t *testing.T) {
	c := authtest.NewConsumers()
	c.Add("c-1", "key-1", "s1", "u-1", true)
	con, ok := c.ConsumerByKey("key-1")
	if !ok || con.ID != "c-1" || con.Key != "key-1" || !con.Enabled || con.CreatedBy != "u-1" {
		t.Fatalf("ConsumerByKey = %+v, %v", con, ok)
	}
	if got, err := c.CheckConsumerSecret("key-1", "s1"); err != nil || got != con {
		t.Fatalf("CheckConsumerSecret = %+v, %v", got, err)
	}
	_, err := c.CheckConsumerSecret("key-1", "wrong")
	wantStatus(t, err, 401)
	_, err = c.CheckConsumerSecret("nope", "s1")
	wantStatus(t, err, 401)

	c.SetEnabled("key-1", false)
	if !con.Enabled {
		t.Fatal("SetEnabled changed a consumer handed out")
	}
	if off, ok := c.ConsumerByKey("key-1"); !ok || off.Enabled || off.ID != "c-1" {
		t.Fatalf("after SetEnabled(false): %+v, %v", off, ok)
	}
	_, err = c.CheckConsumerSecret("key-1", "s1")
	wantStatus(t, err, 401)

	c.Remove("key-1")
	if _, ok := c.ConsumerByKey("key-1"); ok {
		t.Fatal("a removed consumer is still there")
	}
}

func TestOpenStore(t *testing.T) {
	if s := authtest.OpenStore(t, ""); s == nil {
		t.Fatal("OpenStore returned nil")
	}
	path := filepath.Join(t.TempDir(), "named.db")
	if s := authtest.OpenStore(t, path); s == nil {
		t.Fatal("OpenStore returned nil")
	}
}
