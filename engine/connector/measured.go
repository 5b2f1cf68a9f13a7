package connector

import (
	"context"

	"github.com/dynapi/dynapi/engine/metrics"
)

// measured records the calls of an invoker a connector prepared (or the
// script engine compiled) in the metrics, under its connector and method.
type measured struct {
	inv   Invoker
	calls *metrics.Calls
}

// measured returns inv with its calls recorded as calls of method through
// the connector named name: timed, or only counted for an InMemory
// connector; inv itself when metrics are off. The recorder is resolved
// here, once, so a call costs two clock reads and a few atomic adds.
func (d *Dispatcher) measured(name, method string, inv Invoker) Invoker {
	if d.metrics == nil {
		return inv
	}
	calls := d.metrics.Calls(name, method)
	if conn, ok := d.connector(name); ok {
		if _, inMemory := conn.(InMemory); inMemory {
			return counted{inv: inv, calls: calls}
		}
	}
	return measured{inv: inv, calls: calls}
}

// ReadsArgs implements ArgsReader for the invoker measured wraps.
func (m measured) ReadsArgs() bool { return readsArgs(m.inv) }

func (m measured) Invoke(ctx context.Context, req *Request) (*Result, error) {
	start := metrics.Clock()
	res, err := m.inv.Invoke(ctx, req)
	m.calls.Observe(start, err != nil)
	return res, err
}

// counted counts the calls of an invoker an InMemory connector prepared,
// without timing them.
type counted struct {
	inv   Invoker
	calls *metrics.Calls
}

// ReadsArgs implements ArgsReader for the invoker counted wraps.
func (c counted) ReadsArgs() bool { return readsArgs(c.inv) }

func (c counted) Invoke(ctx context.Context, req *Request) (*Result, error) {
	res, err := c.inv.Invoke(ctx, req)
	c.calls.Count(err != nil)
	return res, err
}
