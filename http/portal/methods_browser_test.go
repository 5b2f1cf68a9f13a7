package portal_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dynapi/dynapi/internal/browsertest"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// brokenScript fails on its third line with a TypeError.
const brokenScript = "const bank = args[0];\nconst none = undefined;\nreturn none.name + bank;"

// TestAdminRunsAConnectorMethod is the third browser scenario: an
// admin opens a connector method in the editor, changes and saves it (the
// API then has the new body), runs it with arguments and sees the
// script's error with its line. Running needs POST
// /admin/v1/connector-methods/run; while this server does not serve it the
// run is skipped (the lead removes the skip with the merge).
func TestAdminRunsAConnectorMethod(t *testing.T) {
	for _, size := range browsertest.Sizes {
		t.Run(size.Name, func(t *testing.T) {
			inst, base := portalEngine(t)
			id := inst.CreateScript(t, "getBanks", "return [];", 0)
			consumerID, _ := limitedApp(t, inst, "browser-app")
			b := browsertest.New(t, size)
			signIn(b, base, enginetest.AdminUsername, enginetest.AdminPassword)

			b.Run(chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(css("#admin-areas")))
			b.Check("admin")
			// Every admin page passes the same checks at this size.
			for _, area := range []string{"documents", "entities", "routings", "audit", "deliveries", "users", "users/" + inst.AdminID(t),
				"consumers", "consumers/" + consumerID} {
				b.Run(chromedp.Navigate(base+"/admin/"+area), chromedp.WaitVisible(css("main h1")))
				b.Check("admin-" + strings.ReplaceAll(area, "/", "-"))
			}
			b.Run(chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(css("#admin-areas")))
			b.Run(chromedp.Click(css(`a[href="/portal/admin/methods"]`)), chromedp.WaitVisible(css("#methods")))
			b.Check("methods")
			b.Run(chromedp.Click(css(`#methods a[href="/portal/admin/methods/`+id+`"]`)), chromedp.WaitVisible(css("#method_body")))
			b.Check("editor")
			b.Run(chromedp.SetValue(css("#method_body"), brokenScript), chromedp.Click(css("#save-method")),
				chromedp.WaitVisible(css("#saved")))
			if got := inst.Admin().Get(t, "/admin/v1/connector-methods/"+id).JSON(t)["method_body"]; got != brokenScript {
				t.Fatalf("after Save the API has %q", got)
			}

			b.Run(chromedp.SetValue(css("#args"), `["demo-bank"]`), chromedp.Click(css("#run-method")),
				chromedp.WaitVisible(css("#run-error, #run-refused")))
			if got := b.Text("#run-error"); !strings.Contains(got, "TypeError") || !strings.Contains(got, "line 3") {
				t.Errorf("the page shows %q, not the TypeError at line 3", got)
			}
			b.Check("run-error")
		})
	}
}
