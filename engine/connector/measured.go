package connector

import (
	"context"
	"time"

	"github.com/dynapi/dynapi/engine/metrics"
)

// measured records the calls of an invoker a connector prepared (or the
// script engine compiled) in the metrics, under its connector and method.
type measured struct {
	inv   Invoker
	calls *metrics.Calls
}

// measured returns inv with its calls recorded as calls of method through
// connector; inv itself when metrics are off. The recorder is resolved
// here, once, so a call costs a clock read and a few atomic adds.
func (d *Dispatcher) measured(connector, method string, inv Invoker) Invoker {
	if d.metrics == nil {
		return inv
	}
	return measured{inv: inv, calls: d.metrics.Calls(connector, method)}
}

// ReadsArgs implements ArgsReader for the invoker measured wraps.
func (m measured) ReadsArgs() bool { return readsArgs(m.inv) }

func (m measured) Invoke(ctx context.Context, req *Request) (*Result, error) {
	start := time.Now()
	res, err := m.inv.Invoke(ctx, req)
	m.calls.Observe(start, err != nil)
	return res, err
}
