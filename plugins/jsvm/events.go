package jsvm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// MaxEventsPerCall bounds the events one call of a connector method may
// emit with events.emit; the next one throws.
const MaxEventsPerCall = 16

// eventsEmit answers events.emit(type, subject, data): the event is
// checked at once (events.CheckCustom), a fault thrown as an Error naming
// it, and kept for the call, whose Invoke writes the call's events through
// Options.Emit once the method returned successfully. data is any JSON
// value; undefined gives none.
func (sb *sandbox) eventsEmit(call goja.FunctionCall) goja.Value {
	const what = "events.emit"
	c := sb.call
	if sb.e.o.Emit == nil {
		sb.throw(what + ": events are not available")
	}
	if len(sb.emitted) >= MaxEventsPerCall {
		sb.throw(fmt.Sprintf("%s: a call emits at most %d events", what, MaxEventsPerCall))
	}
	typ, subject := sb.textArg(call, 0, what, "type"), sb.textArg(call, 1, what, "subject")
	var data []byte
	if text := sb.goJSON(call.Argument(2)); text != "" {
		data = []byte(text)
	}
	if err := events.CheckCustom(typ, subject, data); err != nil {
		sb.throw(what + ": " + faults(err))
	}
	ev := &events.Event{Type: typ, Subject: subject, BankID: c.req.BankID, CorrelationID: c.correlationID(), Data: data}
	if p := c.principal(); p != nil {
		ev.ConsumerID = p.ConsumerID
	}
	sb.emitted = append(sb.emitted, ev)
	return goja.Undefined()
}

// faults is the message of a refusal with its violations, each as
// "field (code): message".
func faults(err error) string {
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return err.Error()
	}
	msgs := make([]string, 0, len(ee.Violations))
	for _, v := range ee.Violations {
		msgs = append(msgs, strings.TrimPrefix(v.Pointer, "/")+" ("+v.Code+"): "+v.Message)
	}
	return ee.Message + ": " + strings.Join(msgs, "; ")
}

// throw throws an Error with msg in the script, which may catch it; if it
// does not, the call fails (500).
func (sb *sandbox) throw(msg string) {
	e, err := sb.newError(nil, sb.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	panic(e)
}

// emit writes the events a call emitted through Options.Emit, once the
// call returned successfully; a failure fails the call.
func (s *script) emit(ctx context.Context, evs []*events.Event) error {
	err := s.e.o.Emit(ctx, evs)
	var ee *engine.Error
	if err == nil || errors.As(err, &ee) {
		return err
	}
	return engine.Internal(fmt.Errorf("jsvm: %s: write its %d events: %w", s.name, len(evs), err))
}
