package portal

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

// limitPeriods are the periods of OBP's call limits, in their order.
var limitPeriods = []string{"second", "minute", "hour", "day", "week", "month"}

// limitField is one period's input of the call-limits form.
type limitField struct {
	Period, Name, Value string
	// Made and Reset are the calls counted in the period's current
	// window and the seconds until it resets (-1 without a limit).
	Made, Reset int64
	// Fault is what the API said of the value sent.
	Fault string
}

// callLimits is the call-limits form of a consumer or user.
type callLimits struct {
	// Action is the portal path the form posts to (and, with /default,
	// the path removing the limits).
	Action   string
	Default  bool
	Fields   []limitField
	From, To string
	// FromFault and ToFault are what the API said of the dates.
	FromFault, ToFault string
}

// callLimitsAnswer is the API's GET of a consumer's or user's limits,
// besides the limits themselves.
type callLimitsAnswer struct {
	IsDefault bool `json:"is_default"`
	State     map[string]struct {
		Made  int64 `json:"calls_made"`
		Reset int64 `json:"reset_in_seconds"`
	} `json:"current_state"`
}

// loadCallLimits is the form of the limits at api (a consumer's or user's
// call-limits route), posting to action; nil when the API refuses to show
// them (the user lacks CanReadCallLimits). When posted, the form shows
// what c's form sent, with fault's violations next to its fields.
func (p *portal) loadCallLimits(c *fiber.Ctx, s *session, api, action string, posted bool, fault *engine.Error) (*callLimits, error) {
	got := p.call(c, fiber.MethodGet, api, s.Token, "", nil)
	if !got.ok() {
		return nil, nil
	}
	var a callLimitsAnswer
	var limits map[string]json.RawMessage
	if err := got.decode(&a); err != nil {
		return nil, err
	}
	if err := got.decode(&limits); err != nil {
		return nil, err
	}
	cl := &callLimits{Action: action, Default: a.IsDefault, From: day(limits["from_date"]), To: day(limits["to_date"])}
	for _, period := range limitPeriods {
		f := limitField{Period: period, Name: "per_" + period + "_call_limit"}
		var v string
		_ = json.Unmarshal(limits[f.Name], &v)
		if v != "-1" {
			f.Value = v
		}
		st := a.State["per_"+period]
		f.Made, f.Reset = st.Made, st.Reset
		if posted {
			f.Value = strings.Clone(c.FormValue(f.Name))
		}
		f.Fault = faultAt(fault, "/"+f.Name)
		cl.Fields = append(cl.Fields, f)
	}
	if posted {
		cl.From, cl.To = strings.Clone(c.FormValue("from_date")), strings.Clone(c.FormValue("to_date"))
	}
	cl.FromFault, cl.ToFault = faultAt(fault, "/from_date"), faultAt(fault, "/to_date")
	return cl, nil
}

// faultAt is the message of fault's violation at pointer, or "".
func faultAt(fault *engine.Error, pointer string) string {
	if fault == nil {
		return ""
	}
	for _, v := range fault.Violations {
		if v.Pointer == pointer {
			return v.Message
		}
	}
	return ""
}

// day is the date (YYYY-MM-DD) of an RFC 3339 date-time in JSON, or "".
func day(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || len(s) < len("2006-01-02") {
		return ""
	}
	return s[:len("2006-01-02")]
}

// dateOnly is a date input's value.
var dateOnly = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// limitsBody is the call-limits form of c in OBP's JSON: an empty period
// left out (unlimited), a date as the start of its day in UTC; anything
// else is sent as typed, for the API to judge.
func limitsBody(c *fiber.Ctx) map[string]string {
	body := map[string]string{}
	for _, period := range limitPeriods {
		name := "per_" + period + "_call_limit"
		if v := strings.TrimSpace(c.FormValue(name)); v != "" {
			body[name] = strings.Clone(v)
		}
	}
	for _, name := range []string{"from_date", "to_date"} {
		v := strings.TrimSpace(c.FormValue(name))
		if dateOnly.MatchString(v) {
			v += "T00:00:00Z"
		}
		if v != "" {
			body[name] = strings.Clone(v)
		}
	}
	return body
}

// limitsPage shows a consumer's or user's page: after a refused form with
// status and fault, and when posted with the limits sent.
type limitsPage func(c *fiber.Ctx, s *session, status int, posted bool, fault *engine.Error) error

// limitsRoutes mounts the forms setting (Save: PUT) and removing (Use the
// default: DELETE) the call limits of the consumer or user at base/:id,
// whose API path is api's and whose page is page.
func (p *portal) limitsRoutes(post func(string, fiber.Handler), base string, api func(c *fiber.Ctx) string, page limitsPage) {
	post(base+"/:id/call-limits", p.signedIn(p.limitsChange(fiber.MethodPut, base, api, page)))
	post(base+"/:id/call-limits/default", p.signedIn(p.limitsChange(fiber.MethodDelete, base, api, page)))
}

// limitsChange sets (PUT) or removes (DELETE) the limits of the consumer
// or user c names; a refusal is shown on its page with the API's error.
func (p *portal) limitsChange(method, base string, api func(c *fiber.Ctx) string, page limitsPage) func(c *fiber.Ctx, s *session) error {
	return func(c *fiber.Ctx, s *session) error {
		var got *answer
		if method == fiber.MethodPut {
			got = p.callJSON(c, method, api(c)+"/call-limits", s.Token, limitsBody(c))
		} else {
			got = p.call(c, method, api(c)+"/call-limits", s.Token, "", nil)
		}
		if !got.ok() {
			return page(c, s, got.Status, method == fiber.MethodPut, got.problem())
		}
		return redirect(c, base+"/"+url.PathEscape(c.Params("id")))
	}
}
