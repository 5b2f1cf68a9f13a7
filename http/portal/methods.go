package portal

import (
	"context"
	"encoding/json"
	"net"

	"github.com/gofiber/fiber/v2"
)

// RunRequest is a connector method to run with arguments, as the
// editor's "Run with these args" sends it.
type RunRequest struct {
	MethodName string          `json:"method_name"`
	MethodBody string          `json:"method_body"`
	Args       json.RawMessage `json:"args"`
	BankID     string          `json:"bank_id,omitempty"`
}

// RunFault is a script's failure: where (compile, run or timeout), its
// error's name and message, and its line and column (0 when unknown).
type RunFault struct {
	Phase   string `json:"phase"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
}

// RunResult is the outcome of a run: "ok" with its result, or "error"
// with the fault.
type RunResult struct {
	Outcome    string          `json:"outcome"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      *RunFault       `json:"error,omitempty"`
	DurationMS float64         `json:"duration_ms"`
}

// MethodRunner runs a connector method for the signed-in user whose
// DirectLogin token is given, who must hold the role running needs.
type MethodRunner interface {
	Run(ctx context.Context, token string, in RunRequest) (*RunResult, error)
}

// APIRunner runs a method through the API's POST
// /admin/v1/connector-methods/run as the signed-in user: its guard
// decides who may. It is the portal's runner unless API.Runner is set.
type APIRunner struct{ portal *portal }

// Run implements MethodRunner. A refusal of the API (401, 403, 400, 404
// while the route is not served) is its error.
func (r APIRunner) Run(ctx context.Context, token string, in RunRequest) (*RunResult, error) {
	o, _ := ctx.Value(originKey{}).(origin)
	if o.addr == nil {
		o = origin{host: "localhost", addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	got := r.portal.send(o, fiber.MethodPost, "/admin/v1/connector-methods/run", token, fiber.MIMEApplicationJSON, body)
	if err := got.err(); err != nil {
		return nil, err
	}
	var out RunResult
	return &out, got.decode(&out)
}
