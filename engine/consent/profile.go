package consent

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/specs"
)

// What an operation does to a consent (Binding.Action).
const (
	// ActionCreate: the TPP creates a consent; the engine answers.
	ActionCreate = "create"
	// ActionGet: the TPP reads its consent; the engine answers.
	ActionGet = "get"
	// ActionDelete: the TPP deletes its consent; the engine answers.
	ActionDelete = "delete"
	// ActionUse: a call made under a consent, answered by the document's
	// host; the consent must grant one of AnyOf.
	ActionUse = "use"
	// ActionStatus: the TPP reads its consent's status alone (Berlin
	// Group); the engine answers.
	ActionStatus = "status"
	// ActionStartAuthorisation, ActionListAuthorisations,
	// ActionGetAuthorisation and ActionUpdateAuthorisation: the TPP starts,
	// lists, reads and advances the authorisations of its consent (Berlin
	// Group's authorisation sub-resources); the engine answers.
	ActionStartAuthorisation  = "start_authorisation"
	ActionListAuthorisations  = "list_authorisations"
	ActionGetAuthorisation    = "get_authorisation"
	ActionUpdateAuthorisation = "update_authorisation"
	// ActionFunds: a funds confirmation made under a consent (UK PIS,
	// CBPII, VRP): the engine answers from the consent's account's balance.
	ActionFunds = "funds"
	// ActionPay: a payment made under a consent (UK PIS, VRP): the engine
	// checks it against the consent and pays through the banking core.
	ActionPay = "pay"
	// ActionPayment: the TPP reads a payment it made; the engine answers.
	ActionPayment = "payment"
	// ActionPaymentDetails: the TPP reads the status of the transfers of
	// a payment it made (UK payment-details); the engine answers.
	ActionPaymentDetails = "payment-details"
)

// The shapes a profile's answers and errors are written in
// (Profile.Renderer).
const (
	// RendererUKOB: UK Open Banking (Data/Links/Meta, OBErrorResponse1).
	RendererUKOB = "uk-ob"
	// RendererBerlinGroup: Berlin Group NextGenPSD2 (_links, tppMessages).
	RendererBerlinGroup = "berlin-group"
)

// Profile binds the operations of documents of one standard to consents.
// It is data: see the built-in profiles (profiles/*.json).
type Profile struct {
	ID          string `json:"profile_id"`
	Description string `json:"description,omitempty"`
	// Extends names a profile whose fields this one inherits: each field
	// given here replaces the inherited one whole.
	Extends  string `json:"extends,omitempty"`
	Standard string `json:"standard"` // "uk-ob"
	Version  string `json:"version"`
	Kind     string `json:"kind"` // what its consents grant: "account-access"
	// Renderer is the shape of its answers and errors: RendererUKOB (when
	// "") or RendererBerlinGroup.
	Renderer string `json:"renderer,omitempty"`
	Match    Match  `json:"match"`
	// Permissions are every permission the standard knows.
	Permissions []string `json:"permissions"`
	// Descriptions say what each permission lets the TPP see, in plain
	// language, for the customer (ReadAccountsBasic: "Your account names,
	// numbers and currencies"); every permission has one.
	Descriptions map[string]string `json:"descriptions"`
	// Statuses is the standard's word for each canonical status; a status
	// without one is shown as the last one before it that has one.
	Statuses map[Status]string `json:"statuses"`
	// ErrorCodes is the standard's error code for each kind of fault
	// (errorKinds).
	ErrorCodes map[string]string `json:"error_codes"`
	// QueryDateTimes is the form the standard's date-time query parameters
	// come in (DateTimesUTCWallClock); they are normalised to RFC 3339
	// before they are validated and reach a connector. "" leaves them to
	// the document's schema.
	QueryDateTimes string `json:"query_date_times,omitempty"`
	// ReasonCodes is the standard's status reason code for each canonical
	// reason (revoked_by_bank, ...); a standard without status reasons
	// (UK v3.1.7) names none, and reasons are not shown.
	ReasonCodes map[string]string `json:"reason_codes,omitempty"`
	// InteractionHeader names the header that carries a request's
	// interaction id, which every answer of the document's operations
	// plays back (a new UUID when the request has none); "" for none.
	InteractionHeader string `json:"interaction_header,omitempty"`
	// Rules are what a consent's permissions must keep, checked at
	// creation.
	Rules []Rule `json:"rules,omitempty"`
	// Operations binds operations, by operationId, to what they do.
	Operations map[string]Binding `json:"operations"`
	// Echo is what a consent response plays back from the request as
	// posted, for consents other than account access; nil renders the
	// account-access consent (Permissions and the transaction window).
	Echo *Echo `json:"echo,omitempty"`
}

