package enginetest

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
)

// Headers a request sends to steer HookRecorder's hooks.
const (
	// HeaderRecord makes the hooks record the request; requests without it
	// (a test's setup) pass unseen.
	HeaderRecord = "X-Test-Record"
	// HeaderRefuse makes the policy refuse the request with
	// CodeRefusedByPolicy.
	HeaderRefuse = "X-Test-Refuse"
	// HeaderWrap makes the filter answer "wrapped(BODY)" as text/plain in
	// place of the reply.
	HeaderWrap = "X-Test-Wrap"
)

// CodeRefusedByPolicy is the problem code of HookRecorder's policy, a 403.
const CodeRefusedByPolicy = "consent_missing"

// HookRecorder is a policy and a response filter for Config.Hooks that
// record, in order, the operations of the requests they see ("policy OP",
// "filter OP"), for tests of the pipeline's stages. The policy fails the
// test when it sees a decoded body.
type HookRecorder struct {
	t     testing.TB
	mu    sync.Mutex
	steps []string
}

// NewHookRecorder makes a recorder reporting to t.
func NewHookRecorder(t testing.TB) *HookRecorder { return &HookRecorder{t: t} }

// Option is the instance option installing the recorder's hooks.
func (h *HookRecorder) Option() Option {
	return Configure(func(c *dynapi.Config) {
		c.Hooks = engine.Hooks{Policies: []engine.Policy{engine.PolicyFunc(h.allow)},
			Filters: []engine.ResponseFilter{engine.ResponseFilterFunc(h.filter)}}
	})
}

// Take returns what was recorded since the last Take.
func (h *HookRecorder) Take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.steps
	h.steps = nil
	return out
}

func (h *HookRecorder) record(step string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = append(h.steps, step)
}

func (h *HookRecorder) allow(_ context.Context, call *engine.Call) error {
	if _, ok := call.HTTP.Header(HeaderRecord); !ok {
		return nil
	}
	h.record("policy " + call.OperationID)
	if call.Body != nil {
		h.t.Errorf("%s: a policy saw a body before it was decoded", call.OperationID)
	}
	if _, refuse := call.HTTP.Header(HeaderRefuse); refuse {
		return engine.NewError(http.StatusForbidden, CodeRefusedByPolicy, "no consent covers this call")
	}
	return nil
}

func (h *HookRecorder) filter(_ context.Context, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
	if _, ok := call.HTTP.Header(HeaderRecord); !ok {
		return reply, nil
	}
	h.record("filter " + call.OperationID)
	if _, wrap := call.HTTP.Header(HeaderWrap); !wrap {
		return reply, nil
	}
	body := append(append([]byte("wrapped("), reply.Body...), ')')
	return &engine.Reply{Status: reply.Status, ContentType: "text/plain", Body: body}, nil
}
