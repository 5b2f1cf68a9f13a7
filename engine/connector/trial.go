package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// The phases a script can fail in (ScriptFault.Phase).
const (
	PhaseCompile = "compile" // the body does not compile
	PhaseRun     = "run"     // it threw, or its result was refused
	PhaseTimeout = "timeout" // it ran past its deadline and was stopped
)

// ScriptFault says where and why a connector method's script failed, for
// the people who write it: a script engine gives it as the cause of the
// *engine.Error it returns (errors.As finds it).
type ScriptFault struct {
	// Phase is PhaseCompile, PhaseRun or PhaseTimeout.
	Phase string `json:"phase"`
	// Name is the error's name ("SyntaxError", "TypeError", ...), or the
	// engine's code for an error the script did not make.
	Name    string `json:"name"`
	Message string `json:"message"`
	// Line and Column are where in the method body, as its author sees it
	// (1-based); 0 when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// Error implements error.
func (f *ScriptFault) Error() string {
	msg := f.Phase + ": " + f.Name + ": " + f.Message
	if f.Line > 0 {
		msg += fmt.Sprintf(" at line %d, column %d", f.Line, f.Column)
	}
	return msg
}

// Trial is one run of a connector method's script that changes nothing
// stored: the connector method editor's "run with these args".
type Trial struct {
	// MethodName is the method the script answers; Body is its source,
	// or "" to run the stored script of the method.
	MethodName, Body string
	// BankID is the bank the call is for; Args are the method's
	// arguments, in order.
	BankID string
	Args   []any
	// Call is the call it runs for: its principal is the script's caller.
	Call *engine.Call
}

// TrialResult is what a Trial came to: the method's result, or where
// and why its script failed.
type TrialResult struct {
	Result   *Result
	Fault    *ScriptFault
	Duration time.Duration
}

// Try compiles the trial's body as the script of its method and runs it
// once, in the same sandbox, with the same limits and deadline as the
// stored script of the method would run (the stored one's deadline and
// connector.call rights when there is one), and checks its result as a
// real call's is. Nothing is stored. An error means nothing ran: the
// method is unknown (400), or it has no stored script to run (404).
func (d *Dispatcher) Try(ctx context.Context, in Trial) (*TrialResult, error) {
	if in.MethodName == "" {
		return nil, fieldError("/method_name", "required", "method_name is required")
	}
	stored, ok := d.table.Load().scripts[in.MethodName]
	rec := MethodScript{MethodName: in.MethodName, MethodBody: in.Body}
	if ok {
		rec.TimeoutMS, rec.UnrestrictedConnectorCalls = stored.rec.TimeoutMS, stored.rec.UnrestrictedConnectorCalls
	}
	if in.Body == "" {
		if !ok {
			return nil, engine.NewError(http.StatusNotFound, engine.CodeNotFound,
				fmt.Sprintf("method %s has no stored connector method; send its method_body to run", in.MethodName),
				engine.Violation{Location: "body", Pointer: "/method_body", Code: "required", Message: "no stored script to run"})
		}
		rec.MethodBody = stored.rec.MethodBody
	}
	start := time.Now()
	entry, err := d.compile(&rec, true)
	if err != nil {
		if fault := (*ScriptFault)(nil); errors.As(err, &fault) && fault.Phase == PhaseCompile {
			return &TrialResult{Fault: fault, Duration: time.Since(start)}, nil
		}
		return nil, err
	}
	m, err := d.methodFor(rec.MethodName, true)
	if err != nil {
		return nil, err
	}
	req := &Request{Method: m, BankID: in.BankID, Args: in.Args, Call: in.Call, Default: d.defaults[m.Name]}
	res, err := checked{inv: entry.script, source: "connector method " + m.Name}.Invoke(ctx, req)
	out := &TrialResult{Result: res, Duration: time.Since(start)}
	if err != nil {
		out.Result, out.Fault = nil, faultOf(err)
	}
	return out, nil
}

// faultOf is the fault a failed run came to: the script engine's own, or
// one made of the error's code and message.
func faultOf(err error) *ScriptFault {
	if fault := (*ScriptFault)(nil); errors.As(err, &fault) {
		return fault
	}
	var e *engine.Error
	if !errors.As(err, &e) {
		e = engine.Internal(err)
	}
	phase := PhaseRun
	if e.Code == engine.CodeScriptTimeout {
		phase = PhaseTimeout
	}
	return &ScriptFault{Phase: phase, Name: e.Code, Message: e.Message}
}