// Echo names the members of the request's Data a consent response plays
// back as posted (Initiation, DebtorAccount, ControlParameters, ...), and
// whether it plays back Risk.
type Echo struct {
	Data []string `json:"data"`
	Risk bool     `json:"risk,omitempty"`
}

// Match says which documents a profile fits: those holding every one of
// OperationIDs whose info.version starts with InfoVersion.
type Match struct {
	OperationIDs []string `json:"operation_ids"`
	InfoVersion  string   `json:"info_version"`
}

// Rule is a rule on a consent's permissions: when it holds any of IfAny
// (or always, when IfAny is empty), it must hold one of RequireAny.
type Rule struct {
	Name       string   `json:"name"`
	IfAny      []string `json:"if_any,omitempty"`
	RequireAny []string `json:"require_any"`
	Message    string   `json:"message"`
}

// Binding is what one operation does to a consent.
type Binding struct {
	Action string `json:"action"`
	// IDParam is the path parameter naming the consent (every action but
	// create, use, funds and pay), or the payment (payment,
	// payment-details).
	IDParam string `json:"id_param,omitempty"`
	// AuthorisationParam is the path parameter naming one authorisation
	// of the consent (get_authorisation, update_authorisation).
	AuthorisationParam string `json:"authorisation_param,omitempty"`
	// AnyOf are the permissions, one of which a call (use) needs.
	AnyOf []string `json:"any_of,omitempty"`
	// AccountParam is the path parameter naming the account a call (use)
	// reads, when it reads one.
	AccountParam string `json:"account_param,omitempty"`
	// Items points (JSON pointer, object members only) to the list an
	// answer holds items of several accounts in, when it does (use);
	// AccountField is the member of each item that names its account.
	// Answers keep only the items of the consent's accounts.
	Items        string `json:"items,omitempty"`
	AccountField string `json:"account_field,omitempty"`
	// The item filters, applied to each item of the list Items points to
	// (see itemFilters): Detail drops fields a consent without a detail
	// permission may not see, Direction drops credits or debits it may not
	// see, Window drops items outside its transaction window (and clamps
	// the query that asks for them), Mask masks card numbers it may not see.
	Detail    *DetailFilter    `json:"detail,omitempty"`
	Direction *DirectionFilter `json:"direction,omitempty"`
	Window    *WindowFilter    `json:"window,omitempty"`
	Mask      *MaskFilter      `json:"mask,omitempty"`
}

// DetailFilter: a consent granting none of AnyOf sees each item without
// Fields (UK Basic permissions: no account identification, no
// counterparty details).
type DetailFilter struct {
	AnyOf  []string `json:"any_of"`
	Fields []string `json:"fields"`
}

// DirectionFilter: an item whose Field holds a value Permissions names is
// seen only by a consent granting that permission (UK
// CreditDebitIndicator Credit: ReadTransactionsCredits).
type DirectionFilter struct {
	Field       string            `json:"field"`
	Permissions map[string]string `json:"permissions"`
}

// WindowFilter: a consent with a transaction window sees only the items
// inside it. An item is inside when its date-time Field is (transactions),
// or when both StartField and EndField are (statements: completely
// inside). QueryFrom and QueryTo name the operation's query parameters
// that ask for a period: they are clamped to the window before the host
// is called.
type WindowFilter struct {
	Field      string `json:"field,omitempty"`
	StartField string `json:"start_field,omitempty"`
	EndField   string `json:"end_field,omitempty"`
	QueryFrom  string `json:"query_from,omitempty"`
	QueryTo    string `json:"query_to,omitempty"`
}

