package dynapi_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/specs"
)

// TestUKOpenBankingIdempotencyKey checks the lookahead pattern UK Open
// Banking puts on x-idempotency-key, which Go's regexp cannot compile, is
// enforced.
func TestUKOpenBankingIdempotencyKey(t *testing.T) {
	inst := open(t, "")
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, filepath.Join(sharedSpecs, "ob-uk-v4.0/payment-initiation-openapi.yaml")))
	ep, err := inst.Endpoints.Get("", created["dynamic_endpoint_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var op *specs.Operation
	for _, o := range ep.Doc.Operations {
		if o.Method == http.MethodPost && o.Path == "/domestic-payment-consents" {
			op = o
		}
	}
	if op == nil {
		t.Fatal("POST /domestic-payment-consents not found")
	}
	cases := []struct {
		name, key string
		status    int
	}{
		{"plain key", "abc-123", http.StatusCreated},
		{"too long", "k234567890123456789012345678901234567890x", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := validRequest(t, ep.Doc, op, ep.ServedPath(op))
			req.headers["x-idempotency-key"] = tc.key
			r := do(t, inst, req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusBadRequest && !hasViolation(r.problem(t), "header", "/x-idempotency-key", "maxLength") {
				t.Errorf("the violation does not name the header: %s", r.body)
			}
		})
	}
	// HTTP strips leading and trailing blanks from header values (RFC 9110
	// 5.5), so a key with a leading space can only reach validation from
	// inside the process: check the compiled operation directly.
	for _, key := range []string{" abc-123", "abc-123 ", "\tabc"} {
		t.Run("pattern refuses "+strconv.Quote(key), func(t *testing.T) {
			req := validRequest(t, ep.Doc, op, ep.ServedPath(op))
			req.headers["x-idempotency-key"] = key
			_, err := op.Validate(headerRequest{req})
			var e *engine.Error
			if !errors.As(err, &e) || !hasViolation(server.Problem{Violations: e.Violations}, "header", "/x-idempotency-key", "pattern") {
				t.Fatalf("want a pattern violation, got %v", err)
			}
		})
	}
}

// headerRequest presents a test request to specs validation in process.
type headerRequest struct{ r request }

func (h headerRequest) PathValue(int) string         { return "" }
func (h headerRequest) QueryValues(string) []string  { return nil }
func (h headerRequest) Cookie(string) (string, bool) { return "", false }
func (h headerRequest) ContentType() string          { return h.r.headers["Content-Type"] }
func (h headerRequest) Body() []byte                 { return h.r.body }
func (h headerRequest) Header(name string) (string, bool) {
	for k, v := range h.r.headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
