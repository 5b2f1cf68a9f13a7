package connector

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// Doc is one method's message doc, in the Open Bank Project's shape: the
// outbound message a connector receives and the inbound message it
// answers, each with a JSON Schema and an example.
type Doc struct {
	Process                string          `json:"process"`
	MethodName             string          `json:"method_name"`
	MessageFormat          string          `json:"message_format"`
	Description            string          `json:"description"`
	OutboundSchema         map[string]any  `json:"outbound_schema"`
	InboundSchema          map[string]any  `json:"inbound_schema"`
	ExampleOutboundMessage json.RawMessage `json:"example_outbound_message"`
	ExampleInboundMessage  json.RawMessage `json:"example_inbound_message"`
	DependentEndpoints     []EndpointRef   `json:"dependent_endpoints"`
	// DefaultConnector answers the method when no routing or script does.
	DefaultConnector string `json:"default_connector"`
	Idempotent       bool   `json:"idempotent"`
	Dynamic          bool   `json:"dynamic"`
	// ConnectorMethodID names the JavaScript connector method that answers
	// the method by default, when there is one.
	ConnectorMethodID string `json:"connector_method_id,omitempty"`
}

// MessageFormat names the shape of dynapi's messages.
const MessageFormat = "dynapi_v1"

var keyValueSchema = map[string]any{"type": "array", "items": map[string]any{"type": "object",
	"properties": map[string]any{"key": map[string]any{"type": "string"}, "value": map[string]any{"type": "string"}}}}

var outboundContextSchema = map[string]any{"type": "object", "required": []any{"correlationId", "generalContext"},
	"properties": map[string]any{
		"correlationId":           map[string]any{"type": "string"},
		"sessionId":               map[string]any{"type": "string"},
		"consumerId":              map[string]any{"type": "string"},
		"generalContext":          keyValueSchema,
		"outboundAdapterAuthInfo": authInfoSchema,
		"outboundAdapterConsenterInfo": withDescription(authInfoSchema,
			"the customer who granted the consent the call is made under; absent for calls under none"),
		"consent": consentSchema,
	}}

var authInfoSchema = map[string]any{"type": "object", "properties": map[string]any{
	"userId": map[string]any{"type": "string"}, "username": map[string]any{"type": "string"},
	"userAuthContext": keyValueSchema}}

// consentSchema is the consent a call is made under (engine.ConsentGrant).
var consentSchema = map[string]any{"type": "object",
	"description": "the consent the call is made under, as the consent check found it valid; absent for calls under none",
	"required":    []any{"id", "type", "status", "psu_user_id", "client_id", "permissions", "accounts"},
	"properties": map[string]any{
		"id": map[string]any{"type": "string"}, "standard": map[string]any{"type": "string"}, "version": map[string]any{"type": "string"},
		"type": map[string]any{"type": "string"}, "status": map[string]any{"type": "string"},
		"psu_user_id": map[string]any{"type": "string"}, "client_id": map[string]any{"type": "string"},
		"permissions": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"accounts":    map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"expires_at":  map[string]any{"type": "string", "format": "date-time"}, "transaction_from": map[string]any{"type": "string", "format": "date-time"},
		"transaction_to": map[string]any{"type": "string", "format": "date-time"},
	}}

var statusSchema = map[string]any{"type": "object", "required": []any{"errorCode", "backendMessages"},
	"properties": map[string]any{
		"errorCode": map[string]any{"type": "string", "description": "empty on success"},
		"backendMessages": map[string]any{"type": "array", "items": map[string]any{"type": "object",
			"properties": map[string]any{"source": map[string]any{"type": "string"}, "status": map[string]any{"type": "string"},
				"errorCode": map[string]any{"type": "string"}, "text": map[string]any{"type": "string"}}}},
	}}

var inboundContextSchema = map[string]any{"type": "object", "required": []any{"correlationId"},
	"properties": map[string]any{"correlationId": map[string]any{"type": "string"},
		"sessionId": map[string]any{"type": "string"}, "generalContext": keyValueSchema}}

