package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/dynapi/dynapi/internal/textcut"
	"github.com/dynapi/dynapi/specs"
)

// resource answers one operation a profile binds to create, get or delete:
// the engine's own consent resource, written in the standard's shapes.
type resource struct {
	svc        *Service
	profile    *Profile
	bind       Binding
	op         *specs.Operation
	endpointID string
	bankID     string
}

// Invoke answers the call, or refuses it: the route renders the refusal
// in the standard's shape (Profile.RenderError).
func (r *resource) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	if call.Principal == nil || call.Principal.ConsumerID == "" {
		return nil, engine.NewError(http.StatusForbidden, CodeConsentMissingTPP,
			"consents are created and read by a TPP: the caller acts through no consumer")
	}
	who := audit.Actor{UserID: call.Principal.UserID, ConsumerID: call.Principal.ConsumerID, CorrelationID: call.CorrelationID}
	if r.bind.Action == ActionCreate {
		return r.create(ctx, call, who)
	}
	c, err := r.owned(ctx, call)
	if err != nil {
		return nil, err
	}
	if r.bind.Action == ActionDelete {
		if err := r.svc.Delete(ctx, c.ID, c.Revision, who); err != nil {
			return nil, err
		}
		return &engine.Reply{Status: http.StatusNoContent}, nil
	}
	return r.reply(http.StatusOK, c, selfURL(call, ""))
}

// owned is the consent the call's path names, when it is the caller's: an
// unknown or deleted one is a 400 (as the UK standard answers unknown ids),
// another TPP's a 403.
func (r *resource) owned(ctx context.Context, call *engine.Call) (*Consent, error) {
	id := pathValue(r.op, call, r.bind.IDParam)
	c, err := r.svc.Get(ctx, id)
	switch {
	case notFound(err):
		return nil, r.unknown(id)
	case err != nil:
		return nil, err
	case !c.Visible() || c.Kind != r.profile.Kind || c.BankID != r.bankID:
		return nil, r.unknown(id)
	case c.ConsumerID != call.Principal.ConsumerID:
		return nil, engine.NewError(http.StatusForbidden, CodeConsentNotYours, "consent "+id+" belongs to another TPP")
	}
	return c, nil
}

// unknown is the 400 of a consent id the caller may not see.
func (r *resource) unknown(id string) error {
	return engine.NewError(http.StatusBadRequest, CodeConsentUnknown, "no consent "+id+" here",
		engine.Violation{Location: "path", Pointer: "/" + r.bind.IDParam, Code: "resource_not_found", Message: "no consent " + id})
}

// create checks the request against the profile's rules and stores the
// consent, awaiting authorisation.
func (r *resource) create(ctx context.Context, call *engine.Call, who audit.Actor) (*engine.Reply, error) {
	body, _ := call.Body.(map[string]any)
	data, _ := body["Data"].(map[string]any)
	c := &Consent{Kind: r.profile.Kind, ProfileID: r.profile.ID, EndpointID: r.endpointID, BankID: r.bankID,
		ConsumerID: who.ConsumerID}
	perms, _ := data["Permissions"].([]any)
	for _, p := range perms {
		if s, ok := p.(string); ok && !slices.Contains(c.Permissions, s) {
			c.Permissions = append(c.Permissions, s)
		}
	}
	var faults []engine.Violation
	for _, rule := range r.profile.Rules {
		if rule.appliesTo(c.Permissions) && !holdsAny(c.Permissions, rule.RequireAny) {
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/Data/Permissions", Code: "rule_" + rule.Name,
				Message: "rule " + rule.Name + ": " + rule.Message})
		}
	}
	now := r.svc.now()
	var err error
	times := []struct {
		field string
		into  **time.Time
	}{{"ExpirationDateTime", &c.ExpiresAt}, {"TransactionFromDateTime", &c.TransactionFrom}, {"TransactionToDateTime", &c.TransactionTo}}
	for _, t := range times {
		if *t.into, err = dateTime(data, t.field); err != nil {
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/Data/" + t.field, Code: "date", Message: err.Error()})
		}
	}
	if c.ExpiresAt != nil && !c.ExpiresAt.After(now) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/Data/ExpirationDateTime", Code: "date",
			Message: "ExpirationDateTime must be in the future"})
	}
	if c.TransactionFrom != nil && c.TransactionTo != nil && c.TransactionFrom.After(*c.TransactionTo) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/Data/TransactionToDateTime", Code: "invalid",
			Message: "TransactionToDateTime is before TransactionFromDateTime"})
	}
	if r.profile.Kind == KindDomesticVRP {
		faults = append(faults, controlFaults(data)...)
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, CodeConsentRule, "the consent request breaks the rules of "+r.profile.ID, faults...)
	}
	if c.Request, err = json.Marshal(call.Body); err != nil {
		return nil, engine.Internal(err)
	}
	c.ID = NewID()
	c.Resource = &events.Resource{ID: c.ID, Type: c.Kind + "-consent", Path: selfPath(call, c.ID), Version: r.profile.Version}
	if err := r.svc.Create(ctx, c, who); err != nil {
		return nil, err
	}
	return r.reply(http.StatusCreated, c, selfURL(call, c.ID))
}

