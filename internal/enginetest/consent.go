package enginetest

import (
	"context"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
)

// AuthoriseConsent authorises consent id as the customer userID for
// accounts, straight through the consent service (as the customer's
// authorisation would), failing the test unless it is authorised.
func (e *Engine) AuthoriseConsent(t testing.TB, id, userID string, accounts ...string) {
	t.Helper()
	if _, err := e.Consents.Authorise(context.Background(), id, userID, accounts, audit.Actor{UserID: userID}); err != nil {
		t.Fatalf("authorise consent %s: %v", id, err)
	}
}

// ConsentCaller is a caller bearing ConsentToken.
func (e *Engine) ConsentCaller(t testing.TB, consumerKey, userID, id string, ttl time.Duration) Caller {
	t.Helper()
	return e.WithAuthorization("Bearer " + e.ConsentToken(t, consumerKey, userID, id, ttl))
}

// ConsentToken is an access token the customer userID granted the
// consumer with consumerKey under consent id, as the authorization-code
// grant issues it, living ttl (0: the issuer's TTL).
func (e *Engine) ConsentToken(t testing.TB, consumerKey, userID, id string, ttl time.Duration) string {
	t.Helper()
	c, ok := e.Access.Identity.ConsumerByKey(consumerKey)
	if !ok {
		t.Fatalf("no consumer %s", consumerKey)
	}
	tok, err := e.OAuth2.ConsentToken(c, userID, id, "accounts", ttl)
	if err != nil {
		t.Fatalf("consent token: %v", err)
	}
	return tok.AccessToken
}
