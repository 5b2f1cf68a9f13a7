package enginetest

import "testing"

// Audited counts the audit log's entries of action on target, among the
// latest thousand, read as the super admin.
func (e *Engine) Audited(t testing.TB, action, target string) int {
	t.Helper()
	n := 0
	entries, _ := e.Admin().Get(t, "/admin/v1/audit-log?limit=1000").JSON(t)["entries"].([]any)
	for _, entry := range entries {
		if m, _ := entry.(map[string]any); m["action"] == action && m["target"] == target {
			n++
		}
	}
	return n
}