// MaskFilter: unless the consent grants Unless, every object within an
// item whose SchemeField is one of Schemes has its Field masked, all but
// its last KeepLast characters (UK: a PAN without ReadPAN).
type MaskFilter struct {
	Unless      string   `json:"unless"`
	SchemeField string   `json:"scheme_field"`
	Schemes     []string `json:"schemes"`
	Field       string   `json:"field"`
	KeepLast    int      `json:"keep_last"`
}

// errorKinds are the kinds of fault a profile names an error code for.
var errorKinds = []string{"field_expected", "field_invalid", "field_invalid_date", "field_missing", "header_invalid",
	"header_missing", "resource_not_found", "invalid_consent_status", "reauthenticate", "consent_out_of_scope", "unexpected"}

//go:embed profiles/*.json
var builtinFiles embed.FS

// Profiles are the consent profiles a Binder picks from, by id. It is
// immutable once made.
type Profiles struct {
	byID  map[string]*Profile
	order []string        // ids, sorted: the order documents are matched in
	own   map[string]bool // the bank's own profiles (Registry); the others are built in
}

// Builtin returns the built-in profiles (profiles/*.json). They are part of
// the binary: one that does not load is a bug, so Builtin panics.
func Builtin() *Profiles {
	ps, err := ParseProfiles(builtinSources()...)
	if err != nil {
		panic("consent: built-in profiles: " + err.Error())
	}
	return ps
}

// builtinSources are the built-in profiles' files.
func builtinSources() [][]byte {
	entries, err := builtinFiles.ReadDir("profiles")
	if err != nil {
		panic(err)
	}
	var sources [][]byte
	for _, e := range entries {
		b, err := builtinFiles.ReadFile(path.Join("profiles", e.Name()))
		if err != nil {
			panic(err)
		}
		sources = append(sources, b)
	}
	return sources
}

// ParseProfiles reads profiles (JSON, one per source), resolves what they
// extend, and checks each, refusing them with every fault named.
func ParseProfiles(sources ...[]byte) (*Profiles, error) {
	raw := map[string]map[string]json.RawMessage{}
	var faults []engine.Violation
	for i, src := range sources {
		var fields map[string]json.RawMessage
		d := json.NewDecoder(bytes.NewReader(src))
		if err := d.Decode(&fields); err != nil {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("/%d", i), Code: "syntax", Message: err.Error()})
			continue
		}
		var id string
		_ = json.Unmarshal(fields["profile_id"], &id)
		if id == "" {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("/%d/profile_id", i), Code: "required", Message: "a profile needs a profile_id"})
			continue
		}
		if _, dup := raw[id]; dup {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("/%d/profile_id", i), Code: "duplicate", Message: "profile " + id + " is given twice"})
			continue
		}
		raw[id] = fields
	}
	ps := &Profiles{byID: map[string]*Profile{}}
	for id := range raw {
		fields, err := resolve(raw, id, 0)
		if err != nil {
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/" + id + "/extends", Code: "extends", Message: err.Error()})
			continue
		}
		b, _ := json.Marshal(fields)
		var p Profile
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&p); err != nil {
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/" + id, Code: "invalid", Message: err.Error()})
			continue
		}
		faults = append(faults, p.check()...)
		ps.byID[id] = &p
		ps.order = append(ps.order, id)
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidProfile, "the consent profile is not valid", faults...)
	}
	sort.Strings(ps.order)
	return ps, nil
}

// resolve is profile id's fields with those it extends filled in.
func resolve(raw map[string]map[string]json.RawMessage, id string, depth int) (map[string]json.RawMessage, error) {
	fields := raw[id]
	var parent string
	_ = json.Unmarshal(fields["extends"], &parent)
	if parent == "" {
		return fields, nil
	}
	if depth > len(raw) {
		return nil, fmt.Errorf("profile %s extends itself", id)
	}
	if _, ok := raw[parent]; !ok {
		return nil, fmt.Errorf("profile %s extends %s, which is not given", id, parent)
	}
	base, err := resolve(raw, parent, depth+1)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(base)
	maps.Copy(out, fields)
	return out, nil
}

