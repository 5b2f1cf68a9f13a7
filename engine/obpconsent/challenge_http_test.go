package obpconsent_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/obpconsent"
	"github.com/dynapi/dynapi/internal/enginetest"
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

// TestChallengeByTheLogDelivery: without --sca-dev the answer holds no
// code; the default sendScaChallenge delivery logs it, and the code
// accepts the consent. Of right answers sent at once, exactly one
// accepts it.
func TestChallengeByTheLogDelivery(t *testing.T) {
	logs := &enginetest.LogBuffer{}
	inst := enginetest.New(t, enginetest.Configure(func(c *dynapi.Config) {
		c.PreloadExample, c.Logger = true, slog.New(slog.NewTextHandler(logs, nil))
	}))
	tpp := newConsumer(t, inst, "budget app")
	c := decode(t, inst.Admin().PostJSON(t, "/banks/demo-bank/my/consents/IMPLICIT", accountAccess(tpp, "current-1")), http.StatusCreated)
	if c.Code != "" {
		t.Fatalf("the answer holds the code without --sca-dev: %+v", c)
	}
	m := regexp.MustCompile(`SCA code for consent ` + regexp.QuoteMeta(c.ConsentID) + `.*? code=(\d{6})`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no code logged for %s:\n%s", c.ConsentID, logs.String())
	}
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = inst.Admin().PostJSON(t, "/banks/demo-bank/consents/"+c.ConsentID+"/challenge", map[string]string{"answer": m[1]}).Status
		})
	}
	wg.Wait()
	accepted := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			accepted++
		case http.StatusConflict:
		default:
			t.Errorf("answer: %d", s)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d answers accepted the consent (%v), want exactly one", accepted, statuses)
	}
	if r := under(t, inst, http.MethodGet, "/banks/demo-bank/accounts", c.JWT, tpp.key); r.Status != http.StatusOK {
		t.Fatalf("after acceptance: %d %s", r.Status, r.Body)
	}
}

// TestExpiredCodesAreSwept: a code answers for ChallengeLifetime; then it
// is refused, and the sweep removes it and the consent requests past
// their lifetime.
func TestExpiredCodesAreSwept(t *testing.T) {
	inst := demo(t)
	tpp := newConsumer(t, inst, "budget app")
	c := decode(t, inst.Admin().PostJSON(t, "/banks/demo-bank/my/consents/SMS", accountAccess(tpp, "current-1")), http.StatusCreated)
	if r := tpp.bearer.PostJSON(t, "/consumer/consent-requests", map[string]any{"bank_id": "demo-bank", "everything": true}); r.Status != http.StatusCreated {
		t.Fatalf("consent request: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	if n, err := inst.OBPConsents.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("swept %d (%v) before anything expired", n, err)
	}
	inst.Clock.Advance(obpconsent.ChallengeLifetime)
	answer := map[string]string{"answer": c.Code}
	refusedWith(t, inst.Admin().PostJSON(t, "/banks/demo-bank/consents/"+c.ConsentID+"/challenge", answer), http.StatusBadRequest, "sca_code_expired")
	if n, err := inst.OBPConsents.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want the code", n, err)
	}
	refusedWith(t, inst.Admin().PostJSON(t, "/banks/demo-bank/consents/"+c.ConsentID+"/challenge", answer), http.StatusBadRequest, "sca_code_expired")
	inst.Clock.Advance(obpconsent.RequestLifetime)
	if n, err := inst.OBPConsents.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want the consent request", n, err)
	}
}
