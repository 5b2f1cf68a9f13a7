package portal_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/browsertest"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestCatalogueTriesTheDemoBanksAccounts is the second browser
// scenario: a signed-in user opens the catalogue, opens the engine's own
// description (the banking core) in Swagger UI, tries GET
// /banks/demo-bank/accounts with their own token and sees 200 with the
// demo bank's accounts. The demo bank's accounts are the admin's, so the
// admin is the user.
func TestCatalogueTriesTheDemoBanksAccounts(t *testing.T) {
	for _, size := range browsertest.Sizes {
		t.Run(size.Name, func(t *testing.T) {
			_, base := portalEngine(t, enginetest.Configure(func(c *dynapi.Config) { c.PreloadExample = true }))
			b := browsertest.New(t, size)
			signIn(b, base, enginetest.AdminUsername, enginetest.AdminPassword)

			b.Run(chromedp.Navigate(base+"/catalogue"), chromedp.WaitVisible(css("#catalogue")))
			b.Check("catalogue")
			b.Run(chromedp.Click(css(`#catalogue a[href="/portal/catalogue/dynapi"]`)), chromedp.WaitVisible(css("#swagger-ui .opblock")))
			b.Check("viewer")
			op := "#operations-Banking_core-getAccounts"
			b.Run(chromedp.Click(css(op+" .opblock-summary-control")), chromedp.WaitVisible(css(op+` tr[data-param-name="bank_id"] input`)),
				chromedp.SendKeys(css(op+` tr[data-param-name="bank_id"] input`), dynapi.DemoBankID),
				chromedp.Click(css(op+" .btn.execute")), chromedp.WaitVisible(css(op+" .live-responses-table tr.response .response-col_status")))
			if status := b.Text(op + " .live-responses-table tr.response .response-col_status"); status != "200" {
				t.Fatalf("try it out answered %q: %s", status, b.Text(op+" .live-responses-table tr.response .response-col_description"))
			}
			if body := b.Text(op + " .live-responses-table tr.response .response-col_description pre"); !strings.Contains(body, `"accounts"`) {
				t.Errorf("the answer holds no accounts: %s", body)
			}
			b.Check("tried-accounts")
		})
	}
}
