package connector

import (
	"bytes"
	"encoding/json"

	"github.com/dynapi/dynapi/engine"
)

// KeyValue is one entry of OBP's generalContext and userAuthContext lists.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// OutboundCallContext is OBP's outboundAdapterCallContext: who calls, in
// which request.
type OutboundCallContext struct {
	CorrelationID  string     `json:"correlationId"`
	SessionID      string     `json:"sessionId,omitempty"`
	ConsumerID     string     `json:"consumerId,omitempty"`
	GeneralContext []KeyValue `json:"generalContext"`
	// AuthInfo is nested in the call context, as OBP's adapters expect.
	AuthInfo *OutboundAuthInfo `json:"outboundAdapterAuthInfo,omitempty"`
	// ConsenterInfo is the customer who granted the consent the call is
	// made under (OBP's outboundAdapterConsenterInfo), and Consent that
	// consent; both absent for calls under none.
	ConsenterInfo *OutboundAuthInfo    `json:"outboundAdapterConsenterInfo,omitempty"`
	Consent       *engine.ConsentGrant `json:"consent,omitempty"`
}

// OutboundAuthInfo is OBP's outboundAdapterAuthInfo: the user the call is
// made for.
type OutboundAuthInfo struct {
	UserID          string     `json:"userId,omitempty"`
	Username        string     `json:"username,omitempty"`
	UserAuthContext []KeyValue `json:"userAuthContext"`
}

// InboundCallContext is OBP's inboundAdapterCallContext.
type InboundCallContext struct {
	CorrelationID  string     `json:"correlationId"`
	SessionID      string     `json:"sessionId,omitempty"`
	GeneralContext []KeyValue `json:"generalContext"`
}

// Status is an inbound message's status: an empty ErrorCode is success.
type Status struct {
	ErrorCode       string           `json:"errorCode"`
	BackendMessages []BackendMessage `json:"backendMessages"`
}

// BackendMessage is one message a back end reports with its status.
type BackendMessage struct {
	Source    string `json:"source"`
	Status    string `json:"status"`
	ErrorCode string `json:"errorCode"`
	Text      string `json:"text"`
}

// Inbound is a back end's answer in OBP's shape.
type Inbound struct {
	CallContext InboundCallContext `json:"inboundAdapterCallContext"`
	Status      Status             `json:"status"`
	Data        json.RawMessage    `json:"data"`
}

// CallContextOf is the outbound call context of a call: its correlation id,
// consumer and user, and the consent it is made under.
func CallContextOf(call *engine.Call) OutboundCallContext {
	cc := OutboundCallContext{GeneralContext: []KeyValue{}}
	if call == nil {
		return cc
	}
	cc.CorrelationID = call.CorrelationID
	if p := call.Principal; p != nil {
		cc.ConsumerID = p.ConsumerID
		if p.UserID != "" {
			cc.AuthInfo = &OutboundAuthInfo{UserID: p.UserID, Username: p.Username, UserAuthContext: []KeyValue{}}
		}
	}
	if g := call.Consent; g != nil {
		cc.ConsenterInfo = &OutboundAuthInfo{UserID: g.UserID, UserAuthContext: []KeyValue{}}
		cc.Consent = g
	}
	return cc
}

// Outbound encodes a call's outbound message: the call context, then the
// method's named fields in order ({"outboundAdapterCallContext": {...},
// "bankId": "...", ...}).
func Outbound(req *Request) ([]byte, error) {
	return outbound(CallContextOf(req.Call), req.Method, req.Args)
}

func outbound(cc OutboundCallContext, m *Method, args []any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"outboundAdapterCallContext":`)
	head, err := json.Marshal(cc)
	if err != nil {
		return nil, err
	}
	buf.Write(head)
	for i, a := range m.Args {
		var v any
		if i < len(args) {
			v = args[i]
		}
		name, _ := json.Marshal(a.Name)
		val, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		buf.WriteByte(',')
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(val)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