// reply renders c as the standard's consent response (UK
// OBReadConsentResponse1): Data, the Risk as requested, Links and Meta.
func (r *resource) reply(status int, c *Consent, self string) (*engine.Reply, error) {
	var req struct {
		Risk json.RawMessage `json:"Risk"`
	}
	if err := json.Unmarshal(c.Request, &req); err != nil {
		return nil, engine.Internal(fmt.Errorf("consent %s: its request: %w", c.ID, err))
	}
	if req.Risk == nil {
		req.Risk = json.RawMessage(`{}`)
	}
	if r.profile.Echo != nil {
		return r.echo(status, c, self)
	}
	data := consentData{ConsentID: c.ID, Status: r.profile.renderedStatus(c), StatusUpdateDateTime: stamp(c.StatusAt),
		CreationDateTime: stamp(c.CreatedAt), Permissions: c.Permissions, ExpirationDateTime: stampOf(c.ExpiresAt),
		TransactionFromDateTime: stampOf(c.TransactionFrom), TransactionToDateTime: stampOf(c.TransactionTo)}
	data.StatusReason = r.profile.reasons(c)
	body, err := json.Marshal(consentResponse{Data: data, Risk: req.Risk, Links: links{Self: self}, Meta: struct{}{}})
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json; charset=utf-8", Body: body}, nil
}

// reasons are c's status reasons in the profile's codes (UK
// OBStatusReason), nil when it has none the profile names.
func (p *Profile) reasons(c *Consent) []statusReason {
	var out []statusReason
	for _, reason := range c.Reasons {
		if code := p.ReasonCodes[reason.Code]; code != "" {
			out = append(out, statusReason{Code: code, Description: textcut.Bytes(reason.Description, 500), Path: reason.Path})
		}
	}
	return out
}

// consentResponse is the UK consent response, members in the standard's
// order.
type consentResponse struct {
	Data  consentData     `json:"Data"`
	Risk  json.RawMessage `json:"Risk"`
	Links links           `json:"Links"`
	Meta  struct{}        `json:"Meta"`
}

type consentData struct {
	ConsentID               string         `json:"ConsentId"`
	Status                  string         `json:"Status"`
	StatusUpdateDateTime    string         `json:"StatusUpdateDateTime"`
	CreationDateTime        string         `json:"CreationDateTime"`
	Permissions             []string       `json:"Permissions"`
	ExpirationDateTime      string         `json:"ExpirationDateTime,omitempty"`
	TransactionFromDateTime string         `json:"TransactionFromDateTime,omitempty"`
	TransactionToDateTime   string         `json:"TransactionToDateTime,omitempty"`
	StatusReason            []statusReason `json:"StatusReason,omitempty"`
}

// statusReason is one UK OBStatusReason.
type statusReason struct {
	Code        string `json:"StatusReasonCode"`
	Description string `json:"StatusReasonDescription,omitempty"`
	Path        string `json:"Path,omitempty"`
}

type links struct {
	Self string `json:"Self"`
}

// appliesTo tells whether rule r applies to a consent with perms.
func (r Rule) appliesTo(perms []string) bool { return len(r.IfAny) == 0 || holdsAny(perms, r.IfAny) }

// holdsAny tells whether perms hold one of want.
func holdsAny(perms, want []string) bool {
	return slices.ContainsFunc(want, func(p string) bool { return slices.Contains(perms, p) })
}

// dateTime reads data[field], an RFC 3339 date-time, nil when absent.
func dateTime(data map[string]any, field string) (*time.Time, error) {
	s, ok := data[field].(string)
	if !ok {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%s is not an ISO 8601 date-time with a time zone: %q", field, s)
	}
	t = t.UTC()
	return &t, nil
}

