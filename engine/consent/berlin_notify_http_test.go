package consent_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestBerlinNotificationURI: a TPP-Notification-URI with the scheme, host
// and port of one of the TPP's registered callback URLs is kept
// (ASPSP-Notification-Support: true) and the consent's status change on
// authorisation is pushed there; one at another port, or from a TPP that
// registered no callback URL, is not kept (false) and nothing is pushed.
func TestBerlinNotificationURI(t *testing.T) {
	b := newBGBank(t)
	submit(t, b.inst, bgDoc, "")
	var mu sync.Mutex
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<10))
		mu.Lock()
		got = append(got, r.URL.Path+" "+string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	if r := b.inst.Admin().Send(t, enginetest.JSONRequest(t, "PUT", "/my/consumers/"+b.tpp.id+"/callback-urls",
		map[string]any{"callback_urls": []string{rcv.URL + "/callbacks"}})); r.Status != http.StatusOK {
		t.Fatalf("callback URLs: %d %s", r.Status, r.Body)
	}
	other := b.newTPP(t, "no callbacks")
	about := func(id string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, g := range got {
			if strings.Contains(g, `"consentId":"`+id+`"`) {
				out = append(out, g)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		tpp  bgTPP
		uri  string
		kept bool
	}{
		{"registered host", b.tpp, rcv.URL + "/bg/notify", true},
		{"another port", b.tpp, "http://127.0.0.1:1/bg/notify", false},
		{"no callback URL registered", other, rcv.URL + "/bg/other", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.tpp.send(t, http.MethodPost, bgConsents, bgConsent(b.inst.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly), 2, true, nil),
				map[string]string{"PSU-IP-Address": "192.0.2.10", "TPP-Notification-URI": tc.uri})
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			if support := r.Header.Get("ASPSP-Notification-Support"); support != map[bool]string{true: "true", false: "false"}[tc.kept] {
				t.Errorf("ASPSP-Notification-Support %q; want %v", support, tc.kept)
			}
			id := r.JSON(t)["consentId"].(string)
			b.embedded(t, tc.tpp, id)
			if _, err := b.inst.Events.Drain(t.Context()); err != nil {
				t.Fatal(err)
			}
			pushed := about(id)
			switch {
			case tc.kept && (len(pushed) != 1 || !strings.HasPrefix(pushed[0], "/bg/notify ") || !strings.Contains(pushed[0], `"consentStatus":"valid"`)):
				t.Errorf("pushed %v; want the authorisation's valid status at /bg/notify", pushed)
			case !tc.kept && len(pushed) != 0:
				t.Errorf("pushed %v; want nothing", pushed)
			}
		})
	}
}
