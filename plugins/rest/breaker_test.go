package rest

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/connector"
)

func TestBreakerHalfOpen(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	open := func(t *testing.T) *breaker {
		t.Helper()
		b := &breaker{}
		if opened, _ := b.done(false, failed, now, 1, time.Minute); !opened {
			t.Fatal("one failure with a threshold of 1 did not open the circuit")
		}
		return b
	}

	t.Run("one trial at a time", func(t *testing.T) {
		b := open(t)
		later := now.Add(time.Minute)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			trials int
		)
		for range 20 {
			wg.Go(func() {
				if trial, _, ok := b.allow(later); ok {
					mu.Lock()
					defer mu.Unlock()
					if !trial {
						t.Error("a call other than the trial was let through")
					}
					trials++
				}
			})
		}
		wg.Wait()
		if trials != 1 {
			t.Fatalf("%d trial calls, want 1", trials)
		}
		if _, retryAt, ok := b.allow(later); ok || !retryAt.Equal(later) {
			t.Fatalf("during the trial: ok %v, retry at %v", ok, retryAt)
		}
		if _, closed := b.done(true, healthy, later, 1, time.Minute); !closed {
			t.Fatal("a successful trial did not close the circuit")
		}
		if trial, _, ok := b.allow(later); !ok || trial {
			t.Fatal("the closed circuit refused a call")
		}
	})

	t.Run("a trial the caller gave up on says nothing", func(t *testing.T) {
		b := open(t)
		later := now.Add(time.Minute)
		trial, _, ok := b.allow(later)
		if !ok || !trial {
			t.Fatal("no trial after the cooldown")
		}
		if opened, closed := b.done(true, unknown, later, 1, time.Minute); opened || closed {
			t.Fatal("an unknown outcome changed the circuit")
		}
		if trial, _, ok := b.allow(later); !ok || !trial {
			t.Fatal("the next call is not the trial")
		}
	})
}

func TestCircuitOpenDuringTrial(t *testing.T) {
	c, clk := newConnector(t, Options{Retries: -1, BreakerFailures: 1, BreakerCooldown: time.Second})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(http.StatusServiceUnavailable, `{}`)(w, r, n)
			return
		}
		entered <- struct{}{}
		<-release
		reply(http.StatusOK, okEnvelope)(w, r, n)
	})
	inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL})
	invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
	clk.Advance(time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
		done <- err
	}()
	<-entered
	_, err := invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
	if e := wantError(t, err, http.StatusServiceUnavailable, "circuit_open"); !strings.Contains(e.Message, "trial call") {
		t.Fatalf("message %q", e.Message)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("trial: %v", err)
	}
}

func TestFailedAttemptsLogged(t *testing.T) {
	var buf bytes.Buffer
	c, _ := newConnector(t, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	be := newBackend(t, reply(http.StatusServiceUnavailable, `{"message":"body-secret"}`))
	inv := prepare(t, c, getAccounts, connector.Params{"url": be.URL + "/x?key=qs-secret", "header.X-Api-Key": "header-secret"})
	invoke(inv, builtinRequest(getAccounts, "b", "b", "u"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines for 3 failed attempts:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{`"level":"WARN"`, `"backend":"` + be.URL + `"`, `"method":"getAccounts"`,
		`"http_method":"POST"`, `"correlation_id":"corr-1"`, `"status":503`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log %s lacks %s", lines[0], want)
		}
	}
	for _, secret := range []string{"body-secret", "qs-secret", "header-secret", "alice"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log reveals %q", secret)
		}
	}
}
