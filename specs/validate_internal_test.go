package specs

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// queryRequest is a request with one query parameter.
type queryRequest struct{ name, value string }

func (r queryRequest) PathValue(int) string { return "" }
func (r queryRequest) QueryValues(name string) []string {
	if name == r.name {
		return []string{r.value}
	}
	return nil
}
func (r queryRequest) Header(string) (string, bool) { return "", false }
func (r queryRequest) Cookie(string) (string, bool) { return "", false }
func (r queryRequest) ContentType() string          { return "" }
func (r queryRequest) Body() []byte                 { return nil }

// TestValidatePanicIsInternal: a panic inside the schema library is a 500
// carrying the panic for the log, not a violation and not a dead process.
func TestValidatePanicIsInternal(t *testing.T) {
	boom := &jsonschema.Format{Name: "boom", Validate: func(any) error { panic("the library failed") }}
	c := jsonschemas.NewCompiler("self-contained", boom)
	if err := c.AddResource("https://dynapi.invalid/t.json", map[string]any{"type": "string", "format": "boom"}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("https://dynapi.invalid/t.json")
	if err != nil {
		t.Fatal(err)
	}
	op := &Operation{Params: []*Parameter{{Name: "q", In: "query", Kind: KindString, Schema: &Schema{jsonschemas.NewSchema(s)}}}}
	_, err = op.Validate(queryRequest{"q", "x"})
	var e *engine.Error
	var pe *jsonschemas.PanicError
	if !errors.As(err, &e) || e.Status != http.StatusInternalServerError || !errors.As(err, &pe) {
		t.Fatalf("got %v, want a 500 wrapping a *PanicError", err)
	}
	if strings.Contains(e.Message, "the library failed") || len(e.Violations) != 0 {
		t.Errorf("the client would see the panic: %+v", e)
	}
	if !strings.Contains(err.Error(), "the library failed") {
		t.Errorf("the log would not see the panic: %v", err)
	}
}
