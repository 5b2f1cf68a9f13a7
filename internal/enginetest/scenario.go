package enginetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/dynapi/dynapi/engine/audit"
)

// Scenario is one request and what it must answer and record.
type Scenario struct {
	Name string
	// Caller says who sends Request; a scenario without one fails.
	Caller  Caller
	Request Request
	// WantStatus is the status the answer must have.
	WantStatus int
	// WantProblem, when set, is the code of the problem+json the answer
	// must be.
	WantProblem string
	// WantAudit are entries the request must add to the audit log.
	WantAudit []Audit
	// Check, when set, asserts anything else about the answer.
	Check func(t *testing.T, r Response)
}

// Audit matches an audit log entry; empty fields match anything.
type Audit struct {
	Action, Target, UserID, BankID string
}

func (a Audit) matches(e audit.Entry) bool {
	return a.Action == e.Action && (a.Target == "" || a.Target == e.Target) &&
		(a.UserID == "" || a.UserID == e.UserID) && (a.BankID == "" || a.BankID == e.BankID)
}

// Run runs each scenario as a subtest, in order, on e.
func (e *Engine) Run(t *testing.T, scenarios ...Scenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			t.Helper()
			e.run(t, s)
		})
	}
}

func (e *Engine) run(t *testing.T, s Scenario) {
	t.Helper()
	if s.Caller.e == nil {
		t.Fatal("the scenario says not who calls: set Caller (Admin, As, Anonymous)")
	}
	var after uint64
	if len(s.WantAudit) > 0 {
		_, after = e.AuditSince(t, 0)
	}
	r := s.Caller.Send(t, s.Request)
	if r.Status != s.WantStatus {
		t.Fatalf("%s %s as %s: status %d, want %d: %s", s.Request.Method, s.Request.Path, s.Caller, r.Status, s.WantStatus, r.Body)
	}
	if s.WantProblem != "" {
		if p := r.Problem(t); p.Code != s.WantProblem {
			t.Fatalf("problem code %q, want %q: %s", p.Code, s.WantProblem, r.Body)
		}
	}
	if len(s.WantAudit) > 0 {
		written, _ := e.AuditSince(t, after)
		for _, w := range s.WantAudit {
			if !containsAudit(written, w) {
				t.Errorf("no audit entry %+v among the %d written: %v", w, len(written), written)
			}
		}
	}
	if s.Check != nil {
		s.Check(t, r)
	}
}

func containsAudit(entries []audit.Entry, w Audit) bool {
	for _, e := range entries {
		if w.matches(e) {
			return true
		}
	}
	return false
}

// AuditSince reads the audit log over HTTP, as the super admin, from after
// the entry numbered after, and returns the entries and the last number.
func (e *Engine) AuditSince(t testing.TB, after uint64) ([]audit.Entry, uint64) {
	t.Helper()
	var all []audit.Entry
	for {
		r := e.Admin().Get(t, "/admin/v1/audit-log?limit=1000&after="+strconv.FormatUint(after, 10))
		if r.Status != http.StatusOK {
			t.Fatalf("audit log: %d %s", r.Status, r.Body)
		}
		var page struct {
			Entries   []audit.Entry `json:"entries"`
			NextAfter uint64        `json:"next_after"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatalf("audit log: %v", err)
		}
		all = append(all, page.Entries...)
		for _, en := range page.Entries {
			after = max(after, en.Seq)
		}
		if page.NextAfter == 0 || len(page.Entries) == 0 {
			return all, after
		}
	}
}

// String shows an entry in failure messages.
func (a Audit) String() string {
	return fmt.Sprintf("{action %q target %q user %q bank %q}", a.Action, a.Target, a.UserID, a.BankID)
}
