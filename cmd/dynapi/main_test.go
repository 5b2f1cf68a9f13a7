package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/identity"
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
	inst, err := dynapi.Open(context.Background(), dynapi.Config{DataDir: dir, Admin: identity.BootstrapOptions{
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
	cfg := dynapi.Config{DataDir: dir, Admin: identity.BootstrapOptions{
		AdminPassword: "Admin-passw0rd-1", ConsumerKey: key, ConsumerSecret: secret}}
	inst, err := dynapi.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := inst.Access.Identity.UserByName(context.Background(), "admin")
	if err == nil {
		_, err = inst.Access.Identity.SetLocked(context.Background(), audit.Actor{}, admin.ID, true)
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

	inst, err = dynapi.Open(context.Background(), cfg)
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

// TestMalformedEnvironmentIsFatal: a variable its flag would refuse stops
// the command, naming the variable and what it wants; the same flag given
// on the command line overrides a malformed variable.
func TestMalformedEnvironmentIsFatal(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr []string // each in the error; none: the command succeeds
	}{
		{"boolean", map[string]string{"DYNAPI_EXAMPLE": "yes"}, []string{"serve"},
			[]string{`DYNAPI_EXAMPLE="yes"`, "true or false"}},
		{"duration", map[string]string{"DYNAPI_DIRECT_LOGIN_TTL": "forever"}, []string{"serve"},
			[]string{`DYNAPI_DIRECT_LOGIN_TTL="forever"`, "a duration"}},
		{"integer", map[string]string{"DYNAPI_MAX_BODY_BYTES": "1MB"}, []string{"serve"},
			[]string{`DYNAPI_MAX_BODY_BYTES="1MB"`, "an integer"}},
		{"every malformed variable at once", map[string]string{"DYNAPI_JIT_ENTITLEMENTS": "on", "DYNAPI_SCRIPT_TIMEOUT": "2", "DYNAPI_MAX_CONNS": "many"},
			[]string{"serve"}, []string{"DYNAPI_JIT_ENTITLEMENTS", "DYNAPI_SCRIPT_TIMEOUT", "DYNAPI_MAX_CONNS"}},
		{"log format", map[string]string{"DYNAPI_LOG_FORMAT": "xml"}, []string{"serve"},
			[]string{`"xml"`, "DYNAPI_LOG_FORMAT", "text or json"}},
		{"log level", map[string]string{"DYNAPI_LOG_LEVEL": "loud"}, []string{"serve"},
			[]string{`"loud"`, "DYNAPI_LOG_LEVEL", "debug, info, warn or error"}},
		{"tracing", map[string]string{"DYNAPI_TRACING": "maybe"}, []string{"serve"},
			[]string{`DYNAPI_TRACING="maybe"`, "true or false"}},
		{"consumer call limits", map[string]string{"DYNAPI_CONSUMER_CALL_LIMITS": "second=5,fortnight=2"}, []string{"serve"},
			[]string{"DYNAPI_CONSUMER_CALL_LIMITS", `"fortnight=2"`, "second, minute, hour, day, week, month"}},
		{"user call limits", map[string]string{"DYNAPI_USER_CALL_LIMITS": "minute=0"}, []string{"serve"},
			[]string{"DYNAPI_USER_CALL_LIMITS", "minute", "-1 (unlimited)"}},
		{"user command", map[string]string{"DYNAPI_PASSWORD_MIN_LENGTH": "ten", "DYNAPI_NEW_USER_PASSWORD": "Zed-passw0rd-1"},
			[]string{"user", "create", "--username", "zed"}, []string{`DYNAPI_PASSWORD_MIN_LENGTH="ten"`, "an integer"}},
		{"the flag overrides the variable", map[string]string{"DYNAPI_PASSWORD_MIN_LENGTH": "ten", "DYNAPI_NEW_USER_PASSWORD": "Zed-passw0rd-1"},
			[]string{"user", "create", "--username", "zed", "--password-min-length", "12"}, nil},
		{"a well-formed variable applies", map[string]string{"DYNAPI_PASSWORD_MIN_LENGTH": "20", "DYNAPI_NEW_USER_PASSWORD": "Zed-passw0rd-1"},
			[]string{"user", "create", "--username", "zed"}, []string{"password"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DYNAPI_DATA_DIR", t.TempDir())
			// A bad trusted proxy stops serve after its flags are read,
			// should a malformed variable go unnoticed.
			t.Setenv("DYNAPI_TRUSTED_PROXIES", "proxy.invalid")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errOut strings.Builder
			err := runWithInput(tc.args, strings.NewReader(""), &out, &errOut)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestBootstrapNamesTheVariable: a configured admin credential that breaks
// a rule stops the first start with the variable and the rule.
func TestBootstrapNamesTheVariable(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"short consumer secret", map[string]string{"DYNAPI_ADMIN_CONSUMER_SECRET": "too-short-secret"},
			[]string{"DYNAPI_ADMIN_CONSUMER_SECRET: a consumer secret is 32 to 1024 characters"}},
		{"short admin password", map[string]string{"DYNAPI_ADMIN_PASSWORD": "Short-1"},
			[]string{"DYNAPI_ADMIN_PASSWORD: the password must have at least 10 characters"}},
		{"bad consumer key and username", map[string]string{"DYNAPI_ADMIN_CONSUMER_KEY": "a key with spaces", "DYNAPI_ADMIN_USERNAME": "bad name!"},
			[]string{"DYNAPI_ADMIN_CONSUMER_KEY: a consumer key is", "DYNAPI_ADMIN_USERNAME: the admin username must be"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errOut strings.Builder
			err := run([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, &out, &errOut)
			if err == nil {
				t.Fatal("the server started")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err %q does not say %q", err, want)
				}
			}
		})
	}
}
