package obpconsent_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestChallenge: the code accepts only its own consent, for its own
// customer; the third wrong answer rejects the consent.
func TestChallenge(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	customer := inst.Admin()
	first := decode(t, customer.PostJSON(t, "/banks/demo-bank/my/consents/IMPLICIT", accountAccess(tpp, "current-1")), http.StatusCreated)
	second := decode(t, customer.PostJSON(t, "/banks/demo-bank/my/consents/EMAIL",
		map[string]any{"account_access": []map[string]string{{"account_id": "savings-1", "view_id": "owner"}},
			"consumer_id": tpp.id, "email": "me@example.com"}), http.StatusCreated)
	challenge := func(id string) string { return "/banks/demo-bank/consents/" + id + "/challenge" }
	wrong := "000000"
	if first.Code == wrong || second.Code == wrong {
		wrong = "999999"
	}

	t.Run("another customer's consent", func(t *testing.T) {
		other := inst.Token(inst.Customer(t, "mallory"))
		refusedWith(t, other.PostJSON(t, challenge(first.ConsentID), map[string]string{"answer": first.Code}), http.StatusNotFound, "consent_unknown")
	})
	t.Run("the code of another consent", func(t *testing.T) {
		if first.Code == second.Code {
			t.Skip("both codes drawn alike")
		}
		refusedWith(t, customer.PostJSON(t, challenge(first.ConsentID), map[string]string{"answer": second.Code}), http.StatusBadRequest, "sca_code_wrong")
	})
	t.Run("at another bank", func(t *testing.T) {
		inst.CreateBank(t, "other-bank")
		refusedWith(t, customer.PostJSON(t, "/banks/other-bank/consents/"+first.ConsentID+"/challenge", map[string]string{"answer": first.Code}),
			http.StatusNotFound, "consent_unknown")
	})
	t.Run("the right code, at /my/consents", func(t *testing.T) {
		a := decode(t, customer.PostJSON(t, "/my/consents/"+first.ConsentID+"/challenge", map[string]string{"answer": first.Code}), http.StatusCreated)
		if a.Status != "ACCEPTED" {
			t.Fatalf("status %s", a.Status)
		}
		refusedWith(t, customer.PostJSON(t, challenge(first.ConsentID), map[string]string{"answer": first.Code}), http.StatusConflict, "consent_status")
	})
	t.Run("three wrong answers", func(t *testing.T) {
		for i, want := range []string{"2 attempts left", "1 attempts left", "the consent is rejected"} {
			r := customer.PostJSON(t, challenge(second.ConsentID), map[string]string{"answer": wrong})
			refusedWith(t, r, http.StatusBadRequest, "sca_code_wrong")
			if msg := r.Problem(t).Message; !strings.Contains(msg, want) {
				t.Errorf("answer %d: %q, want %q", i+1, msg, want)
			}
		}
		refusedWith(t, customer.PostJSON(t, challenge(second.ConsentID), map[string]string{"answer": second.Code}), http.StatusConflict, "consent_status")
		if got := customer.Get(t, "/my/consents/"+second.ConsentID).JSON(t)["status"]; got != "rejected" {
			t.Errorf("status %v after three wrong answers, want rejected", got)
		}
		refusedWith(t, under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", second.JWT, tpp.key), http.StatusUnauthorized, "consent_not_authorised")
	})
}