// exampleCall is the call context shown in examples: a call a TPP makes
// under a consent its customer granted.
var exampleCall = OutboundCallContext{CorrelationID: "1flssoftxq0cr1nssr68u0mioj", ConsumerID: "7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh",
	GeneralContext: []KeyValue{}, AuthInfo: &OutboundAuthInfo{UserID: "9ca9a7e4-6d02-40e3-a129-0b2bf89de9b1",
		Username: "felixsmith", UserAuthContext: []KeyValue{}},
	ConsenterInfo: &OutboundAuthInfo{UserID: "9ca9a7e4-6d02-40e3-a129-0b2bf89de9b1", UserAuthContext: []KeyValue{}},
	Consent: &engine.ConsentGrant{ID: "5f9b6a1e-3c1d-4f0e-9d6b-2a7c8e4b1f30", Standard: "uk-ob", Version: "4.0", Kind: "account-access",
		Status: "authorised", UserID: "9ca9a7e4-6d02-40e3-a129-0b2bf89de9b1", ConsumerID: "7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh",
		Permissions: []string{"ReadAccountsDetail", "ReadBalances"}, Accounts: []string{"8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"},
		ExpiresAt: &exampleExpiry}}

var exampleExpiry = time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)

// DocOf is the message doc of m.
func DocOf(m *Method) Doc {
	props := map[string]any{"outboundAdapterCallContext": outboundContextSchema}
	required := []any{"outboundAdapterCallContext"}
	examples := make([]any, len(m.Args))
	for i, a := range m.Args {
		schema := a.Schema
		if schema == nil {
			schema = map[string]any{}
		}
		if a.Description != "" {
			schema = withDescription(schema, a.Description)
		}
		props[a.Name] = schema
		required = append(required, a.Name)
		examples[i] = a.Example
	}
	data := m.Data
	if data == nil {
		data = map[string]any{}
	}
	out, _ := outbound(exampleCall, m, examples)
	in, _ := json.Marshal(map[string]any{
		"inboundAdapterCallContext": InboundCallContext{CorrelationID: exampleCall.CorrelationID, GeneralContext: []KeyValue{}},
		"status":                    Status{BackendMessages: []BackendMessage{}},
		"data":                      m.DataExample,
	})
	def := Mapped
	if m.Dynamic {
		def = "document host"
	}
	return Doc{
		Process: "obp." + m.Name, MethodName: m.Name, MessageFormat: MessageFormat, Description: m.Description,
		OutboundSchema: map[string]any{"type": "object", "properties": props, "required": required},
		InboundSchema: map[string]any{"type": "object", "required": []any{"inboundAdapterCallContext", "status", "data"},
			"properties": map[string]any{"inboundAdapterCallContext": inboundContextSchema, "status": statusSchema, "data": data}},
		ExampleOutboundMessage: out, ExampleInboundMessage: in,
		DependentEndpoints: nonNilRefs(m.Endpoints), DefaultConnector: def, Idempotent: m.Idempotent, Dynamic: m.Dynamic,
	}
}

// Docs are the message docs of the built-in methods and of dynamic, sorted
// by method name; each names the script that answers it, if any.
func (d *Dispatcher) Docs(dynamic []*Method) []Doc {
	t := d.table.Load()
	var docs []Doc
	for _, m := range slices.Concat(d.Methods(), dynamic) {
		doc := DocOf(m)
		if s, ok := t.scripts[m.Name]; ok {
			doc.ConnectorMethodID = s.rec.ID
		}
		docs = append(docs, doc)
	}
	slices.SortStableFunc(docs, func(a, b Doc) int { return strings.Compare(a.MethodName, b.MethodName) })
	return docs
}

func withDescription(schema map[string]any, description string) map[string]any {
	out := maps.Clone(schema)
	out["description"] = description
	return out
}

func nonNilRefs(r []EndpointRef) []EndpointRef {
	if r == nil {
		return []EndpointRef{}
	}
	return r
}
