package guard

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
)

// held is the roles each user has, at each bank ("" system wide).
type held map[string]map[string]bool

func (h held) HasAny(userID, bankID string, roles []string) bool {
	for _, r := range roles {
		if h[userID][bankID+"/"+r] || h[userID]["/"+r] {
			return true
		}
	}
	return false
}
func (held) Role(name string) (authz.Role, bool) {
	return authz.Role{Name: name, RequiresBankID: true}, true
}
func (held) GrantJustInTime(context.Context, string, string, []string) (bool, error) {
	return true, nil // never asked for callers under a consent
}

type anyBank struct{}

func (anyBank) Exists(string) bool { return true }

// TestAuthorizeDelegated: a caller under a consent passes only routes that
// admit consents, with a role only when the consent names it and the
// customer has it now.
func TestAuthorizeDelegated(t *testing.T) {
	roles := held{"alice": {"b1/CanRead": true, "b1/CanPay": true}}
	g := New(roles, anyBank{})
	alice := &engine.Principal{UserID: "alice", Method: "obp_consent", ClaimedRoles: []string{"CanRead", "CanAudit"},
		Delegation: &engine.Delegation{Roles: []engine.DelegatedRole{{BankID: "b1", RoleName: "CanRead"}, {BankID: "b1", RoleName: "CanAudit"}}}}
	for _, tc := range []struct {
		name   string
		rule   Rule
		bank   string
		status int
	}{
		{"a route without consents", Rule{}, "b1", http.StatusForbidden},
		{"a route with roles, without consents", Rule{Roles: []string{"CanRead"}}, "b1", http.StatusForbidden},
		{"a consent route without roles", Rule{Delegated: true}, "b1", 0},
		{"a role delegated and held", Rule{Delegated: true, Roles: []string{"CanRead"}}, "b1", 0},
		{"a role held, not delegated", Rule{Delegated: true, Roles: []string{"CanPay"}}, "b1", http.StatusForbidden},
		{"a role delegated, not held (claims are not granted)", Rule{Delegated: true, Roles: []string{"CanAudit"}}, "b1", http.StatusForbidden},
		{"a role delegated at another bank", Rule{Delegated: true, Roles: []string{"CanRead"}}, "b2", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := g.Authorize(context.Background(), alice, &tc.rule, tc.bank)
			var e *engine.Error
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.status != 0 && (!errors.As(err, &e) || e.Status != tc.status):
				t.Fatalf("got %v, want a %d", err, tc.status)
			}
		})
	}
	t.Run("a role taken from the customer leaves the consent at once", func(t *testing.T) {
		rule := Rule{Delegated: true, Roles: []string{"CanRead"}}
		delete(roles["alice"], "b1/CanRead")
		if err := g.Authorize(context.Background(), alice, &rule, "b1"); err == nil {
			t.Fatal("a revoked role still passes under the consent")
		}
	})
}
