package jsonschemas

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/petermattis/goid"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestTimeoutFor(t *testing.T) {
	for _, tc := range []struct {
		left time.Duration
		want time.Duration // 0: none
	}{
		{time.Second, PatternTimeout}, {PatternTimeout, PatternTimeout}, {30 * time.Millisecond, 20 * time.Millisecond},
		{12 * time.Millisecond, 10 * time.Millisecond}, {5 * time.Millisecond, 5 * time.Millisecond},
		{4 * time.Millisecond, 0}, {-time.Millisecond, 0},
	} {
		got := time.Duration(0)
		if i := timeoutFor(tc.left); i >= 0 {
			got = matchTimeouts[i]
		}
		if got != tc.want {
			t.Errorf("timeoutFor(%v) = %v, want %v", tc.left, got, tc.want)
		}
	}
}

// TestBudgetRegistration: only schemas reaching a backtracking pattern
// register a budget, for the validation's duration alone, panics
// included.
func TestBudgetRegistration(t *testing.T) {
	var seen *Budget
	probe := &jsonschema.Format{Name: "probe", Validate: func(any) error {
		seen = budgets.of(goid.Get())
		return nil
	}}
	compile := func(schema map[string]any) *Schema {
		c := NewCompiler("self-contained", probe)
		if err := c.AddResource("https://dynapi.invalid/t.json", schema); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("https://dynapi.invalid/t.json")
		if err != nil {
			t.Fatal(err)
		}
		return NewSchema(s)
	}
	plain := compile(map[string]any{"format": "probe", "pattern": `^\d+$`, "minimum": 0})
	b := NewBudget(0)
	if err := plain.ValidateWithin("1", b); err != nil || seen != nil || plain.Backtracking() {
		t.Errorf("plain schema: err %v, budget seen %v", err, seen)
	}
	backtracking := compile(map[string]any{"format": "probe", "pattern": `^(?=\d)\d+$`, "minimum": 0})
	if err := backtracking.ValidateWithin("1", b); err != nil || seen != b {
		t.Errorf("backtracking schema: err %v, budget seen %p want %p", err, seen, b)
	}
	if _, isPanic := backtracking.ValidateWithin(json.Number("1e10000000"), b).(*PanicError); !isPanic {
		t.Error("the library's panic was not recovered")
	}
	if budgets.of(goid.Get()) != nil {
		t.Error("a budget stayed registered after its validation")
	}
}
