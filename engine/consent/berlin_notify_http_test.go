package consent_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/eventstest"
)

// notifications is a TPP's notification endpoint: it keeps the bodies it
// was pushed.
type notifications struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]string
}

func newNotifications(t *testing.T) *notifications {
	t.Helper()
	n := &notifications{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]string
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &body) != nil {
			t.Errorf("notification %s %s %q", r.Method, r.Header.Get("Content-Type"), raw)
		}
		n.mu.Lock()
		n.bodies = append(n.bodies, body)
		n.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(n.Close)
	return n
}

// await waits until n holds count bodies and returns them.
func (n *notifications) await(t *testing.T, count int) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.mu.Lock()
		got := append([]map[string]string(nil), n.bodies...)
		n.mu.Unlock()
		if len(got) >= count || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBerlinGroupNotificationURI(t *testing.T) {
	b := newBGBank(t)
	rec := eventstest.Record(t, b.inst)
	submit(t, b.inst, bgDoc, "")
	hook := newNotifications(t)
	valid := b.inst.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	if r := b.inst.Admin().Send(t, enginetest.JSONRequest(t, http.MethodPut, "/my/consumers/"+b.tpp.id+"/callback-urls",
		map[string]any{"callback_urls": []string{hook.URL + "/registered"}})); r.Status != http.StatusOK {
		t.Fatalf("callback urls: %d %s", r.Status, r.Body)
	}

	t.Run("a URI at a registered host has every status change pushed", func(t *testing.T) {
		r := b.tpp.send(t, http.MethodPost, bgConsents, bgConsent(valid, 4, true, nil),
			map[string]string{"PSU-IP-Address": "192.0.2.10", "TPP-Notification-URI": hook.URL + "/consents/notify"})
		if r.Status != http.StatusCreated || r.Header.Get("ASPSP-Notification-Support") != "true" {
			t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
		}
		id := r.JSON(t)["consentId"].(string)
		b.embedded(t, b.tpp, id)
		if r := b.tpp.send(t, http.MethodDelete, bgConsents+"/"+id, nil, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		got := hook.await(t, 2)
		want := []map[string]string{{"consentId": id, "consentStatus": "valid", "scaStatus": "finalised"},
			{"consentId": id, "consentStatus": "terminatedByTpp"}}
		if len(got) != len(want) {
			t.Fatalf("pushed %v, want %v", got, want)
		}
		for i := range want {
			if !maps.Equal(got[i], want[i]) {
				t.Fatalf("push %d: %v, want %v", i, got[i], want[i])
			}
		}
		// The bank's systems see each step of the authorisation, in order
		// with the consent's own events.
		var steps []string
		for _, ev := range rec.Under(t, "consents/"+id) {
			var d struct{ To string }
			_ = json.Unmarshal(ev.Data, &d)
			steps = append(steps, ev.Type+":"+d.To)
		}
		wantSteps := []string{"consent.created:awaiting_authorisation", "consent.sca_status_changed:psuAuthenticated",
			"consent.sca_status_changed:started", "consent.sca_status_changed:finalised", "consent.status_changed:authorised",
			"consent.status_changed:deleted"}
		if !slices.Equal(steps, wantSteps) {
			t.Fatalf("events of the consent:\n%v\nwant\n%v", steps, wantSteps)
		}
	})

	t.Run("a URI elsewhere is ignored and said so", func(t *testing.T) {
		before := len(hook.await(t, 0))
		r := b.tpp.send(t, http.MethodPost, bgConsents, bgConsent(valid, 4, false, nil),
			map[string]string{"PSU-IP-Address": "192.0.2.10", "TPP-Notification-URI": "https://tpp.example/notify"})
		if r.Status != http.StatusCreated || r.Header.Get("ASPSP-Notification-Support") != "false" {
			t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
		}
		b.embedded(t, b.tpp, r.JSON(t)["consentId"].(string))
		if _, err := b.inst.Events.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := hook.await(t, 0); len(got) != before {
			t.Fatalf("pushed to an unregistered URI's consent: %v", got[before:])
		}
	})
}
