package portal_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/internal/browsertest"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestCustomerRevokesAConsent is the fourth browser scenario: a
// customer who authorised a TPP's consent finds it on My consents, reads
// it and revokes it; the API then has it revoked.
func TestCustomerRevokesAConsent(t *testing.T) {
	for _, size := range browsertest.Sizes {
		t.Run(size.Name, func(t *testing.T) {
			inst, base := portalEngine(t)
			customer := inst.CreateUser(t, "carol", "Carol-passw0rd-long")
			tpp, _ := inst.Access.Identity.ConsumerByKey(enginetest.ConsumerKey)
			c := &consent.Consent{Kind: "account-access", ConsumerID: tpp.ID, Permissions: []string{"ReadAccountsBasic"}}
			if err := inst.Consents.Create(t.Context(), c, audit.Actor{ConsumerID: tpp.ID}); err != nil {
				t.Fatal(err)
			}
			inst.AuthoriseConsent(t, c.ID, customer.ID, "carol-1")

			b := browsertest.New(t, size)
			signIn(b, base, customer.Username, customer.Password)
			b.Run(chromedp.Navigate(base+"/consents"), chromedp.WaitVisible(css("#consents")))
			b.Check("my-consents")
			b.Run(chromedp.Click(css(`#consents a[href="/portal/consents/`+c.ID+`"]`)), chromedp.WaitVisible(css("#revoke-consent")))
			b.Check("consent")
			b.Run(chromedp.SendKeys(css("#reason"), "I stopped using the app"), chromedp.Click(css("#revoke-consent")),
				chromedp.WaitNotPresent(css("#revoke-consent")))
			if got := b.Text("#consent-status"); got == "" {
				t.Error("the page shows no state")
			}
			b.Check("consent-revoked")

			r := inst.Token(customer.Token).Get(t, "/my/consents/"+c.ID)
			if r.Status != http.StatusOK || r.JSON(t)["status"] != "revoked" {
				t.Fatalf("over the API the consent is %d %s", r.Status, r.Body)
			}
		})
	}
}
