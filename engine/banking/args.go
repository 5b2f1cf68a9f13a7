package banking

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// Arg returns positional argument i of a connector method call as a T.
// Built-in routes pass Go values, which are used as they are; scripts and
// back ends pass decoded JSON, which is converted through JSON. A missing
// argument is T's zero value.
func Arg[T any](args []any, i int) (T, error) {
	var out T
	if i >= len(args) || args[i] == nil {
		return out, nil
	}
	switch v := args[i].(type) {
	case T:
		return v, nil
	case *T:
		if v != nil {
			return *v, nil
		}
		return out, nil
	}
	data, err := json.Marshal(args[i])
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	if err != nil {
		return out, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest,
			"argument %d is not a %T: %v", i, out, err)
	}
	return out, nil
}

// As converts a connector method's inbound data to T: Go values from the
// mapped connector are used as they are, decoded JSON from scripts and back
// ends goes through JSON. Data that does not fit is a 502, since it came
// from a connector, not from the client.
func As[T any](data any) (T, error) {
	var out T
	var raw []byte
	var err error
	switch v := data.(type) {
	case T:
		return v, nil
	case *T:
		if v != nil {
			return *v, nil
		}
	case json.RawMessage:
		raw = v // JSON text already: decoded once, not re-encoded first
	}
	if raw == nil {
		raw, err = json.Marshal(data)
	}
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	if err != nil {
		return out, engine.Errorf(http.StatusBadGateway, engine.CodeInvalidResult,
			"the connector's data is not a %s: %v", typeName[T](), err)
	}
	return out, nil
}

func typeName[T any]() string {
	var zero T
	return fmt.Sprintf("%T", zero)
}