// check lists what is wrong with p, each fault at its JSON pointer.
func (p *Profile) check() []engine.Violation {
	var faults []engine.Violation
	fault := func(ptr, code, msg string) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/" + p.ID + ptr, Code: code, Message: msg})
	}
	if p.Standard == "" {
		fault("/standard", "required", "a profile names its standard")
	}
	if len(p.Match.OperationIDs) == 0 {
		fault("/match/operation_ids", "required", "a profile names the operations a document must hold to fit it")
	}
	for _, s := range []Status{AwaitingAuthorisation, Authorised, Rejected, Revoked} {
		if p.Statuses[s] == "" {
			fault("/statuses/"+string(s), "required", "a profile names how status "+string(s)+" is written")
		}
	}
	for _, k := range errorKinds {
		if p.ErrorCodes[k] == "" {
			fault("/error_codes/"+k, "required", "a profile names its standard's error code for "+k)
		}
	}
	for _, perm := range p.Permissions {
		if strings.TrimSpace(p.Descriptions[perm]) == "" {
			fault("/descriptions/"+perm, "required", "a profile says in plain language what permission "+perm+" shows")
		}
	}
	for _, perm := range sortedKeys(p.Descriptions) {
		if !slices.Contains(p.Permissions, perm) {
			fault("/descriptions/"+perm, "unknown_permission", perm+" is not one of the profile's permissions")
		}
	}
	known := func(ptr string, perms []string) {
		for i, perm := range perms {
			if !slices.Contains(p.Permissions, perm) {
				fault(fmt.Sprintf("%s/%d", ptr, i), "unknown_permission", perm+" is not one of the profile's permissions")
			}
		}
	}
	for i, r := range p.Rules {
		if len(r.RequireAny) == 0 {
			fault(fmt.Sprintf("/rules/%d/require_any", i), "required", "a rule names the permissions it requires")
		}
		known(fmt.Sprintf("/rules/%d/if_any", i), r.IfAny)
		known(fmt.Sprintf("/rules/%d/require_any", i), r.RequireAny)
	}
	if p.Renderer != "" && p.Renderer != RendererUKOB && p.Renderer != RendererBerlinGroup {
		fault("/renderer", "enum", fmt.Sprintf("renderer %q is not %s or %s", p.Renderer, RendererUKOB, RendererBerlinGroup))
	}
	if p.QueryDateTimes != "" && p.QueryDateTimes != DateTimesUTCWallClock {
		fault("/query_date_times", "enum", fmt.Sprintf("query_date_times %q is not %s", p.QueryDateTimes, DateTimesUTCWallClock))
	}
	creates := 0
	for _, id := range sortedKeys(p.Operations) {
		b := p.Operations[id]
		ptr := "/operations/" + id
		switch b.Action {
		case ActionCreate:
			creates++
		case ActionFunds, ActionPay:
		case ActionGet, ActionDelete, ActionPayment, ActionPaymentDetails, ActionStatus, ActionStartAuthorisation,
			ActionListAuthorisations, ActionGetAuthorisation, ActionUpdateAuthorisation:
			if b.IDParam == "" {
				fault(ptr+"/id_param", "required", b.Action+" names the path parameter that holds the consent's or payment's id")
			}
			if (b.Action == ActionGetAuthorisation || b.Action == ActionUpdateAuthorisation) && b.AuthorisationParam == "" {
				fault(ptr+"/authorisation_param", "required", b.Action+" names the path parameter that holds the authorisation id")
			}
		case ActionUse:
			if len(b.AnyOf) == 0 {
				fault(ptr+"/any_of", "required", "use names the permissions one of which it needs")
			}
			known(ptr+"/any_of", b.AnyOf)
			checkItems(b, ptr, fault)
			checkFilters(b, ptr, fault, known)
		default:
			fault(ptr+"/action", "enum", fmt.Sprintf("action %q is not one of create, get, delete, use, funds, pay, payment, "+
				"payment-details, status, start_authorisation, list_authorisations, get_authorisation, update_authorisation", b.Action))
		}
	}
	if creates != 1 {
		fault("/operations", "create", fmt.Sprintf("a profile binds exactly one operation to create, not %d", creates))
	}
	return faults
}

