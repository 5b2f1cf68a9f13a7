package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/instance"
)

// TestUserCreate creates a user with the CLI and logs it in through a
// server started on the same data directory.
func TestUserCreate(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name     string
		args     []string
		password string
		stdin    string
		wantErr  string
	}{
		{"password from the environment", []string{"user", "create", "--username", "zed", "--data-dir", dir}, "Zed-passw0rd-1", "", ""},
		{"password on stdin", []string{"user", "create", "--username", "yan", "--data-dir", dir}, "", "Yan-passw0rd-1\n", ""},
		{"weak password", []string{"user", "create", "--username", "xia", "--data-dir", dir}, "short", "", "password"},
		{"taken username", []string{"user", "create", "--username", "zed", "--data-dir", dir}, "Zed-passw0rd-2", "", "taken"},
		{"no username", []string{"user", "create", "--data-dir", dir}, "Zed-passw0rd-2", "", "--username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.password != "" {
				t.Setenv("DYNAPI_NEW_USER_PASSWORD", tc.password)
			}
			var out, errOut strings.Builder
			err := runWithInput(tc.args, strings.NewReader(tc.stdin), &out, &errOut)
			if tc.wantErr == "" {
				if err != nil || !strings.Contains(out.String(), "created user") {
					t.Fatalf("err %v, out %q", err, out.String())
				}
				return
			}
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.wantErr) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}

	const key, secret = "cli-test-consumer-key", "cli-test-consumer-secret-0123456789abcdef"
	inst, err := instance.Open(context.Background(), instance.Config{DataDir: dir, Admin: access.BootstrapOptions{
		AdminPassword: "Admin-passw0rd-1", ConsumerKey: key, ConsumerSecret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	for _, user := range []struct{ name, password string }{{"zed", "Zed-passw0rd-1"}, {"yan", "Yan-passw0rd-1"}} {
		req := httptest.NewRequest("POST", "/my/logins/direct", nil)
		req.Header.Set("DirectLogin", `username="`+user.name+`", password="`+user.password+`", consumer_key="`+key+`"`)
		resp, err := inst.Server.App().Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 201 {
			t.Errorf("%s cannot log in: %d", user.name, resp.StatusCode)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut strings.Builder
	if err := run([]string{"fly"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "Usage") {
		t.Fatalf("err %v, stderr %q", err, errOut.String())
	}
}

// TestUserBreakGlass unlocks a locked administrator and resets its
// password with the server stopped, then logs it in.
func TestUserBreakGlass(t *testing.T) {
	dir := t.TempDir()
	const key, secret = "cli-test-consumer-key", "cli-test-consumer-secret-0123456789abcdef"
	cfg := instance.Config{DataDir: dir, Admin: access.BootstrapOptions{
		AdminPassword: "Admin-passw0rd-1", ConsumerKey: key, ConsumerSecret: secret}}
	inst, err := instance.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := inst.Access.UserByName(context.Background(), "admin")
	if err == nil {
		_, err = inst.Access.SetLocked(context.Background(), access.Actor{}, admin.ID, true)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DYNAPI_NEW_USER_PASSWORD", "Admin-new-passw0rd-2")
	for _, args := range [][]string{
		{"user", "unlock", "--username", "admin", "--data-dir", dir},
		{"user", "password", "--username", "admin", "--data-dir", dir},
	} {
		var out, errOut strings.Builder
		if err := runWithInput(args, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	var out, errOut strings.Builder
	if err := runWithInput([]string{"user", "unlock", "--username", "nobody", "--data-dir", dir}, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("unlocked an unknown user")
	}

	inst, err = instance.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	req := httptest.NewRequest("POST", "/my/logins/direct", nil)
	req.Header.Set("DirectLogin", `username="admin", password="Admin-new-passw0rd-2", consumer_key="`+key+`"`)
	resp, err := inst.Server.App().Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("the unlocked admin cannot log in with its new password: %d", resp.StatusCode)
	}
}

// TestServeRefusesBadTrustedProxies: a trusted proxy that is neither an
// address nor a network stops the server before it starts.
func TestServeRefusesBadTrustedProxies(t *testing.T) {
	var out, errOut strings.Builder
	err := run([]string{"serve", "--data-dir", t.TempDir(), "--trusted-proxies", "10.0.0.0/8,proxy.internal"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `trusted proxy "proxy.internal"`) {
		t.Fatalf("err %v, want one naming the bad trusted proxy", err)
	}
}
