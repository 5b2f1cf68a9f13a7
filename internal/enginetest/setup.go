package enginetest

import (
	"net/http"
	"os"
	"testing"
)

// Grant gives a user a role as the super admin and returns the
// entitlement's id; bankID is "" for a system role.
func (e *Engine) Grant(t testing.TB, userID, bankID, role string) string {
	t.Helper()
	r := e.Admin().PostJSON(t, "/admin/v1/users/"+userID+"/entitlements", map[string]string{"bank_id": bankID, "role_name": role})
	if r.Status != http.StatusCreated {
		t.Fatalf("grant %s at %q: %d %s", role, bankID, r.Status, r.Body)
	}
	id, _ := r.JSON(t)["entitlement_id"].(string)
	return id
}

// CreateBank makes a bank as the super admin.
func (e *Engine) CreateBank(t testing.TB, id string) {
	t.Helper()
	r := e.Admin().PostJSON(t, "/admin/v1/banks", map[string]string{"bank_id": id, "short_name": id, "full_name": "Bank " + id})
	if r.Status != http.StatusCreated {
		t.Fatalf("create bank %s: %d %s", id, r.Status, r.Body)
	}
}

// MustCreate posts a document as c to path and fails the test unless it
// is accepted; it returns the created endpoint.
func (c Caller) MustCreate(t testing.TB, path string, doc []byte) map[string]any {
	t.Helper()
	r := c.Post(t, path, doc)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST %s as %s: status %d, body %s", path, c, r.Status, r.Body)
	}
	return r.JSON(t)
}

// ReadFile returns the file at path, failing the test when it cannot be
// read.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
