package sample

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestGenerateBranchingRecursion checks that a recursive schema with many
// recursive properties stays finite, fast and valid.
func TestGenerateBranchingRecursion(t *testing.T) {
	props := map[string]any{"id": map[string]any{"type": "integer"}}
	for i := range 6 {
		props[fmt.Sprintf("r%d", i)] = map[string]any{"$ref": "#/components/schemas/N"}
		props[fmt.Sprintf("l%d", i)] = map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/N"}}
	}
	n := map[string]any{"type": "object", "required": []any{"id"}, "properties": props}
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{"N": n}}}
	start := time.Now()
	v := Generate(map[string]any{"$ref": "#/components/schemas/N"}, Options{Resolve: resolverFor(doc), IgnoreExamples: true})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	size := len(mustJSON(v))
	t.Logf("%d bytes in %v", size, time.Since(start))

	const base = "https://dynapi.invalid/n.json"
	c := newCompiler(false)
	if err := c.AddResource(base, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(base + "#/components/schemas/N")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateValue(sch, v); err != nil {
		t.Error(err)
	}
}

// TestConcurrent runs generation in parallel (for the pattern caches under
// -race).
func TestConcurrent(t *testing.T) {
	schema := map[string]any{
		"type":     "array",
		"minItems": 3, "uniqueItems": true,
		"items": map[string]any{"type": "string", "pattern": `^(?!\s)(.*)(\S)$`, "maxLength": 10},
	}
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = mustJSON(Generate(schema, Options{IgnoreExamples: true}))
		}()
	}
	wg.Wait()
	for _, r := range results[1:] {
		if r != results[0] {
			t.Errorf("results differ: %s vs %s", r, results[0])
		}
	}
}
