package identity_test

import (
	"testing"

	"github.com/dynapi/dynapi/engine/identity"
)

// TestConsumerCallbackMatch matches a URL exactly against the consumer's
// callback URLs, and a URL's scheme, host and port (default ports
// written or not, host names in any case) against theirs.
func TestConsumerCallbackMatch(t *testing.T) {
	c := &identity.Consumer{CallbackURLs: []string{"https://tpp.example.com/events", "http://127.0.0.1:8080/cb"}}
	for _, tc := range []struct {
		url        string
		exact, org bool
	}{
		{"https://tpp.example.com/events", true, true},
		{"https://tpp.example.com/events/", false, true},
		{"https://TPP.example.com:443/bg/notify", false, true},
		{"http://127.0.0.1:8080/other", false, true},
		{"http://127.0.0.1/cb", false, false},
		{"http://tpp.example.com/events", false, false},
		{"https://tpp.example.com:8443/events", false, false},
		{"https://evil.example.com/events", false, false},
		{"ftp://tpp.example.com/events", false, false},
		{"not a url", false, false},
		{"", false, false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			if got := c.HasCallbackURL(tc.url); got != tc.exact {
				t.Errorf("HasCallbackURL = %v; want %v", got, tc.exact)
			}
			if got := c.HasCallbackHost(tc.url); got != tc.org {
				t.Errorf("HasCallbackHost = %v; want %v", got, tc.org)
			}
		})
	}
}
