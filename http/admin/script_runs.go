package admin

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// scriptRun is the body of runScript: the method, the source to run (""
// runs the stored one), its arguments and the bank the call is for.
type scriptRun struct {
	MethodName string `json:"method_name"`
	MethodBody string `json:"method_body"`
	// Args are the method's arguments: an array, one each in order;
	// any other value, the one argument; absent, none.
	Args   any    `json:"args"`
	BankID string `json:"bank_id"`
}

// scriptRunAnswer is what runScript answers: the method's result, or
// where and why its script failed.
type scriptRunAnswer struct {
	Outcome    string                 `json:"outcome"` // "ok" or "error"
	Result     json.RawMessage        `json:"result,omitempty"`
	Error      *connector.ScriptFault `json:"error,omitempty"`
	DurationMS int64                  `json:"duration_ms"`
}

// runScript runs a connector method's script once, as the caller, for
// the connector method editor, storing nothing: 200 with the result or
// the script's fault (compile, run or timeout, at its line and column in
// the submitted body). The run is audited without its arguments.
func (a *API) runScript(c *fiber.Ctx) error {
	in := decoded[scriptRun](c)
	bank := strings.Clone(in.BankID)
	who := actor(c)
	trial := connector.Trial{MethodName: in.MethodName, Body: in.MethodBody, BankID: bank, Args: argsOf(in.Args),
		Call: &engine.Call{BankID: bank, CorrelationID: who.CorrelationID, Principal: principal(c)}}
	run, err := a.Methods.Try(c.UserContext(), trial)
	if err != nil {
		return err
	}
	out := scriptRunAnswer{Outcome: "ok", DurationMS: run.Duration.Milliseconds()}
	details := map[string]any{"outcome": out.Outcome}
	if run.Fault != nil {
		out.Outcome, out.Error = "error", run.Fault
		details["outcome"], details["phase"] = out.Outcome, run.Fault.Phase
	} else if out.Result, err = resultJSON(run.Result); err != nil {
		return err
	}
	if err := a.Access.Audit.Record(c.UserContext(), who, "connector_method.run", in.MethodName, bank, details); err != nil {
		return err
	}
	return c.JSON(out)
}

// argsOf are the arguments a run's args give the method.
func argsOf(v any) []any {
	switch args := v.(type) {
	case nil:
		return nil
	case []any:
		return args
	}
	return []any{v}
}

// resultJSON is a method's result as JSON text: null when it gave none.
func resultJSON(res *connector.Result) (json.RawMessage, error) {
	if res != nil && res.JSON != nil {
		return res.JSON, nil
	}
	var v any
	if res != nil {
		var err error
		if v, err = res.Value(); err != nil {
			return nil, err
		}
	}
	text, err := json.Marshal(v)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return text, nil
}
