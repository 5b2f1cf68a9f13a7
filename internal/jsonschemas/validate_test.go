package jsonschemas_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/internal/jsonschemas"
	"github.com/dynapi/dynapi/internal/strictjson"
)

// catastrophic needs the backtracking engine (a lookahead) and backtracks
// exponentially on a run of a's that does not end the string.
const catastrophic = `^(?!x)(a+)+$`

// hostile is a value whose match against catastrophic never finishes.
var hostile = strings.Repeat("a", 60) + "!"

func compile(t *testing.T, schema any) *jsonschemas.Schema {
	t.Helper()
	c := jsonschemas.NewCompiler("self-contained")
	if err := c.AddResource("https://dynapi.invalid/t.json", schema); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("https://dynapi.invalid/t.json")
	if err != nil {
		t.Fatal(err)
	}
	return jsonschemas.NewSchema(s)
}

func stringsOf(n int, s string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestValidateRecoversPanics: a number big.Rat cannot hold makes the
// library dereference nil; the panic comes back as a *PanicError.
func TestValidateRecoversPanics(t *testing.T) {
	for _, schema := range []map[string]any{
		{"type": "number", "minimum": 0},
		{"type": "number", "multipleOf": 0.01},
		{"type": "array", "items": map[string]any{"pattern": catastrophic}, "uniqueItems": true},
	} {
		s := compile(t, schema)
		var value any = json.Number("1e10000000")
		if schema["type"] == "array" {
			// Past 20 items, uniqueItems hashes numbers as big.Rat.
			items := []any{json.Number("1e10000000")}
			for i := range 24 {
				items = append(items, json.Number(strconv.Itoa(i)))
			}
			value = items
		}
		err := s.Validate(value)
		var pe *jsonschemas.PanicError
		if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "panicked") || len(pe.Stack) == 0 {
			t.Errorf("%v: got %v, want a *PanicError with its stack", schema, err)
		}
		if vs := jsonschemas.Violations(err, "body", "", jsonschemas.Words{}); len(vs) != 1 || strings.Contains(vs[0].Message, "panic") {
			t.Errorf("a panic must not reach a client's violation: %v", vs)
		}
	}
}

// TestPatternBudget refuses an array of hostile values at the first one,
// within about one match's timeout, naming it.
func TestPatternBudget(t *testing.T) {
	s := compile(t, map[string]any{"type": "array", "items": map[string]any{"type": "string", "pattern": catastrophic}})
	if !s.Backtracking() {
		t.Fatal("a lookahead pattern must count as backtracking")
	}
	value := append([]any{"a", "aaaa"}, stringsOf(40, hostile)...)
	start := time.Now()
	err := s.ValidateWithin(value, jsonschemas.NewBudget(100*time.Millisecond))
	elapsed := time.Since(start)
	var pe *jsonschemas.PatternError
	if !errors.As(err, &pe) || pe.Pointer != "/2" || pe.Pattern != catastrophic {
		t.Fatalf("got %v, want a *PatternError at /2", err)
	}
	// 40 matches each to its timeout take 2 s; one takes 50 ms and the
	// clock's resolution.
	if elapsed > 500*time.Millisecond {
		t.Errorf("refused after %v, want about one match timeout", elapsed)
	}
	vs := jsonschemas.Violations(err, "body", "/refs", jsonschemas.Words{})
	if len(vs) != 1 || vs[0].Pointer != "/refs/2" || vs[0].Code != jsonschemas.CodePatternBudget || !strings.Contains(vs[0].Message, "50ms") {
		t.Errorf("violations %+v", vs)
	}
}

// TestPatternBudgetShared: validations sharing a budget stop matching once
// it is spent; a match never gets a timeout longer than what is left.
func TestPatternBudgetShared(t *testing.T) {
	s := compile(t, map[string]any{"type": "string", "pattern": catastrophic})
	b := jsonschemas.NewBudget(8 * time.Millisecond)
	start := time.Now()
	err := s.ValidateWithin(hostile, b)
	var pe *jsonschemas.PatternError
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "used up its 8ms") {
		t.Fatalf("first: %v, want the budget used up", err)
	}
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond {
		t.Errorf("an 8ms budget let a match run %v", elapsed)
	}
	// The first match ran at least its 5 ms timeout: too little is left
	// for any match, so even a value that matches at once is refused.
	if err := s.ValidateWithin("aaa", b); !errors.As(err, &pe) || pe.Pointer != "" {
		t.Errorf("second: %v, want refused unmatched", err)
	}
	if err := s.ValidateWithin("aaa", jsonschemas.NewBudget(0)); err != nil {
		t.Errorf("a fresh budget: %v", err)
	}
}

// TestPatternBudgetsAreSeparate: while one validation holds a spent
// budget, another running at the same time matches within its own.
func TestPatternBudgetsAreSeparate(t *testing.T) {
	inside, resume := make(chan struct{}), make(chan struct{})
	pause := &jsonschema.Format{Name: "pause", Validate: func(v any) error {
		if v == "pause" {
			close(inside)
			<-resume
		}
		return nil
	}}
	c := jsonschemas.NewCompiler("self-contained", pause)
	schema := map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "pause", "pattern": `^(?!x)\w+$`}}
	if err := c.AddResource("https://dynapi.invalid/t.json", schema); err != nil {
		t.Fatal(err)
	}
	compiled, err := c.Compile("https://dynapi.invalid/t.json")
	if err != nil {
		t.Fatal(err)
	}
	s := jsonschemas.NewSchema(compiled)
	spent := make(chan error)
	go func() {
		// Paused inside its validation, with a budget too small for any
		// match, registered for its goroutine.
		spent <- s.ValidateWithin([]any{"pause"}, jsonschemas.NewBudget(time.Nanosecond))
	}()
	<-inside
	if err := s.ValidateWithin(stringsOf(20, "aaaa"), nil); err != nil {
		t.Errorf("a validation beside a spent budget: %v", err)
	}
	close(resume)
	var pe *jsonschemas.PatternError
	if err := <-spent; !errors.As(err, &pe) || pe.Pointer != "/0" {
		t.Errorf("the spent budget: %v, want its value refused", err)
	}
}

// TestPatternOutsideValidate: a schema compiled by NewCompiler but
// validated by the library directly (no budget) still matches, a timeout
// counting as no match.
func TestPatternOutsideValidate(t *testing.T) {
	c := jsonschemas.NewCompiler("self-contained")
	if err := c.AddResource("https://dynapi.invalid/t.json", map[string]any{"pattern": catastrophic}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("https://dynapi.invalid/t.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate("aaa"); err != nil {
		t.Errorf("aaa: %v", err)
	}
	var ve *jsonschema.ValidationError
	if err := s.Validate(hostile); !errors.As(err, &ve) {
		t.Errorf("hostile: %v, want a pattern violation", err)
	}
}

func TestViolationsOfStrictJSON(t *testing.T) {
	_, err := strictjson.Decode([]byte(`{"data":[{"amount":1e10000000}]}`))
	vs := jsonschemas.Violations(err, "inbound", "", jsonschemas.Words{})
	if len(vs) != 1 || vs[0].Pointer != "/data/0/amount" || vs[0].Code != strictjson.CodeNumberRange {
		t.Errorf("number: %+v", vs)
	}
	_, err = strictjson.Decode([]byte(`{"data":[`))
	if vs := jsonschemas.Violations(err, "inbound", "/x", jsonschemas.Words{}); len(vs) != 1 || vs[0].Pointer != "/x" || vs[0].Code != strictjson.CodeMalformed {
		t.Errorf("syntax: %+v", vs)
	}
}