// stamp writes t as the standard's date-times: UTC, to the second, with
// the zone.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func stampOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// pathValue is the value of the operation's path parameter name in call.
func pathValue(op *specs.Operation, call *engine.Call, name string) string {
	for _, p := range op.Params {
		if p.In == "path" && p.Name == name && call.Path != nil && p.PathIndex < call.Path.Len() {
			return call.Path.Value(p.PathIndex)
		}
	}
	return ""
}

// selfURL is the absolute URL of the consent the call answers: the
// request's own, with "/"+id appended when id is given (a creation).
func selfURL(call *engine.Call, id string) string { return baseURL(call) + selfPath(call, id) }

// selfPath is the path of selfURL.
func selfPath(call *engine.Call, id string) string {
	path := "/"
	if h := call.HTTP; h != nil {
		path = h.Path()
	}
	if id != "" {
		path = strings.TrimSuffix(path, "/") + "/" + id
	}
	return path
}

// BaseURL is the scheme and host the call was made to, which the
// standards' links name resources under.
func BaseURL(call *engine.Call) string { return baseURL(call) }

// baseURL is the scheme and host the call was made to.
func baseURL(call *engine.Call) string {
	scheme, host := "http", "localhost"
	if h := call.HTTP; h != nil {
		if p, ok := h.Header("X-Forwarded-Proto"); ok && p == "https" {
			scheme = p
		}
		if v, ok := h.Header("Host"); ok && v != "" && !strings.ContainsAny(v, "/ \\\"<>") {
			host = v
		}
	}
	return scheme + "://" + host
}

// RenderError implements engine.ErrorRenderer: e in the standard's error
// shape (Berlin Group's tppMessages for its renderer, else UK
// OBErrorResponse1); for the UK, dynapi's code as Code, the correlation id as
// Id, and one error per violation with the standard's error code and the
// field's path (Data.Permissions, or the header's name).
func (p *Profile) RenderError(e *engine.Error, correlationID string) *engine.Reply {
	if p.Renderer == RendererBerlinGroup {
		return renderBerlinError(e)
	}
	type obError struct {
		ErrorCode string `json:"ErrorCode"`
		Message   string `json:"Message"`
		Path      string `json:"Path,omitempty"`
	}
	out := struct {
		Code    string    `json:"Code"`
		ID      string    `json:"Id,omitempty"`
		Message string    `json:"Message"`
		Errors  []obError `json:"Errors"`
	}{Code: textcut.Bytes(e.Code, 40), ID: textcut.Bytes(correlationID, 40), Message: textcut.Bytes(e.Message, 500)}
	for _, v := range e.Violations {
		out.Errors = append(out.Errors, obError{ErrorCode: p.errorCode(e, v), Message: textcut.Bytes(v.Message, 500), Path: fieldPath(v.Pointer)})
	}
	if len(out.Errors) == 0 {
		out.Errors = []obError{{ErrorCode: p.errorCode(e, engine.Violation{}), Message: textcut.Bytes(e.Message, 500)}}
	}
	body, _ := json.Marshal(out) // strings only: cannot fail
	return &engine.Reply{Status: e.Status, ContentType: "application/json; charset=utf-8", Body: body}
}

// errorCode is the standard's error code for violation v of e.
func (p *Profile) errorCode(e *engine.Error, v engine.Violation) string {
	kind, code := "unexpected", v.Code
	switch {
	case e.Code == CodeLimitBreached && p.ErrorCodes[limitBreached] != "":
		kind = limitBreached
	case checkKinds[e.Code] != "":
		kind = checkKinds[e.Code]
	case v.Location == "header" && code == "required":
		kind = "header_missing"
	case v.Location == "header":
		kind = "header_invalid"
	case code == "required":
		kind = "field_missing"
	case code == "date":
		kind = "field_invalid_date"
	case strings.HasPrefix(code, "rule_"):
		kind = "field_expected"
	case code == "resource_not_found" || e.Code == CodeConsentUnknown:
		kind = "resource_not_found"
	case e.Status == http.StatusBadRequest:
		kind = "field_invalid"
	}
	return p.ErrorCodes[kind]
}

// limitBreached is the error kind of a payment breaking a control of its
// consent (CodeLimitBreached), which only profiles of consents with
// controls name (UK VRP: U014); the others answer it as field_invalid.
const limitBreached = "limit_breached"

// fieldPath writes a JSON pointer as the standard's field path:
// /Data/Permissions/0 as Data.Permissions[0].
func fieldPath(pointer string) string {
	var b strings.Builder
	for _, seg := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if seg == "" {
			continue
		}
		seg = jsonptr.Unescape(seg)
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return textcut.Bytes(b.String(), 500)
}
