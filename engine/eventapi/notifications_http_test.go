package eventapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestEventNotificationsPushed: with a subscription whose callback URL is
// the TPP's receiver, authorising a consent POSTs a security event token
// to {CallbackUrl}/event-notifications that verifies against the
// engine's JWK Set, with the standard's claims (checked against
// OBEventNotification1); two 500s then a 202 make exactly three attempts
// of the same SET, the second 4 to 6 seconds after the first and the
// third 24 to 36 seconds after that (the fake clock); the customer's
// revoking the consent sends consent-authorization-revoked.
func TestEventNotificationsPushed(t *testing.T) {
	t.Parallel()
	inst, _ := newEngine(t)
	rcv := newReceiver(t, inst, http.StatusInternalServerError, http.StatusInternalServerError, http.StatusAccepted)
	alice := newTPP(t, inst, "alice's app", rcv.URL+"/tpp")
	psu := inst.CreateUser(t, "psu", "Psu-passw0rd-long")
	if r := alice.subscribe(t, map[string]any{"Version": "4.0", "CallbackUrl": rcv.URL + "/tpp"}); r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	start := inst.Clock.Now()
	id := authorisedConsent(t, inst, alice, psu.ID)
	got := advanceUntil(t, inst, rcv, 3, time.Minute)

	for i, n := range got {
		if n.path != "/tpp/event-notifications" || n.contentType != "application/jwt" || n.body != got[0].body {
			t.Errorf("attempt %d: POST %s (%s); want the same SET to /tpp/event-notifications as application/jwt", i+1, n.path, n.contentType)
		}
	}
	if d := got[0].at.Sub(start); d > time.Second {
		t.Errorf("first attempt %v after the change; want at once", d)
	}
	if d := got[1].at.Sub(got[0].at); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("second attempt %v after the first; want 4s to 6s", d)
	}
	if d := got[2].at.Sub(got[1].at); d < 24*time.Second || d > 36*time.Second {
		t.Errorf("third attempt %v after the second; want 24s to 36s", d)
	}
	if more := advanceUntil(t, inst, rcv, 3, 10*time.Minute); len(more) != 3 {
		t.Errorf("%d attempts after the 202; want 3", len(more))
	}

	t.Logf("attempts at %v, %v, %v", got[0].at.Sub(start), got[1].at.Sub(start), got[2].at.Sub(start))
	claims, payload := verifySET(t, inst, got[0].body)
	consentURL := "http://example.com" + consentsPath + "/" + id
	for claim, want := range map[string]any{"aud": alice.key, "sub": consentURL, "iss": "dynapi"} {
		if claims[claim] != want {
			t.Errorf("%s = %v; want %v", claim, claims[claim], want)
		}
	}
	for _, claim := range []string{"iat", "jti", "txn", "toe"} {
		if claims[claim] == nil || claims[claim] == "" {
			t.Errorf("no %s in %v", claim, claims)
		}
	}
	subject := eventSubject(t, claims, events.UKResourceUpdate)
	rlk, _ := subject["http://openbanking.org.uk/rlk"].([]any)
	if subject["http://openbanking.org.uk/rid"] != id || subject["http://openbanking.org.uk/rty"] != "account-access-consent" ||
		subject["subject_type"] == nil || len(rlk) != 1 || rlk[0].(map[string]any)["link"] != consentURL || rlk[0].(map[string]any)["version"] != "4.0" {
		t.Errorf("subject %v", subject)
	}
	schema, err := load(t, notificationsDoc).CompileSchemaAt("/components/schemas/OBEventNotification1")
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(payload); err != nil {
		t.Errorf("the SET's claims do not fit OBEventNotification1: %v", err)
	}

	if r := inst.As(psu).Delete(t, "/my/consents/"+id); r.Status/100 != 2 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	after := advanceUntil(t, inst, rcv, 4, time.Minute)
	revoked, _ := verifySET(t, inst, after[3].body)
	if s := eventSubject(t, revoked, events.UKConsentRevoked); s["http://openbanking.org.uk/rid"] != id {
		t.Errorf("revocation's subject %v", s)
	}
	if revoked["jti"] == claims["jti"] {
		t.Error("the revocation's SET has the first one's jti")
	}
}

// advanceUntil moves the engine's clock on a second at a time, letting
// the delivery worker attempt what is due at each, until rcv has taken
// want requests or limit has passed; it returns what rcv took.
func advanceUntil(t *testing.T, inst *enginetest.Engine, rcv *receiver, want int, limit time.Duration) []notification {
	t.Helper()
	for waited := time.Duration(0); ; waited += time.Second {
		if _, err := inst.Events.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := rcv.received(); len(got) >= want || waited >= limit {
			return got
		}
		inst.Clock.Advance(time.Second)
	}
}

// verifySET verifies set against the engine's JWK Set and returns its
// claims and its payload as decoded JSON.
func verifySET(t *testing.T, inst *enginetest.Engine, set string) (jwt.MapClaims, any) {
	t.Helper()
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(inst.Anonymous().Get(t, "/.well-known/jwks.json").Body))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(set, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(inst.Clock.Now))
	if err != nil {
		t.Fatalf("the SET does not verify against /.well-known/jwks.json: %v", err)
	}
	if typ := tok.Header["typ"]; typ != "secevent+jwt" {
		t.Errorf("typ %v", typ)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(set, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var payload any
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	return claims, payload
}

// eventSubject is the subject of the SET's only event, of type typ.
func eventSubject(t *testing.T, claims jwt.MapClaims, typ string) map[string]any {
	t.Helper()
	evs, _ := claims["events"].(map[string]any)
	ev, _ := evs[typ].(map[string]any)
	subject, _ := ev["subject"].(map[string]any)
	if len(evs) != 1 || subject == nil {
		t.Fatalf("events %v; want one %s", claims["events"], typ)
	}
	return subject
}
