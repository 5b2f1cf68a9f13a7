package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// shutdownChildEnv tells the test binary it is the server
// TestGracefulShutdown stops.
const shutdownChildEnv = "DYNAPI_SHUTDOWN_CHILD"

// TestGracefulShutdownChild is the server TestGracefulShutdown stops:
// "dynapi serve" as the command runs it, configured by the environment,
// exiting with its outcome.
func TestGracefulShutdownChild(t *testing.T) {
	if os.Getenv(shutdownChildEnv) == "" {
		t.Skip("run by TestGracefulShutdown")
	}
	if err := run([]string{"serve"}, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dynapi:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestGracefulShutdown starts the server in a process of its own, sends
// it a request whose JavaScript connector method waits on a back end, and
// sends SIGTERM while the request is in flight: the server stops
// accepting connections, the request still completes 200, the process
// exits 0, and its store opens again with what was stored.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	arrived, release := make(chan struct{}), make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": true}`)
	}))
	defer backend.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestGracefulShutdownChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), shutdownChildEnv+"=1", "DYNAPI_ADDR="+addr, "DYNAPI_DATA_DIR="+dir, "DYNAPI_EXAMPLE=false",
		"DYNAPI_ADMIN_USERNAME="+enginetest.AdminUsername, "DYNAPI_ADMIN_PASSWORD="+enginetest.AdminPassword,
		"DYNAPI_ADMIN_CONSUMER_KEY="+enginetest.ConsumerKey, "DYNAPI_ADMIN_CONSUMER_SECRET="+enginetest.ConsumerSecret,
		"DYNAPI_SCRIPT_FETCH_ALLOW="+strings.TrimPrefix(backend.URL, "http://"), "DYNAPI_SHUTDOWN_TIMEOUT=1m")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // gone already when the test passes
	base := "http://" + addr
	waitFor(t, "the server to listen", func() bool {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusOK
	})

	token := login(t, base)
	script := `const res = await http.fetch("` + backend.URL + `/slow");
return [];`
	if status, body := send("POST", base+"/admin/v1/connector-methods", token,
		map[string]any{"method_name": "getBanks", "method_body": script, "timeout_ms": 50000}); status != http.StatusCreated {
		t.Fatalf("create the script: %d %s", status, body)
	}
	slow := make(chan int, 1)
	go func() {
		status, _ := send("GET", base+"/banks", token, nil)
		slow <- status
	}()
	<-arrived
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	if status := <-slow; status != http.StatusOK {
		t.Errorf("the request in flight answered %d, want 200", status)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the server exited with %v, want 0:\n%s", err, out.String())
	}

	cfg := enginetest.Config(dir)
	inst, err := dynapi.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("the store does not open again: %v", err)
	}
	defer inst.Close(context.Background()) //nolint:errcheck // checked by the open
	if scripts := inst.Methods.Scripts(); len(scripts) != 1 || scripts[0].MethodName != "getBanks" {
		t.Errorf("stored connector methods %v, want the one created", scripts)
	}
}

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// login is a DirectLogin token of the bootstrapped admin.
func login(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/my/logins/direct", nil)
	req.Header.Set("DirectLogin", `username="`+enginetest.AdminUsername+`", password="`+enginetest.AdminPassword+
		`", consumer_key="`+enginetest.ConsumerKey+`"`)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var v struct{ Token string }
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil || v.Token == "" {
		t.Fatalf("login: %d %v", r.StatusCode, err)
	}
	return v.Token
}

// send makes a request with token and a JSON body (none when nil).
func send(method, url, token string, body any) (int, string) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(raw))
	req.Header.Set("Authorization", `DirectLogin token="`+token+`"`)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(r.Body) //nolint:errcheck // a short read shows in the body
	return r.StatusCode, b.String()
}