// Describe says permission perm in plain language: the profile's
// description, or the permission's own name when it has none.
func (p *Profile) Describe(perm string) string {
	if d := p.Descriptions[perm]; d != "" {
		return d
	}
	return perm
}

// checkItems checks the list binding b, at ptr, declares: a pointer to
// object members, and the field naming each item's account or an item
// filter, or neither.
func checkItems(b Binding, ptr string, fault func(ptr, code, msg string)) {
	filters := b.Detail != nil || b.Direction != nil || b.Window != nil || b.Mask != nil
	switch {
	case b.Items == "" && b.AccountField != "":
		fault(ptr+"/items", "required", "account_field names the account of the items of a list, which items points to")
	case b.Items == "" && filters:
		fault(ptr+"/items", "required", "item filters (detail, direction, window, mask) apply to the items of a list, which items points to")
	case b.Items == "":
	case !itemsPointer.MatchString(b.Items):
		fault(ptr+"/items", "pointer", fmt.Sprintf("items %q is not a JSON pointer to object members (\"/Data/Account\")", b.Items))
	case b.AccountField == "" && !filters:
		fault(ptr+"/account_field", "required", "a list (items) names the field of each item that names its account, or filters its items")
	}
}

// checkFilters checks the item filters binding b, at ptr, declares: each
// names what it reads and only the profile's permissions (known).
func checkFilters(b Binding, ptr string, fault func(ptr, code, msg string), known func(ptr string, perms []string)) {
	if d := b.Detail; d != nil {
		if len(d.AnyOf) == 0 || len(d.Fields) == 0 {
			fault(ptr+"/detail", "required", "detail names the permissions (any_of) that show the fields it names (fields)")
		}
		known(ptr+"/detail/any_of", d.AnyOf)
	}
	if d := b.Direction; d != nil {
		if d.Field == "" || len(d.Permissions) == 0 {
			fault(ptr+"/direction", "required", "direction names the field of each item and the permission each of its values needs")
		}
		for _, v := range sortedKeys(d.Permissions) {
			known(ptr+"/direction/permissions/"+v, []string{d.Permissions[v]})
		}
	}
	if w := b.Window; w != nil && (w.Field == "") == (w.StartField == "" || w.EndField == "") {
		fault(ptr+"/window", "required", "window names the date-time field of each item (field), or its start and end (start_field, end_field)")
	}
	if m := b.Mask; m != nil {
		if m.SchemeField == "" || m.Field == "" || len(m.Schemes) == 0 {
			fault(ptr+"/mask", "required", "mask names the scheme field, the schemes and the field it masks")
		}
		if m.KeepLast < 0 || m.KeepLast > 8 {
			fault(ptr+"/mask/keep_last", "range", "mask keeps 0 to 8 last characters")
		}
		known(ptr+"/mask/unless", []string{m.Unless})
	}
}

// itemsPointer is a JSON pointer of at least one member, none empty or
// badly escaped.
var itemsPointer = regexp.MustCompile(`^(/([^/~]|~[01])+)+$`)

// Get returns the profile with id.
func (ps *Profiles) Get(id string) (*Profile, bool) {
	p, ok := ps.byID[id]
	return p, ok
}

// fits tells whether doc fits p (Match).
func (p *Profile) fits(doc *specs.Document) bool {
	if !strings.HasPrefix(doc.Version, p.Match.InfoVersion) {
		return false
	}
	for _, id := range p.Match.OperationIDs {
		if !slices.ContainsFunc(doc.Operations, func(op *specs.Operation) bool { return op.ID == id }) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
