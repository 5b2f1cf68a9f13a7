package engine

import "context"

// The request pipeline. Every operation is answered by the same steps, in
// this order:
//
//	match → authenticate → guard → policies → validate → invoke → filters → render
//
// The edge (http/server) runs the steps, for dynamic operations and its
// fixed routes (records, management, tokens, health) alike; the kernel
// defines the two hook lists a feature joins to take part in every call
// without a route of its own: a Policy refuses a call before its input is read, a ResponseFilter
// sees the connector's reply before it is rendered. A consent check, for
// example, is one Policy appended to Hooks.Policies.

// Policy is a check of the pipeline, run in order after the guard admitted
// the caller and before the request's input is validated. The call holds
// the operation, bank, caller, path values and HTTP request (where the
// correlation id is the response's header); Body, Prefer and CorrelationID
// are filled only once the input is valid. A policy refuses by returning an error, which is
// answered as it is (an *Error for a client's fault); it must not keep the
// call after it returns.
type Policy interface {
	Allow(ctx context.Context, call *Call) error
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(ctx context.Context, call *Call) error

// Allow calls f.
func (f PolicyFunc) Allow(ctx context.Context, call *Call) error { return f(ctx, call) }

// ResponseFilter is a step of the pipeline run in order on the connector's
// reply before it is rendered. It returns the reply to render: reply
// itself, or a new one. Replies may be shared between calls (Reply), so a
// filter never changes reply or its Body in place. An error is answered
// instead of the reply.
type ResponseFilter interface {
	Filter(ctx context.Context, call *Call, reply *Reply) (*Reply, error)
}

// ResponseFilterFunc adapts a function to ResponseFilter.
type ResponseFilterFunc func(ctx context.Context, call *Call, reply *Reply) (*Reply, error)

// Filter calls f.
func (f ResponseFilterFunc) Filter(ctx context.Context, call *Call, reply *Reply) (*Reply, error) {
	return f(ctx, call, reply)
}

// ErrorRenderer writes a route's refusals in the shape its standard
// prescribes (UK Open Banking's OBErrorResponse1, say) instead of
// application/problem+json. It never fails: every Error has an answer.
type ErrorRenderer interface {
	RenderError(e *Error, correlationID string) *Reply
}

// Hooks are the pipeline's ordered hook lists. The zero value has none and
// costs nothing per call. Hooks are fixed once serving starts: the lists
// are read concurrently and never changed.
type Hooks struct {
	// Policies run in order; the first refusal ends the call.
	Policies []Policy
	// Filters run in order, each on the reply the one before returned.
	Filters []ResponseFilter
}

// Allow runs the policies in order and returns the first refusal.
func (h *Hooks) Allow(ctx context.Context, call *Call) error {
	for _, p := range h.Policies {
		if err := p.Allow(ctx, call); err != nil {
			return err
		}
	}
	return nil
}

// Filter runs the filters in order on reply and returns the reply to
// render.
func (h *Hooks) Filter(ctx context.Context, call *Call, reply *Reply) (*Reply, error) {
	for _, f := range h.Filters {
		var err error
		if reply, err = f.Filter(ctx, call, reply); err != nil {
			return nil, err
		}
	}
	return reply, nil
}
