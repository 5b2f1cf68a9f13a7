package server_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/http/server"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// TestUKOpenBankingIdempotencyKey checks the lookahead pattern UK Open
// Banking puts on x-idempotency-key, which Go's regexp cannot compile, is
// enforced.
func TestUKOpenBankingIdempotencyKey(t *testing.T) {
	inst := enginetest.New(t)
	// Bound to no consent profile: the mock answers, in dynapi's problem
	// shape (the engine answers the payment consents under
	// uk-ob-v4.0-pis, tested in engine/consent).
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints?consent_profile=none", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "ob-uk-v4.0/payment-initiation-openapi.yaml")))
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
			req.Header["x-idempotency-key"] = tc.key
			r := inst.Admin().Send(t, req)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status == http.StatusBadRequest && !enginetest.HasViolation(r.Problem(t), "header", "/x-idempotency-key", "maxLength") {
				t.Errorf("the violation does not name the header: %s", r.Body)
			}
		})
	}
	// HTTP strips leading and trailing blanks from header values (RFC 9110
	// 5.5), so a key with a leading space can only reach validation from
	// inside the process: check the compiled operation directly.
	for _, key := range []string{" abc-123", "abc-123 ", "\tabc"} {
		t.Run("pattern refuses "+strconv.Quote(key), func(t *testing.T) {
			req := validRequest(t, ep.Doc, op, ep.ServedPath(op))
			req.Header["x-idempotency-key"] = key
			_, err := op.Validate(headerRequest{req})
			var e *engine.Error
			if !errors.As(err, &e) || !enginetest.HasViolation(server.Problem{Violations: e.Violations}, "header", "/x-idempotency-key", "pattern") {
				t.Fatalf("want a pattern violation, got %v", err)
			}
		})
	}
}

// headerRequest presents a test request to specs validation in process.
type headerRequest struct{ r enginetest.Request }

func (h headerRequest) PathValue(int) string         { return "" }
func (h headerRequest) QueryValues(string) []string  { return nil }
func (h headerRequest) Cookie(string) (string, bool) { return "", false }
func (h headerRequest) ContentType() string          { return h.r.Header["Content-Type"] }
func (h headerRequest) Body() []byte                 { return h.r.Body }
func (h headerRequest) Header(name string) (string, bool) {
	for k, v := range h.r.Header {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
