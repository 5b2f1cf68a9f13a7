package obpconsent_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestConsentRequest: a consumer starts a consent request; the customer
// turns it into a consent of theirs for that consumer, once.
func TestConsentRequest(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	other := newConsumer(t, inst, "other app")
	r := tpp.bearer.PostJSON(t, "/consumer/consent-requests", map[string]any{"bank_id": "demo-bank",
		"account_access": []map[string]string{{"account_id": "current-1", "view_id": "owner"}}, "time_to_live": 600})
	if r.Status != http.StatusCreated {
		t.Fatalf("consent request: %d %s", r.Status, r.Body)
	}
	req := r.JSON(t)
	id, _ := req["consent_request_id"].(string)
	if id == "" || req["consumer_id"] != tpp.id || req["payload"] == nil {
		t.Fatalf("consent request %v", req)
	}
	path := "/consumer/consent-requests/" + id
	if r := tpp.bearer.Get(t, path); r.Status != http.StatusOK {
		t.Errorf("its consumer reads it: %d %s", r.Status, r.Body)
	}
	refusedWith(t, other.bearer.Get(t, path), http.StatusNotFound, "not_found")
	refusedWith(t, tpp.bearer.PostJSON(t, "/consumer/consent-requests", map[string]any{
		"account_access": []map[string]string{{"account_id": "current-1", "view_id": "owner"}}}), http.StatusBadRequest, "validation_failed")

	refusedWith(t, tpp.bearer.Post(t, path+"/IMPLICIT/consents", nil), http.StatusForbidden, "forbidden")
	c := decode(t, inst.Admin().Post(t, path+"/IMPLICIT/consents", nil), http.StatusCreated)
	if c.Status != "INITIATED" {
		t.Fatalf("status %s", c.Status)
	}
	refusedWith(t, inst.Admin().Post(t, path+"/IMPLICIT/consents", nil), http.StatusNotFound, "not_found")
	if r := tpp.bearer.Get(t, path); r.JSON(t)["consent_id"] != c.ConsentID {
		t.Errorf("the request does not name its consent: %s", r.Body)
	}
	decode(t, inst.Admin().PostJSON(t, "/banks/demo-bank/consents/"+c.ConsentID+"/challenge", map[string]string{"answer": c.Code}), http.StatusCreated)
	r = under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, tpp.key)
	if ids := accountIDs(t, r); r.Status != http.StatusOK || len(ids) != 1 || ids[0] != "current-1" {
		t.Fatalf("accounts under the request's consent: %d %s", r.Status, r.Body)
	}
	refusedWith(t, under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, other.key), http.StatusUnauthorized, "consumer_key_invalid")

	t.Run("too old", func(t *testing.T) {
		late := tpp.bearer.PostJSON(t, "/consumer/consent-requests", map[string]any{"bank_id": "demo-bank", "everything": true}).JSON(t)
		inst.Clock.Advance(61 * time.Minute)
		refusedWith(t, inst.Admin().Post(t, "/consumer/consent-requests/"+late["consent_request_id"].(string)+"/SMS/consents", nil),
			http.StatusNotFound, "not_found")
	})
}

// TestRoutesAreReserved: no document can be served where the OBP consent
// routes answer.
func TestRoutesAreReserved(t *testing.T) {
	inst := demo(t)
	for _, mount := range []string{"/consumer/consent-requests", "/banks/demo-bank/consents/x/challenge"} {
		t.Run(mount, func(t *testing.T) {
			r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument(mount, "shadow"))
			refusedWith(t, r, http.StatusConflict, "route_conflict")
			if !hasPointer(r.Problem(t).Violations, "/paths/~1shadow/get") {
				t.Errorf("the operation is not named: %s", r.Body)
			}
		})
	}
}
