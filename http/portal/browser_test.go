package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/browsertest"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// portalEngine is an engine serving the portal on loopback, with
// self-registration on, and its portal's address.
func portalEngine(t *testing.T, opts ...enginetest.Option) (*enginetest.Engine, string) {
	t.Helper()
	inst := enginetest.New(t, append([]enginetest.Option{enginetest.Configure(func(c *dynapi.Config) { c.SelfRegistration = true })}, opts...)...)
	return inst, "http://" + inst.Addr(t) + "/portal"
}

// css is a CSS selector.
func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// signIn signs username in on the portal's sign-in page.
func signIn(b *browsertest.Browser, base, username, password string) {
	b.Run(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(css("#username")))
	b.Check("signin")
	b.Run(chromedp.SendKeys(css("#username"), username), chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#signout")))
}

// TestDeveloperSignsUpAndRegistersAnApp is the first browser
// scenario: a new developer signs up (self-registration on), is signed
// in, registers an app and copies its key from the page; the key is the
// app's (the API logs the developer in through it) and the developer
// signs out.
func TestDeveloperSignsUpAndRegistersAnApp(t *testing.T) {
	for _, size := range browsertest.Sizes {
		t.Run(size.Name, func(t *testing.T) {
			inst, base := portalEngine(t)
			b := browsertest.New(t, size)
			const username, password = "dev-ada", "Ada-lovelace-0123"

			b.Run(chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(css("#username")))
			b.Check("signup")
			b.Run(chromedp.SendKeys(css("#username"), username), chromedp.SendKeys(css("#email"), "ada@example.com"),
				chromedp.SendKeys(css("#password"), password), chromedp.SendKeys(css("#password_again"), password),
				chromedp.Click(css("#signup")), chromedp.WaitVisible(css("#register-app")))
			b.Check("my-apps-empty")

			b.Run(chromedp.SendKeys(css("#name"), "Ada's budget app"),
				chromedp.SendKeys(css("#redirect_uris"), "https://ada.example/callback"),
				chromedp.Click(css("#register-app")), chromedp.WaitVisible(css("#consumer-key")))
			key := b.Text("#consumer-key")
			b.Run(chromedp.Click(css("#copy-key")), chromedp.WaitVisible(css("#copy-status:not(:empty)")))
			b.Check("app-registered")

			app, ok := inst.Access.Identity.ConsumerByKey(key)
			if !ok || app.Name != "Ada's budget app" || !app.Enabled {
				t.Fatalf("the key on the page is no enabled app of the developer: %+v", app)
			}
			if got := strings.Join(app.RedirectURIs, ","); got != "https://ada.example/callback" {
				t.Errorf("redirect URIs %q", got)
			}
			login := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
				"DirectLogin": `username="` + username + `", password="` + password + `", consumer_key="` + key + `"`}})
			if login.Status != http.StatusCreated {
				t.Fatalf("login through the new app: %d %s", login.Status, login.Body)
			}

			b.Run(chromedp.Navigate(base+"/apps"), chromedp.WaitVisible(css("#apps")))
			b.Check("my-apps")
			b.Run(chromedp.Click(css("#signout")), chromedp.WaitVisible(css("#signin")))
			b.Check("signed-out")
		})
	}
}
